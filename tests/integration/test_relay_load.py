#!/usr/bin/env python3
# ctest-serial: timing- and memory-sensitive, runs alone
"""1,000 TLS connections through siptlsd's relay at once: each registers
(REGISTER relayed to a UDP backend, 200 back on its own connection), then
the backend reaches every one of them through its Path, with all 1,000
connections open. Also prints transactions per second through the relay
on one connection (for information; this machine is shared and the
Python peers are the bottleneck). Bounded in count and time."""
import os
import resource
import sys
import tempfile
import time

from daemon_util import Daemon, check, test_pki
from relay_util import Backend, request, tls_client

N = int(os.environ.get("STLS_RELAY_CONNS", "1000"))
BATCH = 100
PKI = test_pki()


def start(be):
    tmp = tempfile.mkdtemp(prefix="stls-relay-load-")
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write("[server:default]\ncertificate = %s\nprivate_key = %s\n"
                % (os.path.join(PKI, "server.pem"),
                   os.path.join(PKI, "server.key")))
    return Daemon("""[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:%d
workers = 2
[tls]
config = @TMP@/tls.cfg
""" % be.port, tmp=tmp)


def tps(ua, be, count, window):
    """count OPTIONS relayed to the backend and answered, at most
    <window> outstanding. Returns transactions per second."""
    t0 = time.time()
    sent = got = 0
    while got < count and time.time() - t0 < 60:
        while sent < count and sent - got < window:
            ua.send(request("OPTIONS", "sip:bob@example.test",
                            "TLS 10.0.0.7:5061", "tps-%d" % sent, sent + 1,
                            "sip:a@example.test", "sip:bob@example.test"))
            sent += 1
        if ua.read(5) is None:
            break
        got += 1
    return got, got / (time.time() - t0)


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = N + 200
    if hard < need:
        print("SKIP: RLIMIT_NOFILE hard limit %d < %d" % (hard, need))
        return 77
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))
    be = Backend()
    d = start(be)
    port = d.addrs[0][2]
    uas = []
    try:
        t0 = time.time()
        for i in range(N):
            uas.append(tls_client("127.0.0.1", port))
        t_open = time.time() - t0
        check(len(uas) == N, "%d TLS connections open (%.2f s)"
              % (N, t_open))
        ok = 0
        # In batches: the Python backend is slow to drain its socket.
        for b in range(0, N, BATCH):
            for i in range(b, min(N, b + BATCH)):
                aor = "sip:u%d@example.test" % i
                uas[i].send(request(
                    "REGISTER", "sips:example.test", "TLS 10.0.0.7:5061",
                    "reg-%d" % i, 1, aor, aor,
                    extra=[("Contact", "<sips:u%d@10.0.0.7>" % i)]))
            for ua in uas[b:b + BATCH]:
                r = ua.read(10)
                ok += r is not None and r.status == 200
        check(ok == N, "%d of %d registrations answered 200 through the "
              "relay (%.2f s in all)" % (ok, N, time.time() - t0))
        got = 0
        for b in range(0, N, BATCH):
            for i in range(b, min(N, b + BATCH)):
                be.request_via_path("sip:u%d@example.test" % i, "MESSAGE",
                                    "m-%d" % i, 1)
            for ua in uas[b:b + BATCH]:
                m = ua.read(10)
                got += m is not None and m.method == "MESSAGE"
        check(got == N, "the backend reached all %d flows via Path" % got)
        check(d.p.poll() is None, "siptlsd still running")
        n, seq = tps(uas[0], be, 1000, 1)
        n2, win = tps(uas[1], be, 3000, 32)
        print("info: relay transactions/s on one TLS connection: "
              "%.0f sequential (%d), %.0f with 32 outstanding (%d)"
              % (seq, n, win, n2), flush=True)
        for ua in uas:
            ua.close()
        check(d.stop() == 0, "siptlsd exited cleanly")
    except SystemExit:
        print(d.log()[-3000:])
        raise
    finally:
        if d.p.poll() is None:
            d.stop()
        be.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
