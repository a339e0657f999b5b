#!/usr/bin/env python3
# ctest-serial: timing- and memory-sensitive, runs alone
"""Hostile SIP peers against siptlsd's relay (tls: listener, relay handler,
a scripted UDP backend answering 200), each while a bystander TLS client
keeps registering and sending OPTIONS through the relay:

  header_bomb   3,000 header lines (under max_message_size): 400, close
  huge_line     one 60,000-byte header line (under the limit): relayed and
                answered; one of 100,000 bytes (over): 400, close
  bad_clen      Content-Length non-numeric, negative, two different
                values: 400, close; larger than the body then idle: closed
                by connection_timeout, nothing reaches the backend
  no_clen       no Content-Length on a stream: 400, close
  oversized     header section over max_message_size, body over it: 400,
                close
  nul           NUL bytes in a header value: 400, close
  garbage_after a valid request, its answer, then binary garbage on the
                same connection: close (no reply); a request and garbage
                in one write: the request relayed, the connection closed
  one_byte      a valid request in 1-byte TLS records: answered
  pipeline      1,000 OPTIONS to siptlsd in one write on one connection:
                1,000 200s, in order; then 1,000 relayed requests in
                one write: 1,000 answers from the UDP backend, in order
  max_forwards  Max-Forwards: 0: 483 Too Many Hops, the connection stays
  low_mem2      cfg.set tls low_mem_threshold2 huge: open TLS connections
                fail and are counted (low_memory_refused); back to 0: new
                connections are served; then low_mem_threshold1 huge at
                runtime: new connections refused and counted, an open
                one still served

Every framing or parse error is counted in the relay's counters (SIGUSR1
"relay stats:" framing_errors, bad_messages; local_replies for 400/483).
After each scenario the daemon exits 0 on SIGTERM and its log has no
sanitizer report. Each scenario prints a FIGURES line
(docs/reliability.md). Loopback only; bounded in time and count."""
import os
import re
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import BUILD, Daemon, check, fail  # noqa: E402
from hostile_util import finish, report, tls_stats  # noqa: E402
from relay_util import Backend, Stream, request, tls_context  # noqa: E402

SIPTLSCTL = os.path.join(BUILD, "siptlsctl")
AOR = "sip:bystander@example.test"


def start(be, core=""):
    d = Daemon("""[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:%d
workers = 2
connection_timeout = 3
handshake_timeout = 5
rpc_socket = @TMP@/run/ctl.sock
%s
[tls]
[relay]
""" % (be.port, core))
    port = [a for a in d.addrs if a[0] == "tls"][0][2]
    return d, port


def connect(port, timeout=5):
    raw = socket.create_connection(("127.0.0.1", port), timeout)
    return Stream(tls_context().wrap_socket(
        raw, server_hostname="sip.example.test"))


def req(method, call_id, cseq=1, extra=(), body=b""):
    return request(method, "sip:bob@example.test", "TLS 10.0.0.9:5061",
                   call_id, cseq, "sip:mallory@example.test",
                   "sip:bob@example.test", extra=extra, body=body)


def head(method, call_id, clen_lines=(), extra=b""):
    """A request's header section with hand-written Content-Length lines
    (none when empty) and <extra> header bytes; ends with the blank line."""
    r = req(method, call_id)
    h = r[:r.index(b"Content-Length:")]
    return h + extra + b"".join(b"Content-Length: %s\r\n" % v
                                for v in clen_lines) + b"\r\n"


def relay_stats(d):
    """The "relay stats:" counters of a fresh SIGUSR1 dump."""
    n = len(re.findall(r"relay stats:", d.log()))
    d.p.send_signal(signal.SIGUSR1)
    if not d.wait_log(r"relay stats:", 5, n + 1):
        fail("no relay stats after SIGUSR1")
    line = [ln for ln in d.log().split("\n") if "relay stats:" in ln][-1]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


