#!/usr/bin/env python3
"""siptlsd in front of a real Kamailio 5.6 (Debian) used as a plain UDP
registrar and record-routing proxy: two TLS user agents register through
siptlsd (Kamailio stores their Path), one calls the other: the INVITE
goes UA -> siptlsd -> Kamailio -> (Path) siptlsd -> the other UA's TLS
connection, the 200 comes back the same way, and the in-dialog ACK and
BYE follow the Record-Route set through siptlsd and Kamailio (kam_util.py
has the script; test_relay_routes.py runs it with and without
record_route(), test_relay_baresip.py with real phones). Kamailio comes
from scripts/install-deps.sh: without it the test fails."""
import os
import sys
import tempfile

from daemon_util import Daemon, check, test_pki
from kam_util import Kamailio, have_kamailio
from relay_util import request, response, tls_client

PKI = os.path.abspath(test_pki())


def register(ua, user, port):
    aor = "sip:%s@example.test" % user
    ua.send(request("REGISTER", "sip:example.test", "TLS 10.0.0.7:5061",
                    "reg-" + user, 1, aor, aor,
                    extra=[("Contact", "<sip:%s@10.0.0.7:5061;"
                            "transport=tls>" % user)]))
    r = ua.read(5)
    return r is not None and r.status == 200


def main():
    check(have_kamailio(), "kamailio installed (scripts/install-deps.sh)")
    tmp = tempfile.mkdtemp(prefix="stls-relay-kam-")
    kam = Kamailio(tmp)
    check(kam.alive(), "kamailio started on udp:127.0.0.1:%d" % kam.port)
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write("[server:default]\ncertificate = %s\nprivate_key = %s\n"
                % (os.path.join(PKI, "server.pem"),
                   os.path.join(PKI, "server.key")))
    d = Daemon("""[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:%d
workers = 2
[tls]
config = @TMP@/tls.cfg
""" % kam.port, tmp=tmp)
    port = d.addrs[0][2]
    try:
        alice = tls_client("127.0.0.1", port)
        bob = tls_client("127.0.0.1", port)
        check(register(alice, "alice", port), "alice registered at "
              "Kamailio through siptlsd")
        check(register(bob, "bob", port), "bob registered")
        alice.send(request("INVITE", "sip:bob@example.test",
                           "TLS 10.0.0.7:5061", "kcall", 1,
                           "sip:alice@example.test", "sip:bob@example.test",
                           extra=[("Contact",
                                   "<sip:alice@10.0.0.7:5061;transport=tls>")
                                  ]))
        inv = bob.read(5)
        check(inv is not None and inv.method == "INVITE",
              "INVITE reached bob: alice -> siptlsd -> Kamailio -> Path ->"
              " siptlsd -> bob")
        rr = inv.all("record-route")
        check(len(rr) >= 5, "Record-Route: siptlsd (2), Kamailio, "
              "siptlsd (2): %d entries" % len(rr))
        bob.send(response(inv, 200, "OK", to_tag="bob1",
                          extra=[("Contact",
                                  "<sip:bob@10.0.0.8:5061;transport=tls>")]))
        ok = alice.read(5)
        while ok is not None and ok.status < 200:
            ok = alice.read(5)
        check(ok is not None and ok.status == 200,
              "bob's 200 reached alice the same way back")
        routes = [("Route", x) for x in reversed(ok.all("record-route"))]
        alice.send(request("ACK", "sip:bob@10.0.0.8:5061;transport=tls",
                           "TLS 10.0.0.7:5061", "kcall", 1,
                           "sip:alice@example.test", "sip:bob@example.test",
                           to_tag="bob1", extra=routes))
        ack = bob.read(5)
        check(ack is not None and ack.method == "ACK",
              "in-dialog ACK followed the route set to bob")
        alice.send(request("BYE", "sip:bob@10.0.0.8:5061;transport=tls",
                           "TLS 10.0.0.7:5061", "kcall", 2,
                           "sip:alice@example.test", "sip:bob@example.test",
                           to_tag="bob1", extra=routes))
        bye = bob.read(5)
        check(bye is not None and bye.method == "BYE", "BYE reached bob")
        bob.send(response(bye, 200, "OK", to_tag=None))
        r = alice.read(5)
        check(r is not None and r.status == 200 and r.method == "BYE",
              "200 to BYE reached alice")
        alice.close()
        bob.close()
        check(d.stop() == 0, "siptlsd exited cleanly")
    except SystemExit:
        print(d.log())
        print(kam.tail())
        raise
    finally:
        if d.p.poll() is None:
            d.stop()
        kam.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
