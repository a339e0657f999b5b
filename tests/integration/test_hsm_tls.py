#!/usr/bin/env python3
"""Private keys that exist only in a real PKCS#11 token (SoftHSM2 through
libp11's pkcs11 engine), end to end with siptlsd:
- certificates for the token keys made with `siptlsctl cert issue --key
  pkcs11:...` from a demo CA;
- TLS 1.2 and 1.3 handshakes with ECDSA P-256 and RSA-2048 token keys
  against openssl s_client and gnutls-cli, keys named as pkcs11: URIs and
  as the seed's /engine: ids;
- mutual TLS both ways: a client certificate checked by a server profile
  whose key is in the token, and siptlsd's outbound TLS presenting a
  client certificate whose key is in the token to a peer that requires
  one;
- a key deleted from the running token: its handshakes fail (counted in
  tls.info hsm_key_failures, logged once), the other profiles keep
  serving, and tls.reload is refused naming the key (old keys stay);
- --check naming the cause: wrong PIN, missing PIN, absent token, unknown
  label, unknown engine, unreadable engine_config, key/certificate
  mismatch, and the seed's engine_config with a PIN readable by others."""
import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(__file__))
from daemon_util import Daemon, SIPTLSD, check, fail, test_pki  # noqa: E402
from hsm_util import PIN, Token, uri  # noqa: E402
from relay_util import (Backend, Stream, request, response,  # noqa: E402
                        tls_client, uri_of, hostport_of)

AOR = "sip:alice@example.test"
V12 = ("-tls1_2", "NORMAL:-VERS-ALL:+VERS-TLS1.2")
V13 = ("-tls1_3", "NORMAL:-VERS-ALL:+VERS-TLS1.3")


def s_client(port, name, ca, version, *extra, verify_name=None):
    r = subprocess.run(["openssl", "s_client", "-connect",
                        "127.0.0.1:%d" % port, "-servername", name,
                        "-CAfile", ca, "-verify_return_error",
                        "-verify_hostname", verify_name or name, "-brief",
                        version]
                       + list(extra), input=b"", capture_output=True,
                       timeout=30)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def gnutls_cli(port, name, ca, prio):
    r = subprocess.run(["gnutls-cli", "--x509cafile", ca, "-p", str(port),
                        "--sni-hostname", name, "--verify-hostname", name,
                        "--priority", prio, "127.0.0.1"],
                       input=b"", capture_output=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


class MtlsPeer(threading.Thread):
    """A carrier's SIP TLS server that requires a client certificate from
    the demo CA; records the client certificate's subject."""

    def __init__(self, cert, key, ca, version):
        super().__init__(daemon=True)
        import socket
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.ctx.load_verify_locations(ca)
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.ctx.minimum_version = self.ctx.maximum_version = version
        self.subjects = []
        self.versions = []
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.ls.settimeout(10)
        self.port = self.ls.getsockname()[1]
        self.start()

    def run(self):
        try:
            raw, _ = self.ls.accept()
            s = self.ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError) as e:
            self.subjects.append("error: %s" % e)
            return
        subj = dict(x[0] for x in s.getpeercert()["subject"])
        self.subjects.append(subj.get("commonName"))
        self.versions.append(s.version())
        st = Stream(s)
        m = st.read(5.0)
        if m is not None and m.is_request:
            st.send(response(m, 200, "OK", to_tag="c1"))
        st.read(0.5)
        st.close()

    def close(self):
        self.ls.close()
        self.join(5)


def make_pki(tok):
    tok.make_ca()
    certs = {}
    certs["ec"] = tok.issue("server", "ec.example.test", "ec")
    certs["rsa"] = tok.issue("server", "rsa.example.test", "rsa")
    certs["cec"] = tok.issue("client", "edge-client", "cec")
    certs["file"] = tok.issue("server", "file.example.test")
    certs["phone"] = tok.issue("client", "phone")
    certs["carrier"] = tok.issue("server", "carrier.example.test")
    return certs


def tls_cfg(tok, certs):
    return """[server:default]
certificate = %(ec)s
private_key = %(ecid)s
[server:any]
server_name = rsa.example.test
certificate = %(rsa)s
private_key = /engine:%(rsaid)s
[server:any]
server_name = mtls.example.test
certificate = %(ec)s
private_key = %(ecid)s
verify_client = on
ca_list = %(ca)s
[server:any]
server_name = file.example.test
certificate = %(file)s
private_key = %(filek)s
[client:default]
certificate = %(cec)s
private_key = %(cecid)s
verify_certificate = yes
ca_list = %(ca)s
""" % {"ec": certs["ec"][0], "ecid": certs["ec"][1],
       "rsa": certs["rsa"][0], "rsaid": certs["rsa"][1],
       "file": certs["file"][0], "filek": certs["file"][1],
       "cec": certs["cec"][0], "cecid": certs["cec"][1], "ca": tok.ca}


