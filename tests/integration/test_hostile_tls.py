# ctest-serial: timing- and memory-sensitive, runs alone
"""Hostile TLS peers against siptlsd (tls: listener, echo handler), each
while a bystander keeps making ordinary TLS connections:

  flood     many concurrent new handshakes (bench/loadgen, TLS 1.3 and
            1.2) for 8 s (45 s with STLS_HOSTILE_LONG=1);
  slowloris connections sending their ClientHello one byte a second:
            each closed by handshake_timeout and counted;
  reneg     TLS 1.2 peers (openssl s_client) asking for renegotiation:
            each such connection closed, counted renegotiations_refused;
  garbage   random bytes, NUL bytes, plain text, an SSLv2 hello, an
            oversized record, a ClientHello followed by junk: each closed
            and counted as a handshake failure; a 4 MiB echo on a good
            connection goes through whole.

In every case the bystander never fails, the daemon exits 0 and the
sanitizers report nothing. Each scenario prints a FIGURES line."""
import os
import random
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile_util import (LOADGEN, LONG, Bystander, check, client_ctx,  # noqa: E402
                          finish, report, rss_kb, tls_connect, tls_daemon,
                          tls_echo, tls_stats)
from daemon_util import SOURCE, closed_within  # noqa: E402


def loadgen(port, version, secs, conc):
    return subprocess.Popen(
        [LOADGEN, "-m", "handshake", "-t", "127.0.0.1:%d" % port,
         "-V", version, "-c", str(conc), "-d", str(secs), "-n", "2000000",
         "--no-verify", "-T", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def result(p, secs):
    out, _ = p.communicate(timeout=secs + 60)
    line = [ln for ln in out.split("\n") if ln.startswith("RESULT ")]
    if not line:
        return {"ops": 0, "errors": -1, "raw": out}
    kv = dict(f.split("=", 1) for f in line[0].split()[1:] if "=" in f)
    return {"ops": int(kv["ops"]), "errors": int(kv["errors"]), "raw": out}


def flood():
    secs = 45 if LONG else 8
    d, port, _ = tls_daemon()
    try:
        rss0 = rss_kb(d)
        b = Bystander(port)
        p13 = loadgen(port, "1.3", secs, 48)
        p12 = loadgen(port, "1.2", secs, 16)
        r13, r12 = result(p13, secs), result(p12, secs)
        ok, errs = b.stop()
        st = tls_stats(d)
        rss1 = rss_kb(d)
        hs = r13["ops"] + r12["ops"]
        check(hs > 0 and r13["errors"] == 0 and r12["errors"] == 0,
              "flood: %d handshakes in %d s, no errors (%s)"
              % (hs, secs, r13["raw"].split("\n")[0]))
        check(ok > 0 and errs == 0,
              "flood: bystander %d ok, %d failed %s" % (ok, errs,
                                                         b.reasons[:3]))
        check(st["handshakes"] >= hs + ok, "flood: handshakes counted")
        report("flood", seconds=secs, handshakes=hs,
               loadgen_errors=r13["errors"] + r12["errors"],
               bystander_ok=ok, bystander_failed=errs,
               rss_before_kb=rss0, rss_after_kb=rss1,
               tls_connections_after=st["tls_connections"])
        finish(d)
    finally:
        d.kill()


def client_hello():
    path = os.path.join(SOURCE, "fuzz", "corpus", "tls_engine",
                        "server-ch-tls13-sni")
    with open(path, "rb") as f:
        return f.read()[1:]


def slowloris():
    n, timeout = 40, 3
    d, port, _ = tls_daemon("handshake_timeout = %d\n" % timeout)
    try:
        hello = client_hello()
        b = Bystander(port)
        socks = [socket.create_connection(("127.0.0.1", port), timeout=5)
                 for _ in range(n)]
        closed_at = [None] * n
        t0 = time.time()
        for i in range(int(timeout * 3)):  # a byte per second
            for k, s in enumerate(socks):
                if closed_at[k] is not None:
                    continue
                try:
                    s.send(hello[i:i + 1])
                    s.setblocking(False)
                    if s.recv(1) == b"":
                        closed_at[k] = time.time() - t0
                except BlockingIOError:
                    pass
                except OSError:
                    closed_at[k] = time.time() - t0
                s.setblocking(True)
            if all(c is not None for c in closed_at):
                break
            time.sleep(1)
        ok, errs = b.stop()
        st = tls_stats(d)
        done = [c for c in closed_at if c is not None]
        check(len(done) == n, "slowloris: all %d slow peers closed" % n)
        check(max(done) <= timeout + 2.5,
              "slowloris: closed by handshake_timeout (last after %.1f s)"
              % max(done))
        check(st["total_closed_handshake-timeout"] >= n,
              "slowloris: counted closed_handshake-timeout=%d"
              % st["total_closed_handshake-timeout"])
        check(ok > 0 and errs == 0,
              "slowloris: bystander %d ok, %d failed" % (ok, errs))
        report("slowloris", peers=n, handshake_timeout_s=timeout,
               last_closed_s="%.1f" % max(done),
               closed_handshake_timeout=st[
                   "total_closed_handshake-timeout"],
               bystander_ok=ok, bystander_failed=errs)
        for s in socks:
            s.close()
        finish(d)
    finally:
        d.kill()


def reneg_one(port, out, k):
    """One TLS 1.2 s_client that sends a line, then "R" (renegotiate).
    out[k] = True when the daemon refused it (s_client reports the
    no_renegotiation alert or the connection ends)."""
    p = subprocess.Popen(["openssl", "s_client", "-connect",
                          "127.0.0.1:%d" % port, "-tls1_2"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    try:
        p.stdin.write(b"hello\n")
        p.stdin.flush()
        seen = b""
        for _ in range(400):  # until the echo shows: handshake done
            line = p.stdout.readline()
            seen += line
            if not line or line == b"hello\n":
                break
        p.stdin.write(b"R\n")
        p.stdin.flush()
        time.sleep(1.5)
        p.stdin.close()
        text = (seen + p.stdout.read()).decode(errors="replace")
        p.wait(15)
        out[k] = "RENEGOTIATING" in text and (
            "no renegotiation" in text or "errno" in text)
    except (subprocess.TimeoutExpired, OSError):
        out[k] = False
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def reneg():
    n = 40 if LONG else 16
    d, port, _ = tls_daemon()
    try:
        b = Bystander(port)
        ended = [False] * n
        th = [threading.Thread(target=reneg_one, args=(port, ended, k),
                               daemon=True) for k in range(n)]
        for t in th:
            t.start()
        for t in th:
            t.join(30)
        ok, errs = b.stop()
        st = tls_stats(d)
        check(all(ended), "reneg: every renegotiating peer was closed")
        check(st["renegotiations_refused"] == n,
              "reneg: renegotiations_refused=%d (of %d)"
              % (st["renegotiations_refused"], n))
        check(ok > 0 and errs == 0,
              "reneg: bystander %d ok, %d failed" % (ok, errs))
        report("reneg", peers=n, refused=st["renegotiations_refused"],
               bystander_ok=ok, bystander_failed=errs)
        finish(d)
    finally:
        d.kill()


def garbage_inputs():
    rnd = random.Random(5061)
    hello = client_hello()
    return {
        "random-64k": bytes(rnd.getrandbits(8) for _ in range(65536)),
        "nul-4k": b"\0" * 4096,
        "http": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "sip-cleartext": b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 0"
                         b"\r\n\r\n",
        "sslv2-hello": bytes.fromhex("802b0103010012000000100100800700c0"
                                     "030080060040040080020080") +
        bytes(16),
        "oversized-record": b"\x16\x03\x03\xff\xff" + bytes(65535),
        "hello-then-junk": hello + bytes(rnd.getrandbits(8)
                                         for _ in range(2000)),
        "alert-first": b"\x15\x03\x03\x00\x02\x02\x28",
        "appdata-first": b"\x17\x03\x03\x00\x10" + bytes(16),
    }


def garbage():
    d, port, _ = tls_daemon("handshake_timeout = 5\n")
    try:
        b = Bystander(port)
        st0 = tls_stats(d)
        inputs = garbage_inputs()
        closed = {}
        for rep in range(3 if LONG else 1):
            for name, blob in inputs.items():
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                try:
                    s.sendall(blob)
                except OSError:
                    pass  # the daemon may close before all is sent
                closed[name] = closed_within(s, 4)
                s.close()
        big = bytes(random.Random(1).getrandbits(8)
                    for _ in range(1 << 16)) * 64
        s = tls_connect(port, timeout=20)
        big_ok = tls_echo(s, big)
        s.close()
        s = tls_connect(port, timeout=10, ctx=client_ctx())
        nul_ok = tls_echo(s, b"\0" * 70000)
        s.close()
        ok, errs = b.stop()
        st = tls_stats(d)
        for name, c in closed.items():
            check(c, "garbage: %s closed" % name)
        fails = st["handshake_failures"] - st0["handshake_failures"]
        check(fails >= len(inputs) - 1,
              "garbage: counted handshake_failures=%d" % fails)
        check(big_ok, "garbage: a 4 MiB echo on a good connection whole")
        check(nul_ok, "garbage: 70000 NUL bytes echoed inside TLS")
        check(ok > 0 and errs == 0,
              "garbage: bystander %d ok, %d failed" % (ok, errs))
        report("garbage", inputs=len(inputs), closed=sum(closed.values()),
               handshake_failures=fails, bystander_ok=ok,
               bystander_failed=errs)
        finish(d)
    finally:
        d.kill()


def main():
    if not os.path.exists(LOADGEN):
        print("SKIP: %s not built" % LOADGEN)
        sys.exit(77)
    which = sys.argv[1:] or ["flood", "slowloris", "reneg", "garbage"]
    for name in which:
        t0 = time.time()
        globals()[name]()
        print("--- %s: %.1f s" % (name, time.time() - t0), flush=True)
    print("PASS")


if __name__ == "__main__":
    main()
