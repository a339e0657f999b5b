"""Helpers for the hostile-peer tests (test_hostile_*.py): a siptlsd with
a tls: listener and the echo handler, the TLS counters of the SIGUSR1
dump, the daemon's VmRSS, and a background "bystander" that keeps making
ordinary TLS connections and checks each echo while the hostile peers do
their worst. Loopback only; every loop is bounded in time and count.

STLS_HOSTILE_LONG=1 makes the floods last longer (see docs/reliability.md).
Not a test itself (no test_ prefix)."""
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import BUILD, Daemon, check, fail  # noqa: E402,F401

LONG = os.environ.get("STLS_HOSTILE_LONG", "0") == "1"
LOADGEN = os.path.join(BUILD, "bench", "loadgen")


def tls_daemon(core_extra="", tls_extra="", workers=2, nofile=None):
    """(ASan's quarantine is off so that VmRSS shows what the daemon
    holds, not what ASan keeps of freed memory.)"""
    """siptlsd with one tls: and one tcp: listener (echo handler), the
    default certificate only. Returns (daemon, tls_port, tcp_port)."""
    cfg = ("[core]\nlisten = tls:127.0.0.1:0\nlisten = tcp:127.0.0.1:0\n"
           "workers = %d\nhandler = echo\nbackend = udp:127.0.0.1:9\n%s\n"
           "[tls]\n%s\n" % (workers, core_extra, tls_extra))
    d = Daemon(cfg, nofile=nofile, asan=":quarantine_size_mb=0")
    tls = [a for a in d.addrs if a[0] == "tls"][0][2]
    tcp = [a for a in d.addrs if a[0] == "tcp"][0][2]
    return d, tls, tcp


def client_ctx(version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def tls_connect(port, timeout=5.0, ctx=None):
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return (ctx or client_ctx()).wrap_socket(raw)
    except Exception:
        raw.close()
        raise


def tls_echo(s, data):
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    return got == data


def tls_stats(d):
    """The "stats: tls:" counters of a fresh SIGUSR1 dump, plus the
    worker totals under "total_<name>"."""
    n = len(re.findall(r"stats: tls:", d.log()))
    d.p.send_signal(signal.SIGUSR1)
    if not d.wait_log(r"stats: tls:", 5, n + 1):
        fail("no TLS stats after SIGUSR1")
    lines = d.log().split("\n")
    tls = [ln for ln in lines if "stats: tls:" in ln][-1]
    total = [ln for ln in lines if "stats: total:" in ln][-1]
    out = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", tls)}
    for k, v in re.findall(r"([\w-]+)=(\d+)", total):
        out["total_" + k] = int(v)
    return out


def rss_kb(d):
    with open("/proc/%d/status" % d.p.pid) as f:
        m = re.search(r"VmRSS:\s+(\d+)", f.read())
    return int(m.group(1)) if m else -1


class Bystander:
    """Ordinary clients: one thread making a new TLS connection, an echo
    and a close, again and again (at most max_ops, until stop()). Every
    failure is recorded with its reason."""

    def __init__(self, port, max_ops=100000, pause=0.02):
        self.port, self.max_ops, self.pause = port, max_ops, pause
        self.ok, self.errors, self.reasons = 0, 0, []
        self.halt = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        i = 0
        while not self.halt.is_set() and i < self.max_ops:
            i += 1
            msg = b"bystander %d\r\n" % i
            try:
                s = tls_connect(self.port, timeout=10)
                good = tls_echo(s, msg)
                s.close()
            except Exception as e:  # noqa: BLE001 - any failure counts
                good = False
                self.reasons.append(repr(e))
            if good:
                self.ok += 1
            else:
                self.errors += 1
            time.sleep(self.pause)

    def stop(self):
        self.halt.set()
        self.t.join(30)
        return self.ok, self.errors


def report(name, **fields):
    """One machine-readable line per scenario, for docs/reliability.md."""
    print("FIGURES %s %s" % (name, " ".join(
        "%s=%s" % kv for kv in fields.items())), flush=True)


def finish(d):
    """Stops the daemon; checks exit 0 and a clean sanitizer report."""
    rc = d.stop()
    log = d.log()
    check(rc == 0, "daemon exits 0 (no crash)")
    check("AddressSanitizer" not in log and "runtime error:" not in log
          and "ThreadSanitizer" not in log
          and "LeakSanitizer" not in log, "no sanitizer report")
