"""CRL update at run time, the operator's way: a CA, a server and two
client certificates made with `siptlsctl cert`; siptlsd requires client
certificates checked against the CA and its CRL. Then `siptlsctl cert
revoke` + `cert crl` rewrite the CRL and `siptlsctl tls.reload` applies
it: the revoked client is refused on its next connection while its
existing connection stays up, and the other client is unaffected."""
import os
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import check, fail  # noqa: E402
from ctl_util import (SIPTLSCTL, Ctl, Daemon, base_cfg,  # noqa: E402
                      client_ctx, echo, tls_connect, tls_port)


def cert(*args):
    r = subprocess.run([SIPTLSCTL, "cert"] + list(args), capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        fail("siptlsctl cert %s: %s" % (" ".join(args), r.stderr))


def client(pki, name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(os.path.join(pki, "ca", "ca.pem"))
    ctx.load_cert_chain(os.path.join(pki, name + ".pem"),
                        os.path.join(pki, name + ".key"))
    return ctx


def refused(port, ctx):
    """True when the server refuses the client (in TLS 1.3 the client
    learns it at its first read after the handshake)."""
    try:
        s = tls_connect(port, ctx)
        ok = echo(s, b"ping")
        s.close()
        return not ok
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return True


def main():
    tmp = tempfile.mkdtemp(prefix="stls-crl-")
    pki = os.path.join(tmp, "pki")
    os.mkdir(pki)
    cert("ca", "init", os.path.join(pki, "ca"), "--subject", "/O=T/CN=T CA")
    cert("issue", "server", "srv", "--ca", os.path.join(pki, "ca"),
         "--ip", "127.0.0.1", "--out", pki)
    for name in ("alice", "bob"):
        cert("issue", "client", name, "--ca", os.path.join(pki, "ca"),
             "--out", pki)
    crl = os.path.join(pki, "crl.pem")
    cert("crl", "--ca", os.path.join(pki, "ca"), "--out", crl)
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write("[server:default]\ncertificate = %s/srv.pem\n"
                "private_key = %s/srv.key\nca_list = %s/ca/ca.pem\n"
                "crl = %s\nverify_certificate = 1\n"
                "require_certificate = 1\n" % (pki, pki, pki, crl))
    d = Daemon(base_cfg(tls_extra="config = tls.cfg\n"), tmp=tmp)
    ctl = Ctl(d)
    port = tls_port(d)
    try:
        alice = tls_connect(port, client(pki, "alice"))
        check(echo(alice, b"hello"), "alice connects (CRL: none revoked)")
        e = [x for x in ctl.call("tls.list")
             if x["src_port"] == alice.getsockname()[1]][0]
        check(e["verified"] == 1 and "alice" in e["peer_subject"],
              "tls.list: alice verified, her subject shown")
        check(refused(port, client_ctx()),
              "a client without a certificate is refused")
        cert("revoke", os.path.join(pki, "alice.pem"), "--ca",
             os.path.join(pki, "ca"), "--reason", "keyCompromise")
        cert("crl", "--ca", os.path.join(pki, "ca"), "--out", crl)
        check(not refused(port, client(pki, "alice")),
              "before tls.reload the old CRL still applies")
        gen = ctl.call("tls.reload")["generation"]
        check(gen == 2, "tls.reload after the CRL update: generation 2")
        vf = ctl.call("tls.info")["verify_failures"]
        check(refused(port, client(pki, "alice")),
              "revoked alice is refused on a new connection")
        check(ctl.call("tls.info")["verify_failures"] == vf + 1,
              "tls.info counts the verification failure")
        check(echo(alice, b"still up"),
              "alice's existing connection stays up")
        check(not refused(port, client(pki, "bob")), "bob still connects")
        gens = sorted(x["generation"] for x in ctl.call("tls.list"))
        check(gens == [1], "alice's connection keeps generation 1 (%s)"
              % gens)
        alice.close()
    finally:
        rc = d.stop()
    check(rc == 0, "siptlsd exits 0")


if __name__ == "__main__":
    main()
