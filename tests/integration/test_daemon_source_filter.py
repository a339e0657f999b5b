#!/usr/bin/env python3
# ctest-serial: a connection flood, runs alone
"""The source filter ([core] source_filter): 127.0.0.2 connects faster
than source_handshake_rate; once refused it is put in the listeners' BPF
filter, and its next connects get no answer at all (the kernel drops the
SYN: the non-blocking connect is still in progress after 300 ms), which
the daemon no longer sees (refused_source_rate stops growing); the
counters say so in tls.info and /metrics; 127.0.0.3 still handshakes
and its phone is served; a proxy_protocol listener has no filter (its
peer is the balancer); after the hold time 127.0.0.2 is served again.
Bounded in count and time; the only timing is the 300 ms "no answer"
and the hold time, with margins."""
import os
import select
import socket
import ssl
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctl_util import RawCtl  # noqa: E402
from daemon_util import Daemon, check, free_tcp_port, test_pki  # noqa: E402
from relay_util import Backend, Stream, request, tls_context  # noqa: E402

RATE = 10
HOLD_MS = 3000
NO_ANSWER_S = 0.3
PKI = test_pki()


def start(be, mport):
    return Daemon("""[core]
listen = tls:127.0.0.1:0
listen = "tcp:127.0.0.1:0 proxy_protocol"
backend = udp:127.0.0.1:%d
workers = 2
rpc_socket = @TMP@/run/ctl.sock
proxy_trusted = 127.0.0.0/8
source_handshake_rate = %d
source_filter = yes
source_filter_hold = %d
metrics = 127.0.0.1:%d
[server:default]
certificate = %s
private_key = %s
""" % (be.port, RATE, HOLD_MS, mport, os.path.join(PKI, "server.pem"),
       os.path.join(PKI, "server.key")))


def try_connect(src, host, port, wait=NO_ANSWER_S):
    """'ok' when the TCP handshake completed within <wait> (the kernel
    answers before any accept), 'none' when no answer came (still in
    progress: the SYN was dropped), 'refused' on a reset."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.bind((src, 0))
    try:
        err = s.connect_ex((host, port))
        if err not in (0, 115):  # EINPROGRESS
            return "refused"
        _, w, _ = select.select([], [s], [], wait)
        if not w:
            return "none"
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        return "ok" if err == 0 else "refused"
    finally:
        s.close()


def tls_from(src, host, port):
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.settimeout(5)
    raw.bind((src, 0))
    raw.connect((host, port))
    return Stream(tls_context().wrap_socket(
        raw, server_hostname="sip.example.test"))


def served(src, host, port, tag):
    """A handshake and an OPTIONS answered 200."""
    try:
        ua = tls_from(src, host, port)
        ua.send(request("OPTIONS", "sip:bob@example.test",
                        "TLS 10.0.0.8:5061;rport", tag, 1,
                        "sip:c@example.test", "sip:bob@example.test"))
        m = ua.read(10)
        ua.close()
        return m is not None and m.status == 200
    except (OSError, ssl.SSLError):
        return False


def metric(mport, name):
    page = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport,
                                  timeout=5).read().decode()
    for line in page.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def main():
    be = Backend()
    mport = free_tcp_port()
    d = start(be, mport)
    ctl = RawCtl(os.path.join(d.tmp, "run", "ctl.sock"))
    try:
        _, host, port = [a for a in d.addrs if a[0] == "tls"][0]
        pport = [a for a in d.addrs if a[0] == "tcp"][0][2]

        # 1. 127.0.0.2 connects and closes, fast: its burst is accepted,
        # then it is refused (reset) and filtered: no answer at all.
        seen = []
        t_end = time.monotonic() + 15
        while time.monotonic() < t_end and len(seen) < 400:
            r = try_connect("127.0.0.2", host, port)
            seen.append(r)
            if r == "none":
                break
        t_filtered = time.monotonic()
        # A reset comes after accept, so after connect() returned: the
        # refusals are the daemon's count.
        info = ctl.call("tls.info")["result"]
        check(seen[-1] == "none" and info["refused_source_rate"] > 0,
              "127.0.0.2 refused (%d reset after accept), then "
              "unanswered after %d connects"
              % (info["refused_source_rate"], len(seen) - 1))
        check(info["source_filter_listed"] == 1 and
              info["source_filter_sources"] == 1 and
              info["source_filter_rebuilds"] >= 1 and
              info["source_filter_full"] == 0,
              "counted: listed %d, in the filter %d, rebuilds %d, full %d"
              % (info["source_filter_listed"],
                 info["source_filter_sources"],
                 info["source_filter_rebuilds"], info["source_filter_full"]))

        # 2. While held: more connects unanswered, unseen by the daemon.
        refused0 = info["refused_source_rate"]
        later = [try_connect("127.0.0.2", host, port) for _ in range(3)]
        check(later == ["none"] * 3,
              "127.0.0.2's later connects get no answer: %s" % later)
        info = ctl.call("tls.info")["result"]
        check(info["refused_source_rate"] == refused0,
              "the daemon did not see them (refused_source_rate %d, was %d)"
              % (info["refused_source_rate"], refused0))

        # 3. The other source is served meanwhile.
        ok = sum(served("127.0.0.3", host, port, "other-%d" % i)
                 for i in range(3))
        check(ok == 3, "127.0.0.3 handshakes and is answered: %d/3" % ok)

        # 4. The proxy_protocol listener has no filter: 127.0.0.2 (a
        # balancer there) completes its TCP handshake.
        check(try_connect("127.0.0.2", host, pport, 2) == "ok",
              "proxy_protocol listener: not filtered")

        # 5. /metrics carries the same counters.
        check(metric(mport, "siptls_source_filter_listed_total") == 1 and
              metric(mport, "siptls_source_filter_sources") == 1 and
              metric(mport, "siptls_source_filter_rebuilds_total") >= 1,
              "/metrics: listed, sources, rebuilds")
        check(time.monotonic() - t_filtered < HOLD_MS / 1000.0,
              "steps 2-5 ran within the hold time (%.1f s)"
              % (time.monotonic() - t_filtered))

        # 6. After the hold time (and at most one rebuild gap) 127.0.0.2
        # is served again.
        time.sleep(max(0.0, t_filtered + HOLD_MS / 1000.0 + 0.3 -
                       time.monotonic()))
        back = False
        for i in range(20):
            if served("127.0.0.2", host, port, "back-%d" % i):
                back = True
                break
            time.sleep(0.2)
        check(back, "127.0.0.2 served again after the hold time")
        info = ctl.call("tls.info")["result"]
        check(info["source_filter_sources"] == 0,
              "the filter is empty again (%d)"
              % info["source_filter_sources"])
        ctl.close()
        check(d.stop() == 0, "exit 0")
    finally:
        d.kill()
        be.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
