#!/usr/bin/env python3
# ctest-serial: storms of handshakes, runs alone
"""Handshake steps on the handshake threads ([core] handshake_threads,
docs/daemon.md "Handshake threads"): the real siptlsd with its steps off
the workers, against TLS peers nobody here wrote (openssl s_client,
gnutls-cli) and Python's ssl module. TLS 1.2 and 1.3, SNI to several
profiles, mTLS, a refused client certificate still counted with its
cause, resumption (TLS 1.2 session id, TLS 1.3 ticket); closes while
steps are out (handshake_timeout against clients that dribble their
ClientHello, tls.list and tls.kill on them, a storm stopped by SIGTERM),
a reload during a storm, and
the inline mode (handshake_threads = 0) for comparison. The echo handler
stands in for the SIP relay. Bounded in count and time."""
import ctypes
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctl_util import RawCtl  # noqa: E402
from daemon_util import Daemon, check, fail, free_tcp_port  # noqa: E402
from tls_util import PROFILES, pki, py_client, py_ctx, s_client  # noqa: E402

def start(core, metrics_port=None, offload_at=0):
    """offload_at: handshake_offload_at (0: every step to the threads,
    which is what most of this test exercises; None: the default)."""
    tmp = tempfile.mkdtemp(prefix="stls-hsoff-")
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write(PROFILES)
    if offload_at is not None:
        core += "\nhandshake_offload_at = %d" % offload_at
    cfg = ("[core]\nlisten = tls:127.0.0.1:0\nworkers = 2\n"
           "handler = echo\nbackend = udp:127.0.0.1:9\n"
           "rpc_socket = @TMP@/ctl.sock\n%s\n" % core)
    if metrics_port:
        cfg += "metrics = 127.0.0.1:%d\n" % metrics_port
    cfg += "[tls]\nconfig = @TMP@/tls.cfg\n"
    d = Daemon(cfg, tmp=tmp)
    port = [a for a in d.addrs if a[0] == "tls"][0][2]
    return d, port, RawCtl(os.path.join(tmp, "ctl.sock"))


def info(ctl):
    r = ctl.call("tls.info")
    check("result" in r, "tls.info answers: %s" % str(r)[:200])
    return r["result"]


def core_stats(ctl):
    r = ctl.call("core.stats")
    check("result" in r, "core.stats answers: %s" % str(r)[:200])
    return r["result"]


def overload(ctl):
    res = info(ctl)
    return res.get("overload", res)


def echo_ok(conn, msg=b"OPTIONS\r\n"):
    conn.sendall(msg)
    got = b""
    while len(got) < len(msg):
        b = conn.recv(100)
        if not b:
            break
        got += b
    return got == msg


def cn_of(conn):
    return dict(x[0] for x in conn.getpeercert()["subject"])["commonName"]


def metric(port, name, **labels):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=5) as r:
        page = r.read().decode()
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in page.splitlines():
        m = re.match(r"(\w+)(?:\{([^}]*)\})? (\S+)$", line)
        if m and m.group(1) == name and \
                ",".join(sorted((m.group(2) or "").split(","))) == \
                ",".join(sorted(want.split(","))):
            return float(m.group(3))
    return None


def storm(port, n, results, sni="sip.example.test", hold=0.0):
    """n parallel full handshakes (Python ssl), each echoing once."""
    def one(i):
        try:
            c = py_client(port, sni, timeout=30)
            results[i] = "ok" if echo_ok(c) else "no echo"
            if hold:
                time.sleep(hold)
            c.close()
        except (OSError, ssl.SSLError) as e:
            results[i] = "error: %s" % e
    ts = [threading.Thread(target=one, args=(i,), daemon=True)
          for i in range(n)]
    for t in ts:
        t.start()
    return ts


