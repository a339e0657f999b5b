#!/usr/bin/env python3
# ctest-serial: a connection flood, runs alone
"""Per-source limits ([core] source_max_connections,
source_handshake_rate): a flood of connections from 127.0.0.2 is refused
right after accept (a reset, before any handshake) and counted, while
every handshake from 127.0.0.3 succeeds and its phone is served; a source
holding its maximum of open connections gets the next one refused, and
may connect again once one closes; a source that connects and closes
at once, faster than its rate, is refused by the rate, and every one of
its connections is either accepted or counted refused. Bounded in count and time; no timing
asserts (the cost of a refusal is measured in bench/)."""
import os
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctl_util import RawCtl  # noqa: E402
from daemon_util import Daemon, check, test_pki  # noqa: E402
from relay_util import Backend, Stream, request, tls_context  # noqa: E402

MAX_CONNS = 6
RATE = 30
FLOOD = 400
OTHER = 20  # handshakes from the other source, under its own rate
PKI = test_pki()


def start(be):
    return Daemon("""[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:%d
workers = 2
rpc_socket = @TMP@/run/ctl.sock
source_max_connections = %d
source_handshake_rate = %d
[server:default]
certificate = %s
private_key = %s
""" % (be.port, MAX_CONNS, RATE, os.path.join(PKI, "server.pem"),
       os.path.join(PKI, "server.key")))


def conn_from(src, host, port, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((host, port))
    return s


def refused(s, timeout=10):
    """True when the daemon closed s without a word (reset or EOF)."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, ConnectionAbortedError):
        return True
    except OSError:
        return False


def flood(host, port, out):
    """FLOOD connects from 127.0.0.2, as fast as they go; keeps the ones
    the daemon did not close at once."""
    kept, n_refused = [], 0
    for _ in range(FLOOD):
        try:
            s = conn_from("127.0.0.2", host, port, 5)
        except OSError:
            n_refused += 1
            continue
        s.settimeout(0.05)
        try:
            data = s.recv(1)
            if data == b"":
                n_refused += 1
                s.close()
                continue
        except (ConnectionResetError, ConnectionAbortedError):
            n_refused += 1
            s.close()
            continue
        except (socket.timeout, TimeoutError):
            pass
        kept.append(s)
    out["kept"] = kept
    out["refused"] = n_refused


def tls_from(src, host, port):
    ctx = tls_context()
    raw = conn_from(src, host, port)
    return Stream(ctx.wrap_socket(raw, server_hostname="sip.example.test"))


def main():
    be = Backend()
    d = start(be)
    ctl = RawCtl(os.path.join(d.tmp, "run", "ctl.sock"))
    try:
        _, host, port = d.addrs[0]
        fl = {}
        ft = threading.Thread(target=flood, args=(host, port, fl))
        ft.start()
        ok, errors = 0, []
        for i in range(OTHER):
            try:
                ua = tls_from("127.0.0.3", host, port)
                ua.send(request("OPTIONS", "sip:bob@example.test",
                                "TLS 10.0.0.8:5061;rport", "src-%d" % i, 1,
                                "sip:c@example.test",
                                "sip:bob@example.test"))
                m = ua.read(10)
                if m is not None and m.status == 200:
                    ok += 1
                else:
                    errors.append("no answer")
                ua.close()
            except (OSError, ssl.SSLError) as e:
                errors.append(str(e))
            time.sleep(1.0 / RATE)  # under its own rate
        ft.join(120)
        check(ok == OTHER, "127.0.0.3 during the flood: %d/%d handshakes "
              "and OPTIONS answered %s" % (ok, OTHER, errors[:3]))
        check(fl["refused"] >= FLOOD - RATE - MAX_CONNS,
              "the flood from 127.0.0.2 refused at once: %d of %d"
              % (fl["refused"], FLOOD))
        check(len(fl["kept"]) <= MAX_CONNS,
              "127.0.0.2 holds at most %d connections (%d)"
              % (MAX_CONNS, len(fl["kept"])))
        info = ctl.call("tls.info")["result"]
        counted = (info["refused_source_connections"] +
                   info["refused_source_rate"])
        check(counted == fl["refused"],
              "refusals counted: %d by open connections + %d by rate = %d"
              % (info["refused_source_connections"],
                 info["refused_source_rate"], fl["refused"]))
        for s in fl["kept"]:
            s.close()

        # Open connections: MAX_CONNS held, the next refused; one closes,
        # one more is let in (the rate is not in the way: 1 a second).
        time.sleep(1.0)
        held = [tls_from("127.0.0.4", host, port) for _ in range(MAX_CONNS)]
        before = ctl.call("tls.info")["result"]["refused_source_connections"]
        try:
            extra = conn_from("127.0.0.4", host, port)
            was_refused = refused(extra)
            extra.close()
        except ConnectionResetError:
            # The reset came before connect() returned: refused as well.
            was_refused = True
        check(was_refused, "connection %d from 127.0.0.4 refused"
              % (MAX_CONNS + 1))
        after = ctl.call("tls.info")["result"]["refused_source_connections"]
        check(after == before + 1, "counted as refused_source_connections")
        held.pop().close()
        again = None
        for _ in range(50):  # the close reaches the daemon asynchronously
            try:
                again = tls_from("127.0.0.4", host, port)
                break
            except (OSError, ssl.SSLError):
                time.sleep(0.1)
        check(again is not None, "one closed: the source may connect again")
        for s in held + [again]:
            s.close()

        # The rate: connect and close at once, 300 times, from 127.0.0.5.
        st0 = ctl.call("core.stats")["result"]
        for _ in range(300):
            try:
                conn_from("127.0.0.5", host, port).close()
            except OSError:
                pass  # reset by the daemon before connect() returned

        def seen(st):
            return (st["accepted"] + st["refused_source_rate"] +
                    st["refused_source_connections"])
        want = seen(st0) + 300
        st = st0
        for _ in range(100):
            st = ctl.call("core.stats")["result"]
            if seen(st) >= want:
                break
            time.sleep(0.1)
        by_rate = st["refused_source_rate"] - st0["refused_source_rate"]
        check(by_rate > 0 and seen(st) == want,
              "a fast reconnecting source: %d of 300 refused by its rate, "
              "%d by its open connections (closes not yet seen), the "
              "rest accepted" % (by_rate, st["refused_source_connections"]
                                 - st0["refused_source_connections"]))
        ctl.close()
        check(d.stop() == 0, "exit 0")
    finally:
        d.kill()
        be.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