def main_cfg(tok, be_port, engine_cnf=None):
    return """[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:%d
workers = 2
handshake_timeout = 5
rpc_socket = @TMP@/run/ctl.sock
[tls]
engine = pkcs11
engine_config = %s
config = @TMP@/tls.cfg
""" % (be_port, engine_cnf or tok.engine_cnf)


def ctl(d, *args):
    r = subprocess.run([os.path.join(os.path.dirname(SIPTLSD),
                                     "siptlsctl"), "-s",
                        os.path.join(d.tmp, "run", "ctl.sock")]
                       + list(args), capture_output=True, text=True,
                       timeout=30)
    return r.returncode, r.stdout, r.stderr


def test_handshakes(port, ca):
    for name, sig in (("ec.example.test", "ECDSA"),
                      ("rsa.example.test", "RSA-PSS")):
        for v, prio in (V12, V13):
            rc, out = s_client(port, name, ca, v)
            check(rc == 0 and "Verification: OK" in out and
                  ("TLSv1.3" if v == "-tls1_3" else "TLSv1.2") in out,
                  "s_client %s %s: handshake with the token key" %
                  (v, name))
            if v == "-tls1_3":
                check(sig in out, "%s: peer signature %s" % (name, sig))
            rc, out = gnutls_cli(port, name, ca, prio)
            check(rc == 0 and "Handshake was completed" in out,
                  "gnutls-cli %s %s: handshake with the token key" %
                  (prio.split("+")[-1], name))


def test_mtls_inbound(port, ca, certs):
    cert, key = certs["phone"]
    for v, _ in (V12, V13):
        rc, out = s_client(port, "mtls.example.test", ca, v, "-cert",
                           cert, "-key", key,
                           verify_name="ec.example.test")
        check(rc == 0 and "Verification: OK" in out,
              "mutual TLS in %s: client certificate accepted by a server "
              "key in the token" % v)
    # Without a client certificate the server refuses (verify_client=on).
    rc, out = s_client(port, "mtls.example.test", ca, "-tls1_2",
                       verify_name="ec.example.test")
    check(rc != 0, "mutual TLS: no client certificate, the handshake is "
          "refused: " + out.strip().splitlines()[-1])


def register(be, port, ca):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    import socket
    raw = socket.create_connection(("127.0.0.1", port), 5)
    ua = Stream(ctx.wrap_socket(raw, server_hostname="ec.example.test"))
    ua.send(request("REGISTER", "sips:example.test", "TLS 10.0.0.7:5061",
                    "reg-hsm", 1, AOR, AOR,
                    extra=[("Contact", "<sips:alice@10.0.0.7:5061>")]))
    m = be.wait(lambda m: m.method == "REGISTER", 8)
    check(m is not None, "REGISTER through the token-keyed listener")
    r = ua.read(5.0)
    check(r is not None and r.status == 200, "REGISTER 200")
    return ua


def test_mtls_outbound(be, certs, ca):
    cert, key = certs["carrier"]
    inside = hostport_of(uri_of(be.bindings[AOR][1][0]))
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        peer = MtlsPeer(cert, key, ca, version)
        cid = "out-%s" % version.name
        be.send(request("MESSAGE", "sips:peer@127.0.0.1:%d" % peer.port,
                        "UDP 127.0.0.1:%d" % be.port, cid, 1,
                        "sip:pbx@example.test", "sip:peer@x",
                        extra=[("X-tls-Server-Name",
                                "carrier.example.test")]), inside)
        r = be.wait(lambda m: not m.is_request and
                    m.get("call-id") == cid, 10)
        peer.close()
        check(peer.subjects == ["edge-client"] and
              r is not None and r.status == 200,
              "outbound mutual TLS %s: the peer verified siptlsd's client "
              "certificate, key in the token (%s)" %
              (version.name, peer.subjects))