class Bystander:
    """An ordinary SIP TLS client: REGISTER then OPTIONS through the relay
    (to the backend, not to siptlsd), five transactions per connection,
    then a new connection; every answer must be a 200 with the right
    Call-ID within 5 s. Bounded by max_ops and stop()."""

    def __init__(self, port, max_ops=5000, pause=0.01):
        self.port, self.max_ops, self.pause = port, max_ops, pause
        self.ok, self.errors, self.reasons = 0, 0, []
        self.halt = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _one(self, ua, i):
        method = "REGISTER" if i % 2 else "OPTIONS"
        cid = "by-%d" % i
        extra = [("Contact", "<sips:bystander@10.0.0.8:5061>")] \
            if method == "REGISTER" else []
        if method == "REGISTER":
            ua.send(request("REGISTER", "sip:example.test",
                            "TLS 10.0.0.8:5061", cid, i, AOR, AOR,
                            extra=extra))
        else:
            ua.send(req("OPTIONS", cid, i))
        r = ua.read(5)
        if r is None or r.status != 200 or r.get("call-id") != cid:
            raise AssertionError("%s %s: %s" % (method, cid,
                                                r.start if r else "none"))

    def _run(self):
        i, ua = 0, None
        while not self.halt.is_set() and i < self.max_ops:
            i += 1
            try:
                if ua is None:
                    ua = connect(self.port)
                self._one(ua, i)
                self.ok += 1
            except Exception as e:  # noqa: BLE001 - any failure counts
                self.errors += 1
                self.reasons.append(repr(e))
                if ua:
                    ua.close()
                ua = None
            if ua and i % 5 == 0:
                ua.close()
                ua = None
            time.sleep(self.pause)
        if ua:
            ua.close()

    def stop(self):
        self.halt.set()
        self.t.join(30)
        return self.ok, self.errors


def expect_400_close(port, data, what, chunk=None):
    """Sends data on a new TLS connection; True when the answer is a 400
    and the connection is then closed."""
    ua = connect(port)
    try:
        if chunk:
            for i in range(0, len(data), chunk):
                ua.send(data[i:i + chunk])
        else:
            ua.send(data)
    except OSError:
        pass  # the daemon may close before it has read everything
    r = ua.read(5)
    closed = ua.closed(5)
    ua.close()
    got = r.start if r else "no answer"
    print("     %s: %s, %s" % (what, got, "closed" if closed else "OPEN"),
          flush=True)
    return r is not None and r.status == 400 and closed


class Keeper:
    """A connection opened before the hostile peers and used all along: an
    OPTIONS to siptlsd every second (well within connection_timeout), each
    answer checked, in its own thread, so that a slow scenario on a busy
    machine cannot let it idle out. Bounded by stop() and max_ops."""

    def __init__(self, port, period=1.0, max_ops=600):
        self.ua = connect(port)
        self.period, self.max_ops = period, max_ops
        self.ok, self.errors, self.reasons = 0, 0, []
        self.halt = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        i = 0
        while not self.halt.is_set() and i < self.max_ops:
            i += 1
            cid = "keeper-%d" % i
            try:
                self.ua.send(req("OPTIONS", cid, i))
                r = self.ua.read(5)
                if r is None or r.status != 200 or r.get("call-id") != cid:
                    raise AssertionError(r.start if r else "no answer")
                self.ok += 1
            except Exception as e:  # noqa: BLE001 - any failure counts
                self.errors += 1
                self.reasons.append(repr(e))
                return
            self.halt.wait(self.period)

    def served_since(self, n, timeout=5):
        """True when a transaction after the n-th one was answered."""
        end = time.time() + timeout
        while self.ok <= n and not self.errors and time.time() < end:
            time.sleep(0.05)
        return self.ok > n and not self.errors

    def stop(self):
        self.halt.set()
        self.t.join(30)


