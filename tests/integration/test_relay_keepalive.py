#!/usr/bin/env python3
"""RFC 5626 section 4.4.1 keep-alive on the connections siptlsd opens
([relay] outbound_keepalive, outbound_keepalive_timeout): a TLS peer and
a TCP peer that answer the CRLF CRLF pings with a CRLF pong keep their
connection (reused by the next request); a TLS peer that never answers
has its connection closed after the pong timeout, and the failure is
counted (out_keepalive_failed)."""
import os
import re
import socket
import ssl
import sys
import tempfile
import threading
import time

from daemon_util import Daemon, check, test_pki
from dns_util import free_port
from relay_util import Backend, Msg, request, response

PKI = test_pki()


def pki(name):
    return os.path.join(PKI, name)


class PingPeer(threading.Thread):
    """A SIP peer (TLS or TCP) that answers requests with 200, counts
    the CRLF CRLF pings and answers them with CRLF when `pong`."""

    def __init__(self, tls=True, pong=True):
        super().__init__(daemon=True)
        self.tls, self.pong = tls, pong
        self.ctx = None
        if tls:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(pki("server.pem"), pki("server.key"))
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.port = self.ls.getsockname()[1]
        self.accepted = 0
        self.pings = 0
        self.requests = []
        self.closed_at = None
        self.stop_ev = threading.Event()
        self.start()

    def run(self):
        self.ls.settimeout(0.1)
        while not self.stop_ev.is_set():
            try:
                raw, _ = self.ls.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(raw,),
                             daemon=True).start()

    def _serve(self, raw):
        try:
            raw.settimeout(5)
            s = self.ctx.wrap_socket(raw, server_side=True) \
                if self.tls else raw
        except (ssl.SSLError, OSError):
            raw.close()
            return
        s.settimeout(0.2)
        buf = b""
        while not self.stop_ev.is_set():
            try:
                chunk = s.recv(65536)
            except (socket.timeout, TimeoutError):
                continue
            except (OSError, ssl.SSLError):
                break
            if not chunk:
                break
            buf += chunk
            buf = self._consume(s, buf)
        self.closed_at = time.time()
        s.close()

    def _consume(self, s, buf):
        while True:
            if buf.startswith(b"\r\n\r\n"):
                self.pings += 1
                buf = buf[4:]
                if self.pong:
                    s.sendall(b"\r\n")
                continue
            if buf.startswith(b"\r\n") and len(buf) > 2:
                buf = buf[2:]
                continue
            i = buf.find(b"\r\n\r\n")
            if i <= 0:
                return buf
            m = re.search(rb"(?im)^content-length\s*:\s*(\d+)", buf[:i])
            n = int(m.group(1)) if m else 0
            if len(buf) < i + 4 + n:
                return buf
            msg = Msg(buf[:i + 4 + n])
            buf = buf[i + 4 + n:]
            self.requests.append(msg)
            if msg.is_request and msg.method != "ACK":
                s.sendall(response(msg, 200, "OK", to_tag="k1"))

    def close(self):
        self.stop_ev.set()
        self.ls.close()
        self.join(2)


def start(be, inside):
    tmp = tempfile.mkdtemp(prefix="stls-keepalive-")
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write("""[client:default]
verify_certificate = yes
ca_list = %s
verify_server_name = no
""" % pki("ca.pem"))
    return Daemon("""[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:%d
backend_source = 127.0.0.1:%d
workers = 2
connection_timeout = 60
[tls]
config = @TMP@/tls.cfg
[relay]
outbound_keepalive = 1
outbound_keepalive_timeout = 1
""" % (be.port, inside), tmp=tmp)


def ask(be, inside, target, call_id):
    be.send(request("OPTIONS", target, "UDP 127.0.0.1:%d" % be.port,
                    call_id, 1, "sip:pbx@example.test", "sip:peer@x"),
            ("127.0.0.1", inside))
    return be.wait(lambda m: not m.is_request and
                   m.get("call-id") == call_id, 8)


def main():
    be = Backend()
    good, tcp, mute = PingPeer(), PingPeer(tls=False), PingPeer(pong=False)
    inside = free_port("127.0.0.1")
    d = start(be, inside)
    try:
        targets = (("tls", good, "sips:peer@127.0.0.1:%d" % good.port),
                   ("tcp", tcp, "sip:peer@127.0.0.1:%d;transport=tcp"
                    % tcp.port),
                   ("mute", mute, "sips:peer@127.0.0.1:%d" % mute.port))
        for name, peer, uri in targets:
            r = ask(be, inside, uri, "ka-%s-1" % name)
            check(r is not None and r.status == 200,
                  "%s peer: first request answered 200" % name)
        t0 = time.time()
        time.sleep(4)
        for name, peer in (("tls", good), ("tcp", tcp)):
            check(peer.pings >= 3 and peer.closed_at is None,
                  "%s peer answering pongs: %d pings in 4 s, connection "
                  "kept" % (name, peer.pings))
        check(mute.pings >= 1 and mute.closed_at is not None and
              mute.closed_at - t0 < 3.5,
              "silent peer: %d ping(s), connection closed after the pong "
              "timeout" % mute.pings)
        for name, peer, uri in targets[:2]:
            r = ask(be, inside, uri, "ka-%s-2" % name)
            check(r is not None and r.status == 200 and peer.accepted == 1,
                  "%s peer: next request on the same connection" % name)
        r = ask(be, inside, targets[2][2], "ka-mute-2")
        check(r is not None and r.status == 200 and mute.accepted == 2,
              "silent peer: the next request opens a new connection")
        check(d.stop() == 0, "siptlsd exited cleanly")
        m = re.search(r"out_keepalive_failed=(\d+)", d.log())
        check(m is not None and int(m.group(1)) >= 1,
              "failed keep-alive counted (out_keepalive_failed=%s)"
              % (m.group(1) if m else None))
        check(re.search(r"out_pings=([1-9]\d*)", d.log()) is not None,
              "pings counted")
        check("keepalive-timeout" in d.log(),
              "close reason keepalive-timeout logged")
    except SystemExit:
        print(d.log())
        raise
    finally:
        if d.p.poll() is None:
            d.stop()
        for p in (good, tcp, mute):
            p.close()
        be.close()
    print("all relay keep-alive tests passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
