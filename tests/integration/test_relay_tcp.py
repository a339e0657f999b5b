#!/usr/bin/env python3
"""siptlsd's SIP relay over tcp: and udp: listeners (identity transform),
with a scripted UDP registrar/UAS as the backend: REGISTER with Path, a
call with Record-Route both ways, a backend INVITE over the registered
flow, CRLF keep-alive, OPTIONS to siptlsd, 430 on a dead flow, a framing
error closing one connection only, spoofed facts headers stripped, udp:
clients, backend requests to a new plain TCP target, and a
connection-out deny rule."""
import re
import socket
import sys
import threading

from daemon_util import Daemon, check, fail
from relay_util import (Backend, Msg, Stream, build, request, response,
                        tcp_client, uri_of, hostport_of)

AOR = "sip:alice@example.test"


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(backend, extra="", core=""):
    return Daemon("""[core]
listen = tcp:127.0.0.1:0
listen = udp:127.0.0.1:0
listen = udp:[::1]:0
listen = tcp:[::1]:0
backend = udp:127.0.0.1:%d
workers = 2
connection_timeout = 30
%s
[relay]
facts = verified
%s
""" % (backend.port, core, extra))


def register(ua, port, call_id="reg-1", aor=AOR, via="TCP 10.0.0.7:5060"):
    ua.send(request("REGISTER", "sip:example.test", via, call_id, 1, aor,
                    aor, extra=[("Contact", "<sip:alice@10.0.0.7:5060;"
                                 "transport=tcp>"),
                                ("X-TLS-Verified", "yes")]))


def test_register_and_call(d, be, port):
    ua = tcp_client("127.0.0.1", port)
    register(ua, port)
    m = be.wait(lambda m: m.method == "REGISTER")
    check(m is not None, "backend got the REGISTER")
    vias = m.all("via")
    check(vias[0].startswith("SIP/2.0/UDP 127.0.0.1:") and ";ft=" in vias[0],
          "our Via with a flow token on top: " + vias[0])
    check("received=127.0.0.1" in vias[1] and "rport=" in vias[1],
          "client Via got received and rport: " + vias[1])
    check(len(m.all("path")) == 1 and ";ob" in m.all("path")[0],
          "Path with ;ob added: %s" % m.all("path"))
    check(m.all("x-tls-verified") == ["no"],
          "spoofed X-TLS-Verified removed, ours says no: %s"
          % m.all("x-tls-verified"))
    check(m.get("max-forwards") == "69", "Max-Forwards decremented")
    r = ua.read()
    check(r is not None and r.status == 200, "REGISTER 200 reached the UA")
    check(len(r.all("via")) == 1, "our Via removed from the response")

    # Outgoing call from the UA.
    ua.send(request("INVITE", "sip:bob@example.test", "TCP 10.0.0.7:5060",
                    "call-1", 1, AOR, "sip:bob@example.test",
                    extra=[("Contact", "<sip:alice@10.0.0.7:5060>")]))
    inv = be.wait(lambda m: m.method == "INVITE")
    check(inv is not None and len(inv.all("record-route")) == 2,
          "INVITE at the backend with two Record-Route entries")
    rr = inv.all("record-route")
    r = ua.read()
    check(r is not None and r.status == 200 and
          r.all("record-route") == rr, "200 with Record-Route at the UA")
    # UA side: route set = reversed Record-Route.
    routes = [("Route", x) for x in reversed(rr)]
    ua.send(request("ACK", "sip:uas@127.0.0.1:%d" % be.port,
                    "TCP 10.0.0.7:5060", "call-1", 1, AOR,
                    "sip:bob@example.test", to_tag="b1", extra=routes))
    ack = be.wait(lambda m: m.method == "ACK")
    check(ack is not None and not ack.all("route"),
          "in-dialog ACK from the UA: our Routes removed")
    ua.send(request("BYE", "sip:uas@127.0.0.1:%d" % be.port,
                    "TCP 10.0.0.7:5060", "call-1", 2, AOR,
                    "sip:bob@example.test", to_tag="b1", extra=routes))
    bye = be.wait(lambda m: m.method == "BYE")
    check(bye is not None and not bye.all("route"),
          "in-dialog BYE from the UA reached the backend")
    r = ua.read()
    check(r is not None and r.status == 200, "BYE answered")

    # In-dialog request from the backend, following the Record-Route.
    bk = request("INFO", "sip:alice@10.0.0.7:5060", "UDP 127.0.0.1:%d"
                 % be.port, "call-1", 7, "sip:bob@example.test", AOR,
                 from_tag="b1", to_tag="a1",
                 extra=[("Route", x) for x in rr])
    be.send(bk, hostport_of(uri_of(rr[0])))
    info = ua.read()
    check(info is not None and info.method == "INFO" and
          not info.all("route"),
          "backend in-dialog INFO followed Record-Route to the UA")
    ua.send(response(info, 200, "OK", to_tag=None))
    r = be.wait(lambda m: not m.is_request and m.method == "INFO")
    check(r is not None and r.status == 200 and len(r.all("via")) == 1,
          "UA's 200 to INFO reached the backend, our Via removed")
    return ua