class Scenario:
    """A daemon, a backend and a bystander around one hostile case."""

    def __init__(self, name, core=""):
        self.name = name
        self.be = Backend()
        self.d, self.port = start(self.be, core)
        self.by = Bystander(self.port)
        # A connection opened before the hostile peers, used throughout.
        self.keeper = Keeper(self.port)
        time.sleep(0.3)

    def end(self):
        ok, errs = self.by.stop()
        self.keeper.stop()
        live = self.keeper.errors == 0
        r = None
        if live:
            self.keeper.ua.send(req("OPTIONS", "keeper"))
            r = self.keeper.ua.read(5)
        self.keeper.ua.close()
        st = relay_stats(self.d)
        check(ok > 0 and errs == 0, "%s: bystander %d ok, %d failed %s"
              % (self.name, ok, errs, self.by.reasons[:3]))
        check(live and r is not None and r.status == 200,
              "%s: a connection opened before is still served %s"
              % (self.name, self.keeper.reasons[:1]))
        return st, ok

    def keep(self):
        """The early connection is being served right now."""
        check(self.keeper.served_since(self.keeper.ok),
              "%s: the early connection served meanwhile %s"
              % (self.name, self.keeper.reasons[:1]))

    def close(self):
        self.keeper.stop()
        if self.d.p.poll() is None:
            self.d.p.kill()
            self.d.p.wait()
        self.be.close()


def counted(sc, st, framing=0, bad=0):
    check(st["framing_errors"] == framing and st["bad_messages"] == bad,
          "%s: counted framing_errors=%d (want %d) bad_messages=%d "
          "(want %d)" % (sc.name, st["framing_errors"], framing,
                         st["bad_messages"], bad))


def header_bomb():
    sc = Scenario("header_bomb")
    try:
        bomb = b"".join(b"X-Bomb-%04d: x\r\n" % i for i in range(3000))
        data = head("OPTIONS", "bomb", [b"0"], bomb)
        check(len(data) < 65535, "header_bomb: %d bytes, %d lines"
              % (len(data), 3000))
        got = expect_400_close(sc.port, data, "3000 header lines")
        st, ok = sc.end()
        check(got, "header_bomb: 400 and closed")
        counted(sc, st, bad=1)
        report("header_bomb", lines=3000, bytes=len(data),
               bad_messages=st["bad_messages"], bystander_ok=ok,
               bystander_failed=0)
        finish(sc.d)
    finally:
        sc.close()


def huge_line():
    sc = Scenario("huge_line")
    try:
        ua = connect(sc.port)
        ua.send(req("OPTIONS", "huge-ok",
                    extra=[("X-Huge", "h" * 60000)]))
        r = ua.read(10)
        check(r is not None and r.status == 200 and
              r.get("call-id") == "huge-ok",
              "huge_line: a 60,000-byte header line (under the limit) is "
              "relayed and answered (%s)" % (r.start if r else None))
        ua.close()
        data = head("OPTIONS", "huge-big", [b"0"],
                    b"X-Huge: " + b"h" * 100000 + b"\r\n")
        got = expect_400_close(sc.port, data, "100,000-byte header line")
        st, ok = sc.end()
        check(got, "huge_line: over max_message_size: 400 and closed")
        counted(sc, st, framing=1)
        report("huge_line", relayed_bytes=60000, refused_bytes=100000,
               framing_errors=st["framing_errors"], bystander_ok=ok,
               bystander_failed=0)
        finish(sc.d)
    finally:
        sc.close()


def bad_clen():
    sc = Scenario("bad_clen")
    try:
        cases = [("non-numeric", [b"abc"]), ("negative", [b"-5"]),
                 ("two values", [b"0", b"4"]), ("empty", [b""])]
        got = [expect_400_close(sc.port, head("OPTIONS", "clen-%d" % k, v)
                                + (b"abcd" if len(v) == 2 else b""), what)
               for k, (what, v) in enumerate(cases)]
        # Four handshakes can take connection_timeout on a busy machine.
        sc.keep()
        n0 = sc.be.q.qsize()
        ua = connect(sc.port)
        t0 = time.time()
        ua.send(head("OPTIONS", "clen-idle", [b"500"]) + b"short body")
        time.sleep(1.5)
        sc.keep()
        closed = ua.closed(8)
        took = time.time() - t0
        ua.close()
        time.sleep(0.2)
        leaked = [m for m, _ in list(sc.be.q.queue)[n0:]
                  if m.get("call-id") == "clen-idle"]
        st, ok = sc.end()
        check(all(got), "bad_clen: %d/%d answered 400 and closed"
              % (sum(got), len(got)))
        check(closed and 2 <= took < 6 and not leaked,
              "bad_clen: larger than the body, then idle: closed by "
              "connection_timeout after %.1f s, nothing relayed" % took)
        counted(sc, st, framing=len(cases))
        report("bad_clen", cases=len(cases), answered_400=sum(got),
               idle_closed_after="%.1f" % took,
               framing_errors=st["framing_errors"], bystander_ok=ok,
               bystander_failed=0)
        finish(sc.d)
    finally:
        sc.close()


