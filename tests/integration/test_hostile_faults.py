# ctest-serial: timing- and memory-sensitive, runs alone
"""Faulty peers and faults around siptlsd (tls: listener, echo handler),
each while ordinary clients keep being served:

  never_read  peers that send without ever reading: closed by send_timeout
              (or the overflow cap), memory bounded (VmRSS sampled);
  rst_storm   resets (SO_LINGER 0) mid-handshake and mid-stream, half-open
              peers (silent, or shutdown(SHUT_WR) after data): every one
              closed and counted, nothing left open;
  fd_limit    out of descriptors: accept backs off, established TLS
              connections keep working, new handshakes succeed after;
  low_memory  low_mem_threshold1 above the free memory: new TLS
              connections refused and counted, the tcp: listener served;
  sighup      a SIGHUP every 50 ms during a handshake flood, each a
              real reload (generations logged in increasing order);
  backend     the tcp: backend goes away and comes back: the workers
              reconnect (backend_connects), TLS clients unaffected.

The daemon exits 0 and the sanitizers report nothing after each case.
Each scenario prints a FIGURES line (docs/reliability.md)."""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile_util import (LOADGEN, LONG, Bystander, check, finish,  # noqa: E402
                          report, rss_kb, tls_connect, tls_daemon, tls_echo,
                          tls_stats)
from daemon_util import SOURCE, Daemon, closed_within, echo  # noqa: E402


def wait_open_zero(d, secs=10):
    end = time.time() + secs
    st = tls_stats(d)
    while time.time() < end and (st["total_open"] or st["tls_connections"]):
        time.sleep(0.3)
        st = tls_stats(d)
    return st


def hog(port, stop, res, k):
    """Sends 64 KiB chunks and never reads, until the daemon gives up."""
    try:
        s = tls_connect(port, timeout=2)
    except OSError:
        res[k] = "connect failed"
        return
    chunk, sent = b"x" * 65536, 0
    s.settimeout(1)
    end = time.time() + 30
    while not stop.is_set() and time.time() < end:
        try:
            sent += s.send(chunk)
        except socket.timeout:
            continue
        except OSError:
            break
    res[k] = sent
    s.close()


