"""Certificates made by `siptlsctl cert` work with peers nobody here wrote:
`openssl verify` accepts them, and gnutls-cli (another TLS stack) runs a
mutual-TLS session with siptlsd using them, verifying the server by name,
and gets a 200 to an OPTIONS addressed to siptlsd."""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon_util import BUILD, Daemon, check  # noqa: E402

CTL = os.path.join(BUILD, "siptlsctl")


def cert(*args):
    r = subprocess.run([CTL, "cert"] + list(args), capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 0, "siptlsctl cert %s" % " ".join(args[:2]))


def main():
    tmp = tempfile.mkdtemp(prefix="stls-certio-")
    ca = os.path.join(tmp, "ca")
    cert("ca", "init", ca, "--subject", "/O=Interop/CN=Interop CA")
    cert("issue", "server", "edge", "--ca", ca, "--dns", "sip.interop.test",
         "--uri", "sip:interop.test", "--ip", "127.0.0.1", "--out", tmp)
    cert("issue", "client", "phone", "--ca", ca, "--uri",
         "sip:phone@interop.test", "--out", tmp)
    p = lambda n: os.path.join(tmp, n)  # noqa: E731
    for name in ("edge.pem", "phone.pem"):
        r = subprocess.run(["openssl", "verify", "-CAfile",
                            os.path.join(ca, "ca.pem"), p(name)],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0 and "OK" in r.stdout,
              "openssl verify accepts %s" % name)
    d = Daemon("[core]\nlisten = tls:127.0.0.1:0\nbackend = "
               "udp:127.0.0.1:9\nworkers = 1\n[tls]\ncertificate = %s\n"
               "private_key = %s\nca_list = %s\nverify_client = on\n"
               % (p("edge.pem"), p("edge.key"), os.path.join(ca, "ca.pem")),
               tmp=tmp)
    try:
        port = [a for a in d.addrs if a[0] == "tls"][0][2]
        req = ("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n"
               "Via: SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bK-gnutls1\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:phone@interop.test>;tag=1\r\n"
               "To: <sip:127.0.0.1>\r\nCall-ID: gnutls-interop-1\r\n"
               "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % port)
        g = subprocess.Popen(
            ["gnutls-cli", "--x509cafile", os.path.join(ca, "ca.pem"),
             "--x509certfile", p("phone.pem"), "--x509keyfile",
             p("phone.key"), "-p", str(port), "--sni-hostname",
             "sip.interop.test", "--verify-hostname", "sip.interop.test",
             "127.0.0.1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        g.stdin.write(req.encode())
        g.stdin.flush()
        time.sleep(1.5)
        out, err = g.communicate(timeout=20)
        out = out.decode(errors="replace")
        err = err.decode(errors="replace")
        check("The certificate is trusted" in out + err,
              "gnutls-cli trusts the siptlsctl-issued server certificate")
        check("SIP/2.0 200" in out,
              "mutual TLS with the siptlsctl-issued client certificate: "
              "200 to OPTIONS")
        check(d.stop() == 0, "siptlsd exits 0")
    finally:
        d.kill()
    print("1 passed, 0 failed")


main()