def test_key_deleted(d, tok, port, ca):
    tok.delete_key("rsa")
    for i in range(3):
        rc, out = s_client(port, "rsa.example.test", ca, "-tls1_3")
        check(rc != 0, "key deleted from the token: handshake %d fails" % i)
    rc, out = s_client(port, "ec.example.test", ca, "-tls1_3")
    check(rc == 0 and "Verification: OK" in out,
          "the other profiles keep serving")
    rc, out = s_client(port, "file.example.test", ca, "-tls1_2")
    check(rc == 0, "a file-key profile keeps serving")
    rc, out, _ = ctl(d, "tls.info")
    info = json.loads(out)
    check(info["hsm_key_failures"] == 3,
          "tls.info hsm_key_failures = 3 (%s)" % info["hsm_key_failures"])
    check(d.wait_log(r"hsm: TLSs<any:rsa.example.test>: private key "
                     r"operation failed", 5),
          "the failure is logged, naming the profile")
    n = len(re.findall(r"hsm: TLSs<any:rsa", d.log()))
    check(n == 1, "logged once for three failures (%d)" % n)
    gen = info["generation"]
    rc, out, err = ctl(d, "tls.reload")
    check(rc != 0 and "key not found" in err and "object=rsa" in err,
          "tls.reload refused, naming the key: %s" % err.strip()[-200:])
    rc, out, _ = ctl(d, "tls.info")
    check(json.loads(out)["generation"] == gen,
          "failed reload: the running profiles stay")
    rc, out = s_client(port, "ec.example.test", ca, "-tls1_2")
    check(rc == 0, "still serving with the old keys after the reload")


def check_conf(tok, name, tls_text, expect, engine_cnf=None,
               engine="pkcs11"):
    tmp = tempfile.mkdtemp(prefix="stls-hsm-check-")
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write(tls_text)
    conf = os.path.join(tmp, "siptlsd.cfg")
    with open(conf, "w") as f:
        f.write(main_cfg(tok, 9, engine_cnf).replace("@TMP@", tmp)
                .replace("engine = pkcs11", "engine = " + engine))
    r = subprocess.run([SIPTLSD, "-c", conf, "--check"],
                       capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    ok = all(e in out for e in expect)
    check(ok and (r.returncode == 1) == ("error" not in name),
          "--check %s: %s" % (name, " / ".join(expect)) +
          ("" if ok else "\n" + out))
    check(PIN not in out and "LeakSanitizer" not in out,
          "--check %s: no PIN printed, no leak" % name)
    return out


def test_check(tok, certs):
    base = tls_cfg(tok, certs)
    ec = "object=ec"
    check_conf(tok, "wrong label", base.replace(ec, "object=nokey", 1),
               ["key not found", "object=nokey"])
    check_conf(tok, "token absent",
               base.replace("token=siptls-test;object=ec",
                            "token=gone;object=ec", 1),
               ["token absent"])
    bad = tok.engine_config("bad.cnf", "0000", 0o600)
    check_conf(tok, "wrong PIN", base, ["PIN refused", "PIN incorrect"],
               engine_cnf=bad)
    nopin = tok.engine_config("nopin.cnf", None, 0o600)
    check_conf(tok, "missing PIN", base, ["PIN missing"], engine_cnf=nopin)
    check_conf(tok, "unknown engine", base, ["engine not found", "gem"],
               engine="gem")
    check_conf(tok, "unreadable engine_config", base,
               ["engine config unreadable", "nothere.cnf"],
               engine_cnf=os.path.join(tok.dir, "nothere.cnf"))
    check_conf(tok, "mismatch", base.replace("object=rsa", "object=ec", 1),
               ["key does not match the certificate"])
    seed = tok.engine_config("luna.cnf", PIN, 0o644, app="kamailio")
    check_conf(tok, "seed engine_config (no error)", base,
                     ["holds a PIN or password", "mode 0644",
                      "configuration OK"], engine_cnf=seed)


def main():
    tok = Token(keys=(("ec", "EC:prime256v1"), ("rsa", "rsa:2048"),
                      ("cec", "EC:prime256v1")))
    certs = make_pki(tok)
    check(not any(n.endswith((".key",)) and "example" in n and
                  ("ec." in n or "rsa." in n)
                  for n in os.listdir(tok.dir)),
          "no key files for the token keys")
    test_check(tok, certs)
    be = Backend()
    tmp = tempfile.mkdtemp(prefix="stls-hsm-tls-")
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write(tls_cfg(tok, certs))
    d = Daemon(main_cfg(tok, be.port), tmp=tmp)
    try:
        port = [a for a in d.addrs if a[0] == "tls"][0][2]
        test_handshakes(port, tok.ca)
        test_mtls_inbound(port, tok.ca, certs)
        ua = register(be, port, tok.ca)
        test_mtls_outbound(be, certs, tok.ca)
        ua.close()
        test_key_deleted(d, tok, port, tok.ca)
    finally:
        rc = d.stop()
        be.close()
    check(rc == 0, "siptlsd exits 0")
    check("LeakSanitizer" not in d.log(), "no leak at exit")
    check(PIN not in d.log(), "the PIN never reached the log")


if __name__ == "__main__":
    main()