def no_clen():
    sc = Scenario("no_clen")
    try:
        got = expect_400_close(sc.port, head("OPTIONS", "noclen", []),
                               "no Content-Length")
        st, ok = sc.end()
        check(got, "no_clen: 400 and closed")
        counted(sc, st, framing=1)
        report("no_clen", framing_errors=st["framing_errors"],
               bystander_ok=ok, bystander_failed=0)
        finish(sc.d)
    finally:
        sc.close()


def oversized():
    sc = Scenario("oversized", "max_message_size = 8192\n")
    try:
        hdrs = head("OPTIONS", "big-hdr", [b"0"],
                    b"".join(b"X-Pad-%03d: %s\r\n" % (i, b"p" * 100)
                             for i in range(100)))
        g1 = expect_400_close(sc.port, hdrs, "header section 11 KB")
        g2 = expect_400_close(sc.port, req("MESSAGE", "big-body",
                                           body=b"b" * 9000),
                              "body 9,000 bytes", chunk=4096)
        g3 = expect_400_close(sc.port, head("MESSAGE", "big-clen",
                                            [b"999999999"]),
                              "Content-Length 999999999, no body")
        st, ok = sc.end()
        check(g1 and g2 and g3, "oversized: headers, body and announced "
              "body over max_message_size: 400 and closed")
        counted(sc, st, framing=3)
        report("oversized", max_message_size=8192,
               framing_errors=st["framing_errors"], bystander_ok=ok,
               bystander_failed=0)
        finish(sc.d)
    finally:
        sc.close()


def nul():
    sc = Scenario("nul")
    try:
        data = head("OPTIONS", "nul", [b"0"], b"X-Nul: a\x00b\x00\r\n")
        got = expect_400_close(sc.port, data, "NUL in a header value")
        data = head("OPTIONS", "nul2", [b"0"], b"X-\x00Name: v\r\n")
        got2 = expect_400_close(sc.port, data, "NUL in a header name")
        st, ok = sc.end()
        check(got and got2, "nul: 400 and closed")
        counted(sc, st, bad=2)
        report("nul", bad_messages=st["bad_messages"], bystander_ok=ok,
               bystander_failed=0)
        finish(sc.d)
    finally:
        sc.close()


def garbage_after():
    sc = Scenario("garbage_after")
    try:
        # Request, answer, then garbage on the same connection.
        ua = connect(sc.port)
        ua.send(req("OPTIONS", "before-garbage"))
        r = ua.read(5)
        ua.send(b"\x16\x03\x01\x00\x05" + os.urandom(4096))
        closed = ua.closed(5)
        ua.close()
        # Request and garbage in one write: the request is relayed, the
        # connection closed at once; the backend's 200 finds no flow.
        ua = connect(sc.port)
        ua.send(req("OPTIONS", "with-garbage") + b"GET / HTTP/1.1\r\n\r\n")
        relayed = sc.be.wait(lambda m: m.get("call-id") == "with-garbage")
        closed2 = ua.closed(5)
        ua.close()
        time.sleep(0.3)
        st, ok = sc.end()
        check(r is not None and r.status == 200 and
              r.get("call-id") == "before-garbage",
              "garbage_after: the valid request answered")
        check(closed, "garbage_after: garbage next: connection closed")
        check(relayed is not None and closed2,
              "garbage_after: request + garbage in one write: request "
              "relayed, connection closed")
        counted(sc, st, framing=2)
        report("garbage_after", framing_errors=st["framing_errors"],
               flow_gone=st["flow_gone"], bystander_ok=ok,
               bystander_failed=0)
        finish(sc.d)
    finally:
        sc.close()


