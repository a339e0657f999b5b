"""siptlsd with [core] tls_record_handoff = yes (the default is no), against
clients nobody here wrote: Python's ssl (TLS 1.3 and 1.2, small and large
messages, our close_notify at the idle timeout), openssl s_client (its
KeyUpdates, k and K, with data after each) and gnutls-cli (^rekey^). The
daemon's debug log shows that every connection handed its record layer
off; tls.info shows no fallback and no record-limit close. Then the same
clients against the default (no): nothing is handed off, and the
profile contexts carry no key-log callback (no hand-off line at all).
The echo handler stands in for the SIP relay."""
import os
import select
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from ctl_util import Ctl, base_cfg, tls_port  # noqa: E402
from daemon_util import Daemon, check, test_pki  # noqa: E402

PKI = test_pki()


def pki(name):
    return os.path.join(PKI, name)


def start(handoff):
    core = "debug = 3\nconnection_timeout = 2\n"
    if handoff is not None:
        core += "tls_record_handoff = %s\n" % handoff
    return Daemon(base_cfg(core, "certificate = %s\nprivate_key = %s\n"
                           % (pki("server.pem"), pki("server.key"))))


def py_client(port, version):
    ctx = ssl.create_default_context(cafile=pki("ca.pem"))
    ctx.minimum_version = ctx.maximum_version = version
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(s, server_hostname="sip.example.test",
                           suppress_ragged_eofs=False)


def echo(c, data):
    c.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = c.recv(65536)
        if not chunk:
            break
        got += chunk
    return got == data


def python_run(port):
    """Both versions: echo, a 40 KB message, and our close_notify when
    the idle timeout (2 s) closes the connection."""
    for v in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        c = py_client(port, v)
        big = bytes(range(256)) * 160
        ok = echo(c, b"OPTIONS sip:x SIP/2.0\r\n\r\n") and echo(c, big)
        check(ok, "%s: echo of a short and a 40 KB message" % c.version())
        try:
            closed = c.recv(10) == b""  # blocks until the idle close
        except ssl.SSLEOFError:
            closed = False
        check(closed, "%s: the idle close comes with close_notify"
              % c.version())
        c.close()


class Child:
    """A client process whose stdin we type into and whose output
    (stdout and stderr) we wait on; every wait is bounded."""

    def __init__(self, argv):
        self.p = subprocess.Popen(["timeout", "60"] + argv,
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        os.set_blocking(self.p.stdout.fileno(), False)
        self.out = ""

    def type(self, line):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def wait_for(self, text, count=1, timeout=15):
        end = time.time() + timeout
        while self.out.count(text) < count and time.time() < end:
            select.select([self.p.stdout], [], [], 0.1)
            chunk = self.p.stdout.read()
            if chunk:
                self.out += chunk.decode(errors="replace")
        return self.out.count(text) >= count

    def end(self):
        self.p.stdin.close()
        try:
            self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def s_client_run(port):
    """s_client's KeyUpdates (k: its own, K: ours asked for too), each
    followed by a line the daemon echoes. One command per line, and the
    next line only once the last one took effect (a command read
    together with other input would be sent as data)."""
    c = Child(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
               "-servername", "sip.example.test", "-CAfile", pki("ca.pem"),
               "-verify_return_error", "-tls1_3"])
    ok = c.wait_for("Verify return code: 0")
    for line, marker, n in (("first", "first", 1), ("k", "KEYUPDATE", 1),
                            ("after-k", "after-k", 1),
                            ("K", "KEYUPDATE", 2),
                            ("after-K", "after-K", 1)):
        c.type(line)
        ok = ok and c.wait_for(marker, n)
    c.end()
    check(ok, "openssl s_client: both KeyUpdates, data echoed after each")


def gnutls_run(port):
    c = Child(["gnutls-cli", "--x509cafile", pki("ca.pem"), "-p", str(port),
               "--sni-hostname", "sip.example.test", "--inline-commands",
               "127.0.0.1"])
    ok = c.wait_for("Handshake was completed")
    for line in ("one", "^rekey^", "two", "^rekey1^", "three"):
        c.type(line)
        if line.startswith("^"):
            time.sleep(0.3)  # an inline command alone in its read()
        else:
            ok = ok and c.wait_for(line)
    c.end()
    check(ok and "^rekey" not in c.out,
          "gnutls-cli: data echoed around two rekeys")


def main():
    d = start("yes")
    try:
        port = tls_port(d)
        python_run(port)
        s_client_run(port)
        gnutls_run(port)
        n = d.log().count("record layer handed off")
        # 2 Python connections, s_client, gnutls-cli.
        check(n >= 4, "every connection handed off (%d)" % n)
        info = Ctl(d).call("tls.info")
        check(info["record_handoff_fallbacks"] == 0 and
              info["record_warning_alert_closes"] == 0 and
              info["record_empty_record_closes"] == 0 and
              info["record_key_limit_closes"] == 0,
              "tls.info: no fallback, no record-limit close")
        check(d.stop() == 0, "siptlsd exits 0")
    finally:
        d.kill()

    d = start(None)
    try:
        port = tls_port(d)
        python_run(port)
        s_client_run(port)
        check("record layer handed off" not in d.log() and
              "keeping the SSL" not in d.log(),
              "the default (no): nothing handed off, no context prepared")
        check(Ctl(d).call("tls.info")["record_handoff_fallbacks"] == 0,
              "tls.info: no fallback")
        check(d.stop() == 0, "siptlsd exits 0")
    finally:
        d.kill()
    print("1 passed, 0 failed")


main()
