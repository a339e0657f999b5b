#!/usr/bin/env python3
# ctest-serial: a storm of handshakes, runs alone
"""Overload: a storm of new TLS connections at about twice what a worker
may serve at once ([core] max_handshakes_in_flight), half of them stalled
half-open connections that never send a ClientHello, while an
established TLS phone sends OPTIONS through the relay. Checks: the phone's
every message is answered; the worker never has more handshakes in flight
than the limit (tls.info, polled during the storm); the stalled ones are
shed oldest first while others wait (before handshake_timeout) and
counted; the real
handshakes of the storm complete. Bounded in count and time; no timing
asserts (latency under load belongs to bench/, docs/performance.md)."""
import os
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctl_util import RawCtl  # noqa: E402
from daemon_util import Daemon, check, test_pki  # noqa: E402
from relay_util import Backend, request, tls_client, tls_context  # noqa: E402

LIMIT = 8
STALLED = 2 * LIMIT   # half-open: connect, never say anything
REAL = 4 * LIMIT      # full handshakes, in parallel
PHONE_MSGS = 60
PKI = test_pki()


def start(be):
    return Daemon("""[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:%d
workers = 1
rpc_socket = @TMP@/run/ctl.sock
max_handshakes_in_flight = %d
handshake_shed_age = 400
handshake_timeout = 60
[server:default]
certificate = %s
private_key = %s
""" % (be.port, LIMIT, os.path.join(PKI, "server.pem"),
       os.path.join(PKI, "server.key")))


def real_handshake(host, port, results, i):
    ctx = tls_context()
    try:
        raw = socket.create_connection((host, port), 20)
        raw.settimeout(20)
        s = ctx.wrap_socket(raw, server_hostname="sip.example.test")
        results[i] = "ok"
        s.close()
    except (OSError, ssl.SSLError) as e:
        results[i] = "error: %s" % e


def phone_loop(ua, answered):
    for n in range(PHONE_MSGS):
        ua.send(request("OPTIONS", "sip:bob@example.test",
                        "TLS 10.0.0.7:5061;rport", "ovl-%d" % n, n + 1,
                        "sip:a@example.test", "sip:bob@example.test"))
        m = ua.read(20)
        if m is None or m.status != 200:
            break
        answered.append(n)
        time.sleep(0.02)


def main():
    be = Backend()
    d = start(be)
    ctl = RawCtl(os.path.join(d.tmp, "run", "ctl.sock"))
    try:
        _, host, port = d.addrs[0]
        ua = tls_client(host, port)
        ua.send(request("OPTIONS", "sip:bob@example.test",
                        "TLS 10.0.0.7:5061;rport", "ovl-warm", 1,
                        "sip:a@example.test", "sip:bob@example.test"))
        m = ua.read(10)
        check(m is not None and m.status == 200, "phone established")

        answered = []
        phone = threading.Thread(target=phone_loop, args=(ua, answered))
        phone.start()
        # The stalled ones first: they take every slot.
        stalled = [socket.create_connection((host, port), 5)
                   for _ in range(STALLED)]
        results = [None] * REAL
        threads = [threading.Thread(target=real_handshake,
                                    args=(host, port, results, i))
                   for i in range(REAL)]
        for t in threads:
            t.start()
        peak = 0
        end = time.time() + 60
        while time.time() < end and (any(t.is_alive() for t in threads)
                                     or phone.is_alive()):
            info = ctl.call("tls.info")["result"]
            peak = max(peak, info["handshakes_in_flight"])
            time.sleep(0.05)
        for t in threads:
            t.join(5)
        phone.join(30)

        check(len(answered) == PHONE_MSGS,
              "the established phone: %d/%d OPTIONS answered during the "
              "storm" % (len(answered), PHONE_MSGS))
        check(peak <= LIMIT, "handshakes in flight never above the limit "
              "(peak %d, limit %d)" % (peak, LIMIT))
        ok = sum(1 for r in results if r == "ok")
        bad = [r for r in results if r != "ok"]
        check(ok == REAL, "the storm's real handshakes complete: %d/%d %s"
              % (ok, REAL, bad[:3]))
        # Shed only while others wait: at most LIMIT stalled ones may
        # still hold their slots (handshake_timeout ends them).
        gone = 0
        for s in stalled:
            s.settimeout(1)
            try:
                gone += s.recv(1) == b""
            except (ConnectionResetError, ConnectionAbortedError):
                gone += 1
            except OSError:
                pass  # still open
            s.close()
        check(gone >= STALLED - LIMIT, "stalled half-open connections "
              "shed while others waited: %d of %d (at most %d may keep "
              "their slots once nobody waits)" % (gone, STALLED, LIMIT))
        ctl.close()  # idle meanwhile: the daemon may have closed it
        ctl = RawCtl(os.path.join(d.tmp, "run", "ctl.sock"))
        info = ctl.call("tls.info")["result"]
        check(info["shed_handshakes"] == gone,
              "shedding counted: shed_handshakes %d"
              % info["shed_handshakes"])
        check(info["handshake_limit_pauses"] >= 1,
              "accept paused at the limit (handshake_limit_pauses %d)"
              % info["handshake_limit_pauses"])
        st = ctl.call("core.stats")["result"]
        check(st["closed"]["shed"] == info["shed_handshakes"],
              "core.stats: closes by reason shed = %d"
              % st["closed"]["shed"])
        check(st["shed_handshakes"] == info["shed_handshakes"],
              "core.stats: shed_handshakes")
        ua.close()
        ctl.close()
        check(d.stop() == 0, "exit 0")
    finally:
        d.kill()
        be.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