def one_byte():
    sc = Scenario("one_byte")
    try:
        ua = connect(sc.port)
        data = req("INVITE", "one-byte", extra=[
            ("Contact", "<sips:m@10.0.0.9:5061>"),
            ("Content-Type", "application/sdp")], body=b"v=0\r\n" * 20)
        t0 = time.time()
        for i in range(len(data)):
            ua.s.sendall(data[i:i + 1])  # one TLS record per byte
        r = ua.read(10)
        took = time.time() - t0
        check(r is not None and r.status == 200 and
              r.get("call-id") == "one-byte",
              "one_byte: a %d-byte INVITE in %d one-byte TLS records "
              "answered 200 (%.1f s)" % (len(data), len(data), took))
        ua.close()
        st, ok = sc.end()
        counted(sc, st)
        report("one_byte", records=len(data), seconds="%.1f" % took,
               bystander_ok=ok, bystander_failed=0)
        finish(sc.d)
    finally:
        sc.close()


def read_in_order(ua, prefix, first, n):
    """Reads n answers; how many came, in order, as 200."""
    got = 0
    while got < n:
        r = ua.read(10)
        if r is None or r.status != 200 or \
                r.get("call-id") != "%s-%d" % (prefix, first + got):
            break
        got += 1
    return got


def pipeline():
    n = 1000
    window = n  # all in one write: udp_buffer holds the burst
    sc = Scenario("pipeline")
    try:
        # 1,000 OPTIONS to siptlsd itself in one write: framing and local
        # replies only, no UDP leg.
        ua = connect(sc.port, timeout=30)
        local = "sip:127.0.0.1:%d" % sc.port
        burst = b"".join(request("OPTIONS", local, "TLS 10.0.0.9:5061",
                                 "local-%d" % i, i + 1,
                                 "sip:m@example.test", local)
                         for i in range(n))
        # One thread only: an ssl socket must not be read and written
        # from two threads at once (OpenSSL's SSL objects are not
        # thread-safe). The answers (about 250 KB) wait in the socket
        # buffers and siptlsd's queue, under send_high_water.
        t0 = time.time()
        ua.send(burst)
        got_local = read_in_order(ua, "local", 0, n)
        t_local = time.time() - t0
        # 1,000 relayed requests in one write: the 1,000 answers come back
        # from the UDP backend at once; [core] udp_buffer keeps the
        # worker's backend socket from dropping them.
        t0 = time.time()
        got_relay = 0
        for k in range(0, n, window):
            ua.send(b"".join(req("OPTIONS", "pipe-%d" % i, i + 1)
                             for i in range(k, k + window)))
            got_relay += read_in_order(ua, "pipe", k, window)
        t_relay = time.time() - t0
        ua.close()
        st, ok = sc.end()
        check(got_local == n, "pipeline: %d/%d OPTIONS to siptlsd in one "
              "%d-byte write answered in order in %.1f s"
              % (got_local, n, len(burst), t_local))
        check(got_relay == n, "pipeline: %d/%d relayed requests (%d "
              "pipelined per write) answered in order in %.1f s"
              % (got_relay, n, window, t_relay))
        check(st["local_replies"] >= n and st["client_requests"] >= n,
              "pipeline: local_replies=%d client_requests=%d"
              % (st["local_replies"], st["client_requests"]))
        counted(sc, st)
        report("pipeline", local_messages=n, local_bytes=len(burst),
               local_seconds="%.1f" % t_local, relayed=got_relay,
               relay_window=window, relay_seconds="%.1f" % t_relay,
               bystander_ok=ok, bystander_failed=0)
        finish(sc.d)
    finally:
        sc.close()