def test_inbound_call(be, ua):
    be.request_via_path(AOR, "INVITE", "in-1", 1,
                        extra=[("Contact", "<sip:pbx@127.0.0.1>")])
    inv = ua.read()
    check(inv is not None and inv.method == "INVITE",
          "backend INVITE via Path reached the UA on its connection")
    check(inv.all("via")[0].startswith("SIP/2.0/TCP "),
          "our Via on top of the request to the UA")
    ua.send(response(inv, 180, "Ringing", to_tag="ua1"))
    ua.send(response(inv, 200, "OK", to_tag="ua1"))
    r1 = be.wait(lambda m: not m.is_request and m.status == 180)
    r2 = be.wait(lambda m: not m.is_request and m.status == 200 and
                 m.method == "INVITE")
    check(r1 is not None and r2 is not None,
          "180 and 200 from the UA reached the backend")


def test_ping_options(ua, port):
    ua.send(b"\r\n\r\n")
    check(ua.wait_pong(), "CRLF ping answered with a pong")
    ua.send(request("OPTIONS", "sip:127.0.0.1:%d" % port,
                    "TCP 10.0.0.7:5060", "opt-1", 1, AOR, "sip:x@y"))
    r = ua.read()
    check(r is not None and r.status == 200 and
          r.get("server") == "siptlsd", "OPTIONS to siptlsd: 200 locally")


def test_dead_flow(be, port):
    aor = "sip:carol@example.test"
    ua = tcp_client("127.0.0.1", port)
    register(ua, port, "reg-c", aor)
    ua.read()
    ua.close()
    be.wait(lambda m: False, 0.3)
    be.request_via_path(aor, "MESSAGE", "msg-c", 1)
    r = be.wait(lambda m: not m.is_request and m.method == "MESSAGE")
    check(r is not None and r.status == 430,
          "request for a closed flow: 430 Flow Failed (%s)"
          % (r.start if r else None))


def test_framing_error(be, port):
    good = tcp_client("127.0.0.1", port)
    bad = tcp_client("127.0.0.1", port)
    bad.send(b"OPTIONS sip:x@y SIP/2.0\r\nVia: SIP/2.0/TCP 1.2.3.4;"
             b"branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\n"
             b"Call-ID: bad\r\nCSeq: 1 OPTIONS\r\nContent-Length: x\r\n\r\n")
    r = bad.read()
    check(r is not None and r.status == 400, "bad Content-Length: 400")
    check(bad.closed(), "then the connection is closed")
    register(good, port, "reg-g", "sip:good@example.test")
    r = good.read()
    check(r is not None and r.status == 200,
          "another connection keeps working")
    bad.close()
    good.close()


def test_udp_client(d, be):
    udp = d.addrs[1][2]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(3)
    aor = "sip:dave@example.test"
    s.sendto(request("REGISTER", "sip:example.test",
                     "UDP 127.0.0.1:%d" % s.getsockname()[1], "reg-u", 1,
                     aor, aor, extra=[("Contact", "<sip:dave@127.0.0.1:%d>"
                                       % s.getsockname()[1])]),
             ("127.0.0.1", udp))
    r = Msg(s.recvfrom(65536)[0])
    check(r.status == 200, "udp: REGISTER relayed and answered")
    be.request_via_path(aor, "MESSAGE", "msg-u", 1)
    m = Msg(s.recvfrom(65536)[0])
    check(m.method == "MESSAGE", "backend request via Path reached the "
          "udp: client")
    s.sendto(response(m, 200, "OK", to_tag="u1"), ("127.0.0.1", udp))
    r = be.wait(lambda m: not m.is_request and m.method == "MESSAGE")
    check(r is not None and r.status == 200, "its 200 reached the backend")
    s.close()


