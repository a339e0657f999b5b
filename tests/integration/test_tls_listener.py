"""tls: listeners of the real siptlsd against TLS peers nobody here wrote
(openssl s_client, gnutls-cli) and Python's ssl module: TLS 1.2 and 1.3,
SNI switching, verify_client with valid, missing and revoked client
certificates, the handshake timeout, close_notify. The echo handler stands
in for the SIP relay so that only the TLS path is under test."""
import os
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon_util import Daemon, check  # noqa: E402
from tls_util import PROFILES, pki, py_client, s_client  # noqa: E402


def base_cfg(extra_core="", tls=""):
    return ("[core]\nlisten = tls:127.0.0.1:0\nworkers = 2\nhandler = echo\nbackend = udp:127.0.0.1:9\n"
            "handshake_timeout = 2\n%s\n[tls]\nconfig = @TMP@/tls.cfg\n%s\n"
            % (extra_core, tls))


def write_tls_cfg(d_tmp, text):
    with open(os.path.join(d_tmp, "tls.cfg"), "w") as f:
        f.write(text)


def start(tls_cfg, tls="", extra_core=""):
    import tempfile
    tmp = tempfile.mkdtemp(prefix="stls-tlsl-")
    write_tls_cfg(tmp, tls_cfg)
    d = Daemon(base_cfg(extra_core, tls), tmp=tmp)
    port = [a for a in d.addrs if a[0] == "tls"][0][2]
    return d, port


def echo_ok(conn):
    conn.sendall(b"OPTIONS\r\n")
    return conn.recv(100) == b"OPTIONS\r\n"


def main():
    d, port = start(PROFILES, tls="send_close_notify = 1\n")
    try:
        for ver, pyver in (("-tls1_3", ssl.TLSVersion.TLSv1_3),
                           ("-tls1_2", ssl.TLSVersion.TLSv1_2)):
            rc, out = s_client(port, ver, "-servername", "sip.example.test")
            check(rc == 0 and "Verify return code: 0" in out,
                  "openssl s_client %s: handshake, certificate verified"
                  % ver)
            c = py_client(port, "sip.example.test", version=pyver)
            check(echo_ok(c) and c.version() == pyver.name.replace(
                "TLSv1_", "TLSv1."), "%s echo (%s)" % (pyver.name,
                                                       c.version()))
            c.close()
        g = subprocess.Popen(
            ["gnutls-cli", "--x509cafile", pki("ca.pem"), "-p", str(port),
             "--sni-hostname", "sip.example.test", "127.0.0.1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        g.stdin.write(b"gnutls\n")
        g.stdin.flush()
        time.sleep(1.0)  # the echo arrives before we close stdin
        out, err = g.communicate(timeout=20)
        out = out.decode(errors="replace")
        check("gnutls" in out and "Handshake was completed" in
              err.decode(errors="replace") + out,
              "gnutls-cli (another TLS stack) echo")

        c = py_client(port, "other.example.test")
        cn = dict(x[0] for x in c.getpeercert()["subject"])["commonName"]
        check(cn == "other.example.test", "SNI other.example.test gets "
              "the [server:any] certificate (%s)" % cn)
        check(echo_ok(c), "echo after SNI switch")
        c.close()
        c = py_client(port, "sip.example.test")
        cn = dict(x[0] for x in c.getpeercert()["subject"])["commonName"]
        check(cn == "sip.example.test", "unknown SNI gets the default")
        c.close()

        c = py_client(port, "mtls.example.test", pki("client.pem"),
                      pki("client.key"))
        check(echo_ok(c), "verify_client=on: valid client certificate")
        c.close()
        for name, cert in (("no", None), ("revoked", "client-revoked"),
                           ("untrusted", "client-untrusted"),
                           ("expired", "client-expired")):
            refused = False
            try:
                c = py_client(port, "mtls.example.test",
                              cert and pki(cert + ".pem"),
                              cert and pki(cert + ".key"))
                c.sendall(b"x")
                refused = c.recv(10) == b""
            except (ssl.SSLError, ConnectionError, OSError):
                refused = True
            check(refused, "verify_client=on: %s client certificate "
                  "refused" % name)

        # Handshake timeout: a TCP connection that never says hello.
        s = socket.create_connection(("127.0.0.1", port), timeout=6)
        t0 = time.time()
        got = s.recv(10)
        check(got == b"" and 1.5 < time.time() - t0 < 5,
              "silent connection closed by handshake_timeout (%.1fs)"
              % (time.time() - t0))
        s.close()
        check(d.stop() == 0, "siptlsd exits 0")
    finally:
        d.kill()

    # close_notify from the daemon when it closes an idle connection.
    d, port = start(PROFILES, tls="send_close_notify = 1\n"
                    "connection_timeout = 1\n")
    try:
        rc, out = s_client(port, "-servername", "sip.example.test",
                           "-msg", "-ign_eof", data=b"")
        check("<<< TLS 1.3, Alert" in out and "close_notify" in out,
              "close_notify received when the idle timeout closes")
    finally:
        d.stop()
    print("1 passed, 0 failed")


main()