def max_forwards():
    sc = Scenario("max_forwards")
    try:
        ua = connect(sc.port)
        ua.send(req("OPTIONS", "mf0").replace(b"Max-Forwards: 70",
                                              b"Max-Forwards: 0"))
        r = ua.read(5)
        check(r is not None and r.status == 483,
              "max_forwards: Max-Forwards 0: %s" % (r.start if r else None))
        ua.send(req("OPTIONS", "mf-after"))
        r2 = ua.read(5)
        check(r2 is not None and r2.status == 200,
              "max_forwards: the same connection still served")
        ua.close()
        leaked = [m for m, _ in list(sc.be.q.queue)
                  if m.get("call-id") == "mf0"]
        check(not leaked, "max_forwards: the 483 request not relayed")
        st, ok = sc.end()
        counted(sc, st)
        check(st["local_replies"] >= 1, "max_forwards: local_replies=%d"
              % st["local_replies"])
        report("max_forwards", status=r.status,
               local_replies=st["local_replies"], bystander_ok=ok,
               bystander_failed=0)
        finish(sc.d)
    finally:
        sc.close()


def ctl(d, *args):
    import subprocess
    sock = os.path.join(d.tmp, "run", "ctl.sock")
    r = subprocess.run([SIPTLSCTL, "-s", sock, "-w", "20"] +
                       [str(a) for a in args], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        fail("siptlsctl %s: %s" % (" ".join(args), r.stderr))
    return r.stdout


def low_mem2():
    be = Backend()
    d, port = start(be)
    try:
        held = [connect(port) for _ in range(4)]
        for k, ua in enumerate(held):
            ua.send(req("OPTIONS", "held-%d" % k))
            r = ua.read(5)
            check(r is not None and r.status == 200,
                  "low_mem2: held connection %d served" % k)
        before = tls_stats(d)["low_memory_refused"]
        ctl(d, "cfg.set", "tls", "low_mem_threshold2", "1073741824")
        failed = 0
        for k, ua in enumerate(held):
            try:
                ua.send(req("OPTIONS", "low-%d" % k))
                r = ua.read(3)
            except OSError:
                r = None
            failed += r is None and ua.closed(3)
        st = tls_stats(d)
        ctl(d, "cfg.set", "tls", "low_mem_threshold2", "0")
        fresh, kept = 0, connect(port)
        for k in range(5):
            ua = connect(port)
            ua.send(req("OPTIONS", "fresh-%d" % k))
            r = ua.read(5)
            fresh += r is not None and r.status == 200
            ua.close()
        for ua in held:
            ua.close()
        lm = st["low_memory_refused"] - before
        # threshold1 at runtime: new connections refused, open ones kept.
        ctl(d, "cfg.set", "tls", "low_mem_threshold1", "1073741824")
        refused = 0
        for _ in range(5):
            try:
                connect(port).close()
            except (OSError, ConnectionError):
                refused += 1
        kept.send(req("OPTIONS", "kept"))
        r = kept.read(5)
        kept_ok = r is not None and r.status == 200
        kept.close()
        lm1 = tls_stats(d)["low_memory_refused"] - st["low_memory_refused"]
        ctl(d, "cfg.set", "tls", "low_mem_threshold1", "0")
        check(refused == 5 and lm1 == 5 and kept_ok,
              "low_mem2: threshold1 set at runtime: 5/5 new connections "
              "refused (+%d counted), the open one served" % lm1)
        check(failed == 4, "low_mem2: 4/4 open TLS connections fail "
              "under low_mem_threshold2 (%d)" % failed)
        check(lm >= 4, "low_mem2: counted low_memory_refused +%d" % lm)
        check(fresh == 5, "low_mem2: threshold back to 0: 5/5 new "
              "connections served")
        report("low_mem2", held=4, failed=failed, low_memory_refused=lm,
               fresh_ok=fresh, t1_refused=refused, t1_counted=lm1,
               t1_open_served=int(kept_ok))
        finish(d)
    finally:
        d.kill()
        be.close()


ALL = ["header_bomb", "huge_line", "bad_clen", "no_clen", "oversized",
       "nul", "garbage_after", "one_byte", "pipeline", "max_forwards",
       "low_mem2"]


def main():
    which = sys.argv[1:] or ALL
    t_all = time.time()
    for name in which:
        t0 = time.time()
        globals()[name]()
        print("--- %s: %.1f s" % (name, time.time() - t0), flush=True)
    print("PASS (%.1f s)" % (time.time() - t_all))


if __name__ == "__main__":
    main()