def test_ipv6(d, be):
    """IPv6 clients: a udp: one (its flow lives in the worker's table of
    recent IPv6 peers) and a tcp: one, both reached through their Path."""
    udp6, tcp6 = d.addrs[2][2], d.addrs[3][2]
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::1", 0))
    s.settimeout(3)
    aor = "sip:v6@example.test"
    me = s.getsockname()[1]
    s.sendto(request("REGISTER", "sip:example.test", "UDP [::1]:%d" % me,
                     "reg-6", 1, aor, aor,
                     extra=[("Contact", "<sip:v6@[::1]:%d>" % me)]),
             ("::1", udp6))
    r = Msg(s.recvfrom(65536)[0])
    check(r.status == 200, "udp: IPv6 REGISTER answered")
    be.request_via_path(aor, "MESSAGE", "msg-6", 1)
    m = Msg(s.recvfrom(65536)[0])
    check(m.method == "MESSAGE" and
          m.all("via")[0].startswith("SIP/2.0/UDP [::1]:%d;" % udp6),
          "backend request reached the IPv6 udp: client, Via of its "
          "listener: " + m.all("via")[0])
    s.close()
    ua = Stream(socket.create_connection(("::1", tcp6), 5))
    register(ua, tcp6, "reg-t6", "sip:t6@example.test")
    r = ua.read()
    check(r is not None and r.status == 200, "tcp: IPv6 REGISTER answered")
    be.request_via_path("sip:t6@example.test", "MESSAGE", "msg-t6", 1)
    m = ua.read()
    check(m is not None and m.method == "MESSAGE",
          "backend request reached the IPv6 tcp: client")
    ua.close()


def plain_peer():
    """A TCP SIP peer on an ephemeral port that answers requests 200."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    got = []

    def serve():
        ls.settimeout(10)
        try:
            c, _ = ls.accept()
        except OSError:
            return
        st = Stream(c)
        while True:
            m = st.read(5)
            if m is None:
                break
            got.append(m)
            st.send(response(m, 200, "OK", to_tag="p1"))
        st.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return ls, got


def test_new_target(be, d):
    ls, got = plain_peer()
    port = ls.getsockname()[1]
    inside = hostport_of(uri_of(be.bindings[AOR][1][0]))
    for i in range(3):
        be.send(request("MESSAGE", "sip:peer@127.0.0.1:%d;transport=tcp"
                        % port, "UDP 127.0.0.1:%d" % be.port, "out-%d" % i,
                        1, "sip:pbx@example.test", "sip:peer@x"), inside)
        r = be.wait(lambda m: not m.is_request and m.method == "MESSAGE")
        check(r is not None and r.status == 200,
              "request %d to a new plain TCP target answered" % i)
    check(len(got) == 3, "the peer got all three on one connection")
    ls.close()
    # Denied destination: 10.0.0.0/8 is in connection_out_deny.
    be.send(request("MESSAGE", "sip:peer@10.1.2.3:5060;transport=tcp",
                    "UDP 127.0.0.1:%d" % be.port, "deny-1", 1,
                    "sip:pbx@example.test", "sip:peer@x"), inside)
    r = be.wait(lambda m: not m.is_request and m.method == "MESSAGE")
    check(r is not None and r.status == 503,
          "denied destination: 503 to the backend")


def run(shared):
    """shared: the workers share one fixed inside port, so backend
    messages land on any worker and are handed to the owner."""
    be = Backend()
    core = "backend_source = 127.0.0.1:%d" % free_udp_port() if shared \
        else ""
    d = start(be, 'connection_out_deny = "10.0.0.0/8, fd00::/8"', core)
    port = d.addrs[0][2]
    try:
        ua = test_register_and_call(d, be, port)
        test_inbound_call(be, ua)
        test_ping_options(ua, port)
        test_dead_flow(be, port)
        test_framing_error(be, port)
        test_udp_client(d, be)
        test_ipv6(d, be)
        test_new_target(be, d)
        ua.close()
        rc = d.stop()
        check(rc == 0, "siptlsd exited cleanly")
        check("out_denied=1" in d.log(), "denial counted")
        check("framing_errors=1" in d.log(), "framing error counted")
        if shared:
            posted = re.findall(r"relay stats:.* posted=(\d+)", d.log())
            check(posted and int(posted[-1]) > 0,
                  "messages were handed between workers (%s)" % posted)
    except SystemExit:
        print(d.log())
        raise
    finally:
        if d.p.poll() is None:
            d.stop()
        be.close()


def main():
    run(False)
    print("--- again, with one inside port shared by the workers")
    run(True)
    print("all relay tcp tests passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