def never_read():
    n = 8
    d, port, _ = tls_daemon("send_timeout = 2\nsend_high_water = 65536\n"
                            "send_low_water = 16384\n")
    try:
        b = Bystander(port)
        rss0 = rss_kb(d)
        stop, res = threading.Event(), [None] * n
        th = [threading.Thread(target=hog, args=(port, stop, res, k),
                               daemon=True) for k in range(n)]
        for t in th:
            t.start()
        peak, t0 = rss0, time.time()
        while any(t.is_alive() for t in th) and time.time() - t0 < 25:
            peak = max(peak, rss_kb(d))
            time.sleep(0.2)
        took = time.time() - t0
        stop.set()
        for t in th:
            t.join(5)
        ok, errs = b.stop()
        st = wait_open_zero(d)
        rss1 = rss_kb(d)
        closed = st.get("total_closed_send-timeout", 0) + \
            st.get("total_closed_overflow", 0)
        check(all(isinstance(r, int) for r in res) and took < 20,
              "never_read: %d hogs cut off within %.1f s (sent %s KiB)"
              % (n, took, [r // 1024 for r in res if isinstance(r, int)]))
        check(closed >= n, "never_read: counted send-timeout/overflow=%d"
              % closed)
        check(peak - rss0 < 64 * 1024,
              "never_read: VmRSS %d -> peak %d -> %d KiB" %
              (rss0, peak, rss1))
        check(ok > 0 and errs == 0,
              "never_read: bystander %d ok, %d failed" % (ok, errs))
        report("never_read", peers=n, seconds="%.1f" % took,
               closed_send_timeout=st.get("total_closed_send-timeout", 0),
               closed_overflow=st.get("total_closed_overflow", 0),
               rss_before_kb=rss0, rss_peak_kb=peak, rss_after_kb=rss1,
               bystander_ok=ok, bystander_failed=errs)
        finish(d)
    finally:
        d.kill()


def rst(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                 struct.pack("ii", 1, 0))
    s.close()


def client_hello():
    with open(os.path.join(SOURCE, "fuzz", "corpus", "tls_engine",
                           "server-ch-tls13-sni"), "rb") as f:
        return f.read()[1:]


def rst_storm():
    n = 400 if LONG else 100
    d, port, _ = tls_daemon("handshake_timeout = 3\n")
    try:
        b = Bystander(port)
        hello = client_hello()
        rss0 = rss_kb(d)
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if i % 2:
                s.sendall(hello[: 10 + i % 100])  # mid-handshake
                rst(s)
            else:
                t = tls_connect(port)  # mid-stream
                t.sendall(b"data in flight\r\n" * 100)
                rst(t)
                rst(s)
        silent = [socket.create_connection(("127.0.0.1", port), timeout=5)
                  for _ in range(10)]
        half = []
        for _ in range(10):
            t = tls_connect(port)
            t.sendall(b"before half close\r\n")
            t.recv(100)
            t.shutdown(socket.SHUT_WR)
            half.append(t)
        half_closed = [closed_within(t, 5) for t in half]
        silent_closed = [closed_within(s, 6) for s in silent]
        ok, errs = b.stop()
        st = wait_open_zero(d)
        rss1 = rss_kb(d)
        check(all(half_closed), "rst_storm: 10 half-closed peers closed")
        check(all(silent_closed),
              "rst_storm: 10 silent half-open peers closed by the "
              "handshake timeout")
        check(st["total_open"] == 0 and st["tls_connections"] == 0,
              "rst_storm: nothing left open")
        check(ok > 0 and errs == 0,
              "rst_storm: bystander %d ok, %d failed" % (ok, errs))
        report("rst_storm", resets=n + n // 2, half_open=20,
               accepted=st["total_accepted"],
               closed_read_error=st.get("total_closed_read-error", 0),
               closed_handshake_timeout=st.get(
                   "total_closed_handshake-timeout", 0),
               handshake_failures=st["handshake_failures"],
               rss_before_kb=rss0, rss_after_kb=rss1,
               bystander_ok=ok, bystander_failed=errs)
        for s in silent + half:
            s.close()
        finish(d)
    finally:
        d.kill()


def fd_limit():
    d, port, _ = tls_daemon("max_connections = 1000\naccept_backoff = 50\n"
                            "handshake_timeout = 20\n", workers=1,
                            nofile=(64, 64))
    try:
        kept = [tls_connect(port) for _ in range(5)]
        hogs = [socket.create_connection(("127.0.0.1", port), timeout=5)
                for _ in range(90)]
        check(d.wait_log(r"pausing accept", 10),
              "fd_limit: accept backs off")
        served = all(tls_echo(s, b"during exhaustion") for s in kept)
        for s in hogs:
            s.close()
        time.sleep(0.5)
        fresh = 0
        for _ in range(20):
            s = tls_connect(port, timeout=10)
            fresh += tls_echo(s, b"after")
            s.close()
        st = tls_stats(d)
        check(served, "fd_limit: established TLS connections served "
              "during the exhaustion")
        check(fresh == 20, "fd_limit: 20 new handshakes after recovery")
        check(st["total_accept_backoff"] >= 1,
              "fd_limit: accept_backoff=%d" % st["total_accept_backoff"])
        report("fd_limit", nofile=64, hogs=90, kept_served=int(served),
               fresh_ok=fresh, accept_backoff=st["total_accept_backoff"])
        for s in kept:
            s.close()
        finish(d)
    finally:
        d.kill()


def low_memory():
    d, port, tcp = tls_daemon(tls_extra="low_mem_threshold1 = 1073741824\n")
    try:
        plain = socket.create_connection(("127.0.0.1", tcp), timeout=5)
        refused = 0
        for _ in range(20):
            try:
                s = tls_connect(port, timeout=5)
                s.close()
            except (OSError, ConnectionError):
                refused += 1
        served = echo(plain, b"served while memory is low")
        st = tls_stats(d)
        check(refused == 20, "low_memory: 20 new TLS connections refused")
        check(st["low_memory_refused"] == 20,
              "low_memory: low_memory_refused=%d" %
              st["low_memory_refused"])
        check(served, "low_memory: the tcp: connection keeps being served")
        report("low_memory", attempts=20, refused=refused,
               low_memory_refused=st["low_memory_refused"],
               other_served=int(served))
        plain.close()
        finish(d)
    finally:
        d.kill()


def sighup():
    secs = 30 if LONG else 6
    d, port, _ = tls_daemon()
    try:
        b = Bystander(port)
        lg = subprocess.Popen(
            [LOADGEN, "-m", "handshake", "-t", "127.0.0.1:%d" % port,
             "-c", "16", "-d", str(secs), "--no-verify", "-T", "10"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        hups = 0
        while lg.poll() is None and hups < secs * 40:
            d.p.send_signal(signal.SIGHUP)
            hups += 1
            time.sleep(0.05)
        out = lg.communicate(timeout=60)[0]
        ok, errs = b.stop()
        res = [ln for ln in out.split("\n") if ln.startswith("RESULT")]
        kv = dict(f.split("=", 1) for f in res[0].split()[1:]) if res \
            else {"ops": "0", "errors": "-1"}
        check(int(kv["ops"]) > 0 and kv["errors"] == "0",
              "sighup: %s handshakes during %d SIGHUPs, no errors"
              % (kv["ops"], hups))
        check(ok > 0 and errs == 0,
              "sighup: bystander %d ok, %d failed" % (ok, errs))
        # Each SIGHUP is a real reload (the control plane's build and
        # swap): generations logged in increasing order, none failed.
        d.wait_log(r"TLS profiles reloaded", 10, hups)
        gens = [int(g) for g in re.findall(
            r"TLS profiles reloaded: generation (\d+)", d.log())]
        check(len(gens) >= hups // 2 and gens == sorted(set(gens)) and
              gens[0] >= 2 and "reload failed" not in d.log(),
              "sighup: %d reloads logged, generations %s..%s increasing, "
              "none failed" % (len(gens), gens[0] if gens else "-",
                               gens[-1] if gens else "-"))
        report("sighup", sighups=hups, reloads=len(gens),
               generation=gens[-1], handshakes=kv["ops"],
               loadgen_errors=kv["errors"], bystander_ok=ok,
               bystander_failed=errs)
        finish(d)
    finally:
        d.kill()


class Backend:
    """A tcp: backend on a fixed port that accepts and holds sockets."""

    def __init__(self, port=0):
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", port))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.conns, self.halt = [], threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        self.ls.settimeout(0.1)
        while not self.halt.is_set():
            try:
                self.conns.append(self.ls.accept()[0])
            except OSError:
                continue

    def stop(self):
        self.halt.set()
        self.t.join(5)
        for c in self.conns:
            c.close()
        self.ls.close()


def backend():
    be = Backend()
    cfg = ("[core]\nlisten = tls:127.0.0.1:0\nworkers = 2\nhandler = echo\n"
           "backend = tcp:127.0.0.1:%d\n[tls]\n" % be.port)
    d = Daemon(cfg)
    port = [a for a in d.addrs if a[0] == "tls"][0][2]
    try:
        b = Bystander(port)
        end = time.time() + 10
        while time.time() < end and tls_stats(d)[
                "total_backend_connects"] < 2:
            time.sleep(0.2)
        c0 = tls_stats(d)["total_backend_connects"]
        be.stop()
        time.sleep(2)
        be = Backend(be.port)
        end = time.time() + 20
        c1 = c0
        while time.time() < end and len(be.conns) < 2:
            time.sleep(0.3)
        c1 = tls_stats(d)["total_backend_connects"]
        ok, errs = b.stop()
        check(c0 >= 2, "backend: each worker connected (%d)" % c0)
        check(len(be.conns) >= 2, "backend: both workers reconnected "
              "after it came back (backend_connects %d -> %d)" % (c0, c1))
        check(ok > 0 and errs == 0,
              "backend: bystander %d ok, %d failed" % (ok, errs))
        report("backend", connects_before=c0, connects_after=c1,
               bystander_ok=ok, bystander_failed=errs)
        finish(d)
    finally:
        d.kill()
        be.stop()


def main():
    if not os.path.exists(LOADGEN):
        print("SKIP: %s not built" % LOADGEN)
        sys.exit(77)
    which = sys.argv[1:] or ["never_read", "rst_storm", "fd_limit",
                             "low_memory", "sighup", "backend"]
    for name in which:
        t0 = time.time()
        globals()[name]()
        print("--- %s: %.1f s" % (name, time.time() - t0), flush=True)
    print("PASS")


if __name__ == "__main__":
    main()
