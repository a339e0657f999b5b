#!/usr/bin/env python3
"""Writes the seed corpus of fuzz/fuzz_tls_engine.c: real TLS flights
recorded from in-memory handshakes (Python's ssl over memory BIOs, the
system OpenSSL), each prefixed with the target's mode byte.

    scripts/gen-tls-seeds.py OUT_DIR

Mode 0 (server engine) gets ClientHellos: TLS 1.3, TLS 1.2-only, with and
without SNI, with ALPN. Mode 1 (client engine) gets the server's first
flight for TLS 1.2 (clear up to Finished) and TLS 1.3. Mode 2 (split) gets
the same streams with a role byte and a split seed. A throw-away EC
certificate is made with the openssl command. Nothing leaves the process.
"""
import os
import ssl
import subprocess
import sys
import tempfile


def make_cert(tmp):
    key = os.path.join(tmp, "k.pem")
    crt = os.path.join(tmp, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", crt, "-days", "3650",
                    "-subj", "/CN=seed.test"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return crt, key


def flights(crt, key, version, sni, alpn):
    """Client's first flight, server's first flight, client's second."""
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(crt, key)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    for ctx in (sctx, cctx):
        ctx.minimum_version = version
        ctx.maximum_version = version
    if alpn:
        cctx.set_alpn_protocols(["sip", "h2"])
    cin, cout, sin, sout = (ssl.MemoryBIO() for _ in range(4))
    c = cctx.wrap_bio(cin, cout, server_hostname=sni)
    s = sctx.wrap_bio(sin, sout, server_side=True)
    out = []
    for side, src, dst in ((c, cout, sin), (s, sout, cin),
                           (c, cout, sin)):
        try:
            side.do_handshake()
        except ssl.SSLWantReadError:
            pass
        data = src.read()
        out.append(data)
        dst.write(data)
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen-tls-seeds.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="stls-seeds-")
    crt, key = make_cert(tmp)
    v12, v13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
    cases = [
        ("tls13-sni", v13, "sni.fuzz.test", False),
        ("tls13-nosni", v13, None, False),
        ("tls12-sni", v12, "sip.example.test", True),
        ("tls12-nosni", v12, None, False),
    ]
    for name, ver, sni, alpn in cases:
        ch, sf, cf = flights(crt, key, ver, sni, alpn)
        seeds = {
            "server-ch-" + name: b"\x00" + ch,
            "server-ch-then-finished-" + name: b"\x00" + ch + cf,
            "client-flight-" + name: b"\x01" + sf,
            "split-server-" + name: b"\x02\x00\x2a" + ch + cf,
            "split-client-" + name: b"\x02\x01\x07" + sf,
        }
        for fname, blob in seeds.items():
            with open(os.path.join(out_dir, fname), "wb") as f:
                f.write(blob)
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
    print("wrote %d seeds to %s" % (len(cases) * 5, out_dir))


if __name__ == "__main__":
    main()
