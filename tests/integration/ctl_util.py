"""Helpers for the control-plane integration tests: a siptlsd with a
control socket, siptlsctl calls, TLS clients. Loopback only, every wait
bounded. Not a test itself (no test_ prefix)."""
import json
import os
import socket
import ssl
import subprocess

from daemon_util import BUILD, Daemon, fail, test_pki

SIPTLSCTL = os.path.join(BUILD, "siptlsctl")


def base_cfg(extra="", tls_extra="", workers=2):
    """A main config: tls: and tcp: listeners on free ports, echo handler,
    control socket in @TMP@/run/ (created by the daemon)."""
    return ("[core]\nlisten = tls:127.0.0.1:0\nlisten = tcp:127.0.0.1:0\n"
            "backend = udp:127.0.0.1:9\nhandler = echo\nworkers = %d\n"
            "rpc_socket = @TMP@/run/ctl.sock\n%s\n[tls]\n%s\n"
            % (workers, extra, tls_extra))


class Ctl:
    """siptlsctl bound to one daemon's socket."""

    def __init__(self, daemon):
        self.d = daemon
        self.sock = os.path.join(daemon.tmp, "run", "ctl.sock")

    def run(self, *args, table=False):
        """Returns (exit status, stdout, stderr)."""
        cmd = [SIPTLSCTL, "-s", self.sock, "-w", "20"]
        if table:
            cmd.append("-t")
        r = subprocess.run(cmd + [str(a) for a in args], capture_output=True,
                           text=True, timeout=30)
        return r.returncode, r.stdout, r.stderr

    def call(self, *args):
        """The JSON result, or fail()."""
        rc, out, err = self.run(*args)
        if rc != 0:
            fail("siptlsctl %s: exit %d: %s" % (" ".join(map(str, args)),
                                                 rc, err))
        return json.loads(out)


class RawCtl:
    """A persistent JSON-RPC connection (for loops of many calls)."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(20)
        self.s.connect(path)
        self.f = self.s.makefile("rb")
        self.n = 0

    def call(self, method, *params):
        self.n += 1
        req = {"jsonrpc": "2.0", "method": method, "params": list(params),
               "id": self.n}
        self.s.sendall(json.dumps(req).encode() + b"\n")
        line = self.f.readline()
        if not line:
            fail("control socket closed")
        return json.loads(line)

    def close(self):
        self.f.close()
        self.s.close()


def tls_port(d):
    return [a for a in d.addrs if a[0] == "tls"][0][2]


def tcp_port(d):
    return [a for a in d.addrs if a[0] == "tcp"][0][2]


def client_ctx(cert=None, key=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert:
        pki = test_pki()
        ctx.load_cert_chain(os.path.join(pki, cert), os.path.join(pki, key))
    return ctx


def tls_connect(port, ctx=None, timeout=10.0):
    """A TLS connection to 127.0.0.1:port (handshake done)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s = (ctx or client_ctx()).wrap_socket(raw, suppress_ragged_eofs=False)
    return s


def echo(s, data):
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    return got == data


__all__ = ["Ctl", "RawCtl", "Daemon", "base_cfg", "tls_port", "tcp_port",
           "client_ctx", "tls_connect", "echo", "SIPTLSCTL"]
