"""siptlsd on loopback with tcp: listeners (IPv4 and ::1) and the echo
handler: data reaches the handler, 1,000 concurrent connections are
served across the workers, the idle timeout (taken from [tls]
connection_timeout) closes, SIGHUP reloads the profiles, SIGTERM exits 0
and removes the pid file."""
import os
import selectors
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import Daemon, check, closed_within, connect, echo, fail  # noqa: E402

CFG = """
[tls]
connection_timeout = 2

[core]
listen = tcp:127.0.0.1:0
listen = tcp:[::1]:0
backend = udp:127.0.0.1:26999
handler = echo
workers = 4
max_connections = 5000
pid_file = @TMP@/siptlsd.pid
"""

N = 1000


def many_connections(d):
    _, host, port = d.addrs[0]
    socks = []
    for i in range(N):
        socks.append(connect(socket.AF_INET, host, port))
    sel = selectors.DefaultSelector()
    want = {}
    for i, s in enumerate(socks):
        msg = b"OPTIONS sip:%d SIP/2.0\r\n\r\n" % i
        s.sendall(msg)
        s.setblocking(False)
        want[s] = [msg, b""]
        sel.register(s, selectors.EVENT_READ)
    end = time.time() + 30
    done = 0
    while done < N and time.time() < end:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            data = s.recv(65536)
            want[s][1] += data
            if want[s][1] == want[s][0] or not data:
                sel.unregister(s)
                done += 1
    ok = all(w[0] == w[1] for w in want.values())
    check(ok and done == N, "%d concurrent connections all echoed" % N)
    st = d.stats()
    per = [st[w]["accepted"] for w in sorted(st)]
    opened = sum(st[w]["open"] for w in st)
    print("     per-worker accepted: %s" % per, flush=True)
    check(sum(per) >= N and opened >= N, "daemon counted them all open")
    check(len(per) == 4 and min(per) >= N // 16,
          "every worker took a share (%s)" % per)
    for s in socks:
        s.close()


def main():
    if not socket.has_ipv6:
        sys.exit(77)
    d = Daemon(CFG)
    try:
        check(len(d.addrs) == 2, "two listeners bound: %s" % d.addrs)
        pid_file = os.path.join(d.tmp, "siptlsd.pid")
        with open(pid_file) as f:
            check(int(f.read()) == d.p.pid, "pid file names the daemon")
        a = connect(socket.AF_INET, d.addrs[0][1], d.addrs[0][2])
        b = connect(socket.AF_INET6, d.addrs[1][1], d.addrs[1][2])
        check(echo(a, b"REGISTER sip:x SIP/2.0\r\n\r\n"), "IPv4 echo")
        check(echo(b, b"hello over ::1"), "IPv6 echo")
        t0 = time.time()
        check(closed_within(a, 6), "idle connection closed")
        took = time.time() - t0
        check(1.5 <= took <= 4.5,
              "after about [tls] connection_timeout = 2 s (%.2f s)" % took)
        b.close()
        d.p.send_signal(signal.SIGHUP)
        check(d.wait_log(r"TLS profiles reloaded: generation 2"),
              "SIGHUP reloads the TLS profiles")
        check(d.p.poll() is None, "still running after SIGHUP")
        c = connect(socket.AF_INET, d.addrs[0][1], d.addrs[0][2])
        check(echo(c, b"x"), "served after SIGHUP")
        rc = d.stop(signal.SIGTERM)
        check(rc == 0, "SIGTERM: exit status 0 (got %s)" % rc)
        check(closed_within(c, 2), "open connection closed at shutdown")
        check(not os.path.exists(pid_file), "pid file removed")
        check("closed_shutdown=" in d.log(), "shutdown counted")
    finally:
        d.kill()
    if "ERROR: AddressSanitizer" in d.log() or "LeakSanitizer" in d.log():
        fail("sanitizer report:\n" + d.log())
    # A second daemon, without idle timeout ([core] overrides [tls]).
    d = Daemon(CFG.replace("workers = 4",
                           "workers = 4\nconnection_timeout = -1"))
    try:
        many_connections(d)
        check(d.stop(signal.SIGINT) == 0, "SIGINT: exit status 0")
    finally:
        d.kill()


if __name__ == "__main__":
    main()