def interop():
    mport = free_tcp_port()
    d, port, ctl = start("handshake_threads = 2\nhandshake_timeout = 5",
                         mport)
    try:
        for ver in ("-tls1_2", "-tls1_3"):
            rc, out = s_client(port, ver, "-servername", "sip.example.test")
            check(rc == 0 and "Verify return code: 0 (ok)" in out,
                  "openssl s_client %s through the handshake threads" % ver)
        g = subprocess.Popen(
            ["gnutls-cli", "--x509cafile", pki("ca.pem"), "-p", str(port),
             "--sni-hostname", "sip.example.test", "127.0.0.1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        g.stdin.write(b"gnutls\n")
        g.stdin.flush()
        time.sleep(1)  # the echo arrives before stdin closes
        out = g.communicate(timeout=20)[0].decode(errors="replace")
        check("Handshake was completed" in out and
              "gnutls" in out.split("Handshake was completed")[-1],
              "gnutls-cli through the handshake threads")

        for ver in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            c = py_client(port, "other.example.test", ctx=py_ctx(ver))
            check(cn_of(c) == "other.example.test" and echo_ok(c),
                  "Python ssl %s, SNI to the [server:any] profile" % ver)
            c.close()
        c = py_client(port, "sip.example.test")
        check(cn_of(c) == "sip.example.test" and echo_ok(c),
              "SNI to the default profile")
        c.close()
        ctx = py_ctx(cert=pki("client.pem"), key=pki("client.key"))
        c = py_client(port, "mtls.example.test", ctx=ctx)
        check(echo_ok(c), "mTLS: a valid client certificate")
        c.close()
        before = metric(mport, "siptls_tls_verify_failures_total",
                        cause="revoked") or 0
        refused = False
        try:
            c = py_client(port, "mtls.example.test",
                          pki("client-revoked.pem"),
                          pki("client-revoked.key"))
            c.sendall(b"x")
            refused = c.recv(10) == b""
        except (ssl.SSLError, ConnectionError, OSError):
            refused = True
        check(refused, "mTLS: a revoked client certificate refused")
        end = time.time() + 5
        after = before
        while time.time() < end and after <= before:
            after = metric(mport, "siptls_tls_verify_failures_total",
                           cause="revoked") or 0
            time.sleep(0.05)
        check(after == before + 1,
              "the refusal counted with its cause (revoked: %s -> %s)"
              % (before, after))

        # Resumption: TLS 1.2 by session id or ticket, TLS 1.3 by ticket
        # (which arrives after the handshake: read once first).
        for ver in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = py_ctx(ver)
            c = py_client(port, "sip.example.test", ctx=ctx)
            check(echo_ok(c), "first %s connection" % ver)
            sess = c.session
            c.close()
            c = py_client(port, "sip.example.test", ctx=ctx, session=sess)
            check(c.session_reused and echo_ok(c),
                  "%s session resumed through the threads" % ver)
            c.close()

        ov = overload(ctl)
        check(ov.get("handshake_threads") == 2,
              "tls.info shows handshake_threads: %s"
              % ov.get("handshake_threads"))
        check(ov.get("handshake_steps_offloaded", 0) >= 10,
              "steps were offloaded: %s" % ov.get(
                  "handshake_steps_offloaded"))
        # The flights (ServerHello to Finished, and TLS 1.2's first) left
        # from the threads; the resumed and mTLS handshakes above prove
        # the rest still follows from the worker, in order.
        check(ov.get("handshake_flights_direct", 0) >= 10,
              "flights written by the handshake threads: %s"
              % ov.get("handshake_flights_direct"))
        st = core_stats(ctl)
        check("handshake_steps_out" in st and
              st.get("handshake_steps_offloaded", 0) >= 10,
              "core.stats has the step counters")
        v = metric(mport, "siptls_handshake_steps_offloaded_total")
        check(v is not None and v >= 10, "/metrics: steps offloaded %s" % v)
        check(metric(mport, "siptls_handshake_steps_out") == 0,
              "/metrics: no step out when idle")
        check(d.stop() == 0, "siptlsd exits 0")
    finally:
        d.kill()


def dribble(port, hello, gap, results, i):
    """Sends a ClientHello a few bytes at a time; returns when closed."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        t0 = time.time()
        for k in range(0, len(hello), 7):
            s.sendall(hello[k:k + 7])
            time.sleep(gap)
        s.settimeout(10)
        while s.recv(4096):
            pass
        results[i] = time.time() - t0
        s.close()
    except (BrokenPipeError, ConnectionResetError):
        results[i] = time.time() - t0  # closed while we still sent
    except OSError as e:
        results[i] = str(e)


def client_hello():
    """A real ClientHello (Python's ssl, TLS 1.3) captured off the wire."""
    inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = py_ctx().wrap_bio(inb, outb, server_hostname="sip.example.test")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outb.read()


def closes_during_steps():
    d, port, ctl = start("handshake_threads = 1\nhandshake_nice = 19\n"
                         "handshake_timeout = 1\nconnection_timeout = 5")
    try:
        hello = client_hello()
        n = 24
        res = [None] * n
        ts = [threading.Thread(target=dribble,
                               args=(port, hello, 0.08, res, i), daemon=True)
              for i in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        check(all(isinstance(r, float) and r < 6 for r in res),
              "every dribbling client closed by handshake_timeout: %s"
              % res[:4])
        st = core_stats(ctl)
        check(st["closed"].get("handshake-timeout", 0) >= n,
              "closes counted as handshake-timeout (%s)"
              % st["closed"].get("handshake-timeout"))
        check(st.get("handshake_steps_out") == 0,
              "no step left out after the closes")
        # Still serving.
        c = py_client(port, "sip.example.test")
        check(echo_ok(c), "a handshake after the closes")
        c.close()

        # SIGTERM with a storm's steps in flight: the daemon waits for
        # them and exits 0 (ASan would report a use after free).
        res = [None] * 120
        ts = storm(port, len(res), res, hold=2)
        end = time.time() + 10
        while time.time() < end and core_stats(ctl).get(
                "handshake_steps_offloaded", 0) < 20:
            time.sleep(0.01)
        ctl.close()
        check(d.stop() == 0, "siptlsd exits 0 when stopped mid-storm")
        for t in ts:
            t.join(40)
        check(all(r is not None for r in res), "every storm client done")
    finally:
        d.kill()


def kill_during_steps(port, ctl):
    """tls.list and tls.kill on connections whose steps come and go."""
    hello = client_hello()
    n = 16
    res = [None] * n
    ts = [threading.Thread(target=dribble, args=(port, hello, 0.05, res, i),
                           daemon=True) for i in range(n)]
    for t in ts:
        t.start()
    killed, listed = set(), 0
    end = time.time() + 10
    while len(killed) < n and time.time() < end:
        r = ctl.call("tls.list")
        if "result" not in r:
            fail("tls.list while steps are out: %s" % str(r)[:200])
        for e in r["result"]:
            listed += 1
            if e["id"] not in killed:
                k = ctl.call("tls.kill", e["id"])
                if "result" in k:
                    killed.add(e["id"])
        time.sleep(0.02)
    for t in ts:
        t.join(20)
    check(len(killed) == n and all(isinstance(r, float) and r < 3
                                   for r in res),
          "tls.kill closed all %d handshaking connections (%d listed; %s)"
          % (n, listed, res[:3]))
    check(core_stats(ctl)["closed"].get("killed") == n,
          "the kills counted as killed")


def reload_during_storm():
    d, port, ctl = start("handshake_threads = 2\nhandshake_timeout = 20")
    try:
        kill_during_steps(port, ctl)
        gen0 = info(ctl).get("generation")
        res = [None] * 150
        ts = storm(port, len(res), res, sni="other.example.test")
        reloads = 0
        end = time.time() + 20
        while any(t.is_alive() for t in ts) and time.time() < end:
            r = ctl.call("tls.reload")
            check("result" in r, "tls.reload during the storm: %s" % r)
            reloads += 1
            time.sleep(0.05)
        for t in ts:
            t.join(30)
        ok = sum(1 for r in res if r == "ok")
        check(ok == len(res), "every handshake of the storm completed "
              "across %d reloads (%d/%d; %s)" % (
                  reloads, ok, len(res),
                  [r for r in res if r != "ok"][:3]))
        check(info(ctl).get("generation") > gen0, "the reloads took")
        check(d.stop() == 0, "siptlsd exits 0")
    finally:
        d.kill()


def inline_mode():
    d, port, ctl = start("handshake_threads = 0")
    try:
        res = [None] * 20
        for t in storm(port, len(res), res):
            t.join(30)
        check(all(r == "ok" for r in res), "inline mode: handshakes ok")
        ov = overload(ctl)
        check(ov.get("handshake_threads") == 0 and
              ov.get("handshake_steps_offloaded") == 0,
              "inline mode: nothing offloaded (%s)" % json.dumps(
                  {k: ov.get(k) for k in ("handshake_threads",
                                          "handshake_steps_offloaded")}))
        ctl.close()
        check(d.stop() == 0, "siptlsd exits 0")
    finally:
        d.kill()


def below_offload_at():
    """The default handshake_offload_at (4): handshakes one after the
    other never have 4 in flight on a worker, so the workers run them."""
    d, port, ctl = start("handshake_threads = 2", offload_at=None)
    try:
        for i in range(6):
            c = py_client(port, "sip.example.test")
            check(echo_ok(c), "lone handshake %d echoes" % i)
            c.close()
        ov = overload(ctl)
        check(ov.get("handshake_steps_offloaded") == 0,
              "below handshake_offload_at: nothing offloaded (%s)"
              % ov.get("handshake_steps_offloaded"))
        # The threads carry names for top -H and perf (docs/daemon.md).
        task = "/proc/%d/task" % d.p.pid
        names = set()
        for t in os.listdir(task):
            try:
                with open(os.path.join(task, t, "comm")) as f:
                    names.add(f.read().strip())
            except OSError:
                pass
        for want in ("siptlsd", "stls-w0", "stls-w1", "stls-hs0",
                     "stls-hs1", "stls-rpc"):
            check(want in names, "thread %s present (%s)"
                  % (want, sorted(names)))
        # handshake_slice (100 ms by default) on the handshake threads
        # only, where the kernel keeps per-thread slices (6.12 on).
        if thread_slice(0):
            for t in os.listdir(task):
                try:
                    with open(os.path.join(task, t, "comm")) as f:
                        name = f.read().strip()
                except OSError:
                    continue
                got = thread_slice(int(t))
                if got is None:
                    continue
                if name.startswith("stls-hs"):
                    check(got == 100000000, "%s: slice 100 ms (%d ns)"
                          % (name, got))
                else:
                    check(got != 100000000, "%s: the kernel's slice (%d ns)"
                          % (name, got))
        ctl.close()
        check(d.stop() == 0, "siptlsd exits 0")
    finally:
        d.kill()


def thread_slice(tid):
    """A thread's EEVDF slice in ns (sched_getattr's sched_runtime: 0
    before Linux 6.12), None when it cannot be read."""
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(48)
    nr = {"x86_64": 315, "aarch64": 275}.get(os.uname().machine)
    if nr is None or libc.syscall(nr, tid, buf, 48, 0) != 0:
        return None
    return struct.unpack_from("=IIQiIQ", buf.raw)[5]


def main():
    interop()
    below_offload_at()
    closes_during_steps()
    reload_during_storm()
    inline_mode()
    print("1 passed, 0 failed")


main()
