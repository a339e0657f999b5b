#!/usr/bin/env python3
"""siptlsd's relay with a tcp: backend: each worker keeps one connection
to the backend; a REGISTER from a TLS UA reaches the backend over it with
a TCP Via and a Path naming that connection's port, the 200 comes back,
and a request the backend sends over the same connection with the Path
as Route reaches the UA. A backend restart is survived (reconnect)."""
import os
import socket
import sys
import tempfile
import threading
import time

from daemon_util import Daemon, check, test_pki
from relay_util import Stream, request, response, tls_client

PKI = test_pki()
AOR = "sip:alice@example.test"


class TcpBackend(threading.Thread):
    def __init__(self, port=0):
        super().__init__(daemon=True)
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", port))
        self.ls.listen(8)
        self.port = self.ls.getsockname()[1]
        self.got = []
        self.conns = []
        self.stop_ev = threading.Event()
        self.start()

    def run(self):
        self.ls.settimeout(0.1)
        while not self.stop_ev.is_set():
            try:
                c, _ = self.ls.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            st = Stream(c)
            self.conns.append(st)
            threading.Thread(target=self.serve, args=(st,),
                             daemon=True).start()

    def serve(self, st):
        while not self.stop_ev.is_set():
            m = st.read(0.5)
            if m is None:
                if st.closed(0.01):
                    return
                continue
            self.got.append((m, st))
            if m.is_request:
                extra = []
                if m.method == "REGISTER":
                    extra = [("Contact", m.get("contact"))]
                st.send(response(m, 200, "OK", extra=extra))

    def close(self):
        self.stop_ev.set()
        self.ls.close()
        for st in self.conns:
            st.close()
        self.join(2)


def wait_for(pred, timeout=5):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def main():
    be = TcpBackend()
    tmp = tempfile.mkdtemp(prefix="stls-relay-tcpb-")
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write("[server:default]\ncertificate = %s\nprivate_key = %s\n"
                % (os.path.join(PKI, "server.pem"),
                   os.path.join(PKI, "server.key")))
    d = Daemon("""[core]
listen = tls:127.0.0.1:0
backend = tcp:127.0.0.1:%d
workers = 2
[tls]
config = @TMP@/tls.cfg
""" % be.port, tmp=tmp)
    port = d.addrs[0][2]
    try:
        check(wait_for(lambda: len(be.conns) == 2),
              "each worker connected to the tcp: backend")
        ua = tls_client("127.0.0.1", port)
        ua.send(request("REGISTER", "sips:example.test", "TLS 10.0.0.7",
                        "reg-1", 1, AOR, AOR,
                        extra=[("Contact", "<sips:alice@10.0.0.7>")]))
        check(wait_for(lambda: be.got), "REGISTER reached the backend")
        m, st = be.got[0]
        via = m.all("via")[0]
        path = m.all("path")
        local = st.s.getpeername()[1]
        check(via.startswith("SIP/2.0/TCP 127.0.0.1:%d;" % local),
              "Via names the backend connection's port: " + via)
        check(len(path) == 1 and ";transport=tcp" in path[0],
              "Path with transport=tcp: %s" % path)
        r = ua.read()
        check(r is not None and r.status == 200, "200 reached the UA")
        st.send(request("MESSAGE", "sips:alice@10.0.0.7", "TCP 127.0.0.1:%d"
                        % be.port, "m-1", 1, "sip:pbx@example.test", AOR,
                        extra=[("Route", path[0])], body=b"hello"))
        m = ua.read()
        check(m is not None and m.method == "MESSAGE" and m.body == b"hello",
              "backend request over the tcp: connection reached the UA")
        ua.send(response(m, 200, "OK", to_tag="u1"))
        check(wait_for(lambda: any(not x.is_request and x.method ==
                                   "MESSAGE" for x, _ in be.got)),
              "UA's 200 reached the backend")
        # Backend restart: the workers reconnect with back-off.
        old = be.port
        be.close()
        be = TcpBackend(old)
        check(wait_for(lambda: len(be.conns) == 2, 10),
              "workers reconnected after a backend restart")
        ua.send(request("OPTIONS", "sip:bob@example.test", "TLS 10.0.0.7",
                        "o-1", 1, AOR, "sip:bob@example.test"))
        r = ua.read()
        check(r is not None and r.status == 200,
              "relaying works again after the restart")
        ua.close()
        check(d.stop() == 0, "siptlsd exited cleanly")
    except SystemExit:
        print(d.log())
        raise
    finally:
        if d.p.poll() is None:
            d.stop()
        be.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
