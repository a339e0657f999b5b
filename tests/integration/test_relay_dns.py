#!/usr/bin/env python3
"""RFC 3263 for the relay's outbound targets, against a real DNS server:
NSD (dns_util.Nsd) on 127.0.0.53 serving the zone dns.test, siptlsd with
`[core] dns_server` pointing at it, a scripted UDP backend sending
requests to sips:/sip: targets in that zone, and python TLS peers.

- SRV with two targets, the first refusing connections: the request
  reaches the second (RFC 3263 4.3 fail-over), once;
- a request already written to a target that then closes is not resent
  to the next one;
- NAPTR choosing SIPS+D2T over SIP+D2T for a sip: URI;
- TTL: an SRV record changed and reloaded in NSD is used only after its
  TTL, not before;
- NXDOMAIN: 503 naming DNS (reason and Warning), then answered from the
  negative cache (SOA minimum) without a new query;
- a server that does not answer: 503 DNS Timeout; a second dns_server
  line is used when the first does not answer.
"""
import os
import re
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time

from daemon_util import Daemon, check, test_pki
from dns_util import Nsd, Silent, free_port, srv_ports
from relay_util import Backend, Stream, TlsPeer, request

PKI = test_pki()
ZONE = "dns.test"


def pki(name):
    return os.path.join(PKI, name)


TLS_CFG = """[server:default]
certificate = %(srv)s
private_key = %(srvk)s
[client:default]
verify_certificate = yes
ca_list = %(ca)s
verify_server_name = no
""" % {"srv": pki("server.pem"), "srvk": pki("server.key"),
       "ca": pki("ca.pem")}


def zone_text(p, ttl_port):
    """The test zone; p holds the peers' ports."""
    return """$ORIGIN dns.test.
$TTL 60
@ IN SOA ns.dns.test. admin.dns.test. %(serial)d 60 60 600 2
@ IN NS ns
ns IN A 127.0.0.53
h1 IN A 127.0.0.1
_sips._tcp.fo IN SRV 10 0 %(refused)d h1
_sips._tcp.fo IN SRV 20 0 %(peer)d h1
_sips._tcp.once IN SRV 10 0 %(hole)d h1
_sips._tcp.once IN SRV 20 0 %(peer2)d h1
naptr IN NAPTR 20 10 "s" "SIP+D2T" "" _sip._tcp.naptr.dns.test.
naptr IN NAPTR 10 10 "s" "SIPS+D2T" "" _sips._tcp.naptr.dns.test.
_sips._tcp.naptr IN SRV 0 0 %(peer)d h1
_sip._tcp.naptr IN SRV 0 0 %(plain)d h1
_sips._tcp.ttl 3 IN SRV 0 0 %(ttl)d h1
""" % dict(p, ttl=ttl_port, serial=ttl_port)


class BlackHole(threading.Thread):
    """A TLS peer that reads one request and closes without answering."""

    def __init__(self):
        super().__init__(daemon=True)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki("server.pem"), pki("server.key"))
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.port = self.ls.getsockname()[1]
        self.requests = []
        self.start()

    def run(self):
        self.ls.settimeout(10)
        try:
            raw, _ = self.ls.accept()
            s = self.ctx.wrap_socket(raw, server_side=True)
            m = Stream(s).read(5)
            if m is not None:
                self.requests.append(m)
            s.close()
        except OSError:
            pass

    def close(self):
        self.ls.close()
        self.join(2)


class PlainListener(threading.Thread):
    """A TCP listener that counts connections (must stay unused)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.port = self.ls.getsockname()[1]
        self.accepted = 0
        self.stop_ev = threading.Event()
        self.start()

    def run(self):
        self.ls.settimeout(0.1)
        while not self.stop_ev.is_set():
            try:
                c, _ = self.ls.accept()
                self.accepted += 1
                c.close()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return

    def close(self):
        self.stop_ev.set()
        self.ls.close()
        self.join(2)


def start(be, inside, servers, extra=""):
    tmp = tempfile.mkdtemp(prefix="stls-relay-dns-")
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write(TLS_CFG)
    dns = "".join("dns_server = %s:%d\n" % s for s in servers)
    return Daemon("""[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:%d
backend_source = 127.0.0.1:%d
workers = 2
handshake_timeout = 3
%s%s
[tls]
config = @TMP@/tls.cfg
xavp_cfg = tls
""" % (be.port, inside, dns, extra), tmp=tmp)


class Client:
    """The backend side: sends requests to siptlsd's inside socket."""

    def __init__(self, be, inside):
        self.be = be
        self.inside = ("127.0.0.1", inside)
        self.n = 0

    def send(self, target, sni=None):
        self.n += 1
        call_id = "dns-%d-%d" % (os.getpid(), self.n)
        extra = [("X-tls-Server-Name", sni)] if sni else []
        self.be.send(request("MESSAGE", target, "UDP 127.0.0.1:%d"
                             % self.be.port, call_id, 1,
                             "sip:pbx@example.test", "sip:peer@x",
                             extra=extra), self.inside)
        return call_id

    def answer(self, call_id, timeout=8):
        return self.be.wait(lambda m: not m.is_request and
                            m.get("call-id") == call_id, timeout)

    def ask(self, target, sni=None, timeout=8):
        return self.answer(self.send(target, sni), timeout)


def got(peer, call_id):
    return [m for m in peer.requests if m.get("call-id") == call_id]


def dns_stats(d):
    n = len(re.findall(r"dns stats:", d.log()))
    d.p.send_signal(signal.SIGUSR1)
    check(d.wait_log(r"dns stats:", 5, n + 1), "dns stats logged")
    line = re.findall(r"dns stats:(.*)", d.log())[-1]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def test_failover(cl, peer, refused):
    call_id = cl.send("sips:carrier@fo.dns.test")
    r = cl.answer(call_id)
    check(r is not None and r.status == 200,
          "SRV fail-over: the first target (port %d) refuses, the second "
          "answers 200 (%s)" % (refused, r.start if r else None))
    check(len(got(peer, call_id)) == 1,
          "the request reached the second target once")


def test_not_resent(cl, hole, peer2):
    call_id = cl.send("sips:carrier@once.dns.test")
    r = cl.answer(call_id, 4)
    end = time.time() + 2
    while time.time() < end and not hole.requests:
        time.sleep(0.05)
    check(len(hole.requests) == 1 and
          hole.requests[0].get("call-id") == call_id,
          "the first target got the request, then closed")
    time.sleep(1)
    check(not got(peer2, call_id),
          "the request written to a target that failed is not resent to "
          "the next one")
    check(r is None or r.status != 200, "no 200 for it")


def test_naptr(cl, peer, plain):
    call_id = cl.send("sip:carrier@naptr.dns.test")
    r = cl.answer(call_id)
    check(r is not None and r.status == 200 and len(got(peer, call_id)) == 1,
          "NAPTR: SIPS+D2T (order 10) chosen over SIP+D2T for a sip: URI, "
          "over TLS")
    check(plain.accepted == 0, "the SIP+D2T target was not used")


def test_ttl(cl, nsd, ports, peer_a, peer_b):
    t0 = time.time()
    c1 = cl.send("sips:carrier@ttl.dns.test", "s1.example.test")
    r = cl.answer(c1)
    check(r is not None and r.status == 200 and got(peer_a, c1),
          "SRV with TTL 3 s: first target A")
    nsd.set_zone(zone_text(ports, peer_b.port))
    end = time.time() + 2
    while (srv_ports(nsd.server, "_sips._tcp.ttl.dns.test") !=
           [peer_b.port] and time.time() < end):
        time.sleep(0.05)
    check(srv_ports(nsd.server, "_sips._tcp.ttl.dns.test") ==
          [peer_b.port], "NSD serves the changed SRV record (target B)")
    # A new destination (another SNI) resolves again: from the cache.
    check(time.time() - t0 < 2.5, "before the TTL ran out (%.1f s)"
          % (time.time() - t0))
    c2 = cl.send("sips:carrier@ttl.dns.test", "s2.example.test")
    r = cl.answer(c2)
    check(r is not None and r.status == 200 and got(peer_a, c2) and
          not got(peer_b, c2),
          "within the TTL the cached record is used (A, not B)")
    time.sleep(max(0.0, t0 + 3.6 - time.time()))
    c3 = cl.send("sips:carrier@ttl.dns.test", "s3.example.test")
    r = cl.answer(c3)
    check(r is not None and r.status == 200 and got(peer_b, c3),
          "after the TTL the new record is used (B)")


def test_nxdomain(cl, d):
    before = dns_stats(d)
    r = cl.ask("sips:carrier@nope.dns.test")
    check(r is not None and r.status == 503 and "DNS" in r.start,
          "NXDOMAIN: 503 naming DNS (%s)" % (r.start if r else None))
    w = r.get("warning", "")
    check(w.startswith("399 ") and "DNS: no such domain nope.dns.test" in w,
          "Warning: %s" % w)
    mid = dns_stats(d)
    r = cl.ask("sips:carrier@nope.dns.test")
    check(r is not None and r.status == 503 and "DNS" in r.start,
          "NXDOMAIN again: 503")
    after = dns_stats(d)
    check(after["queries"] == mid["queries"] and
          after["negative_hits"] == mid["negative_hits"] + 1,
          "the second answer came from the negative cache (queries %d -> "
          "%d -> %d)" % (before["queries"], mid["queries"],
                         after["queries"]))
    time.sleep(2.3)  # the SOA minimum (2 s) ran out
    r = cl.ask("sips:carrier@nope.dns.test")
    after2 = dns_stats(d)
    check(r is not None and r.status == 503 and
          after2["queries"] == after["queries"] + 1,
          "after the SOA minimum, asked again")


def test_timeout(be):
    silent = Silent()
    inside = free_port("127.0.0.1")
    d = start(be, inside, [silent.server],
              "dns_timeout = 300\ndns_tries = 1")
    try:
        cl = Client(be, inside)
        t0 = time.time()
        r = cl.ask("sips:carrier@fo.dns.test", timeout=6)
        took = time.time() - t0
        check(r is not None and r.status == 503 and
              r.start.endswith("DNS Timeout"),
              "a DNS server that does not answer: %s after %.1f s"
              % (r.start if r else None, took))
        check("DNS timeout for NAPTR fo.dns.test" in r.get("warning", ""),
              "Warning names the query: %s" % r.get("warning"))
        check(silent.count >= 1 and took < 4, "the query was sent and "
              "timed out (%d queries)" % silent.count)
        # Stopping while a resolution waits: dropped, clean exit.
        cl.send("sips:carrier@stop.dns.test")
        time.sleep(0.1)
        check(d.stop() == 0 and "ERROR" not in d.log(),
              "siptlsd stops cleanly with a DNS query on the way")
    finally:
        d.stop()
        silent.close()


def test_second_server(be, nsd, peer):
    silent = Silent()
    inside = free_port("127.0.0.1")
    d = start(be, inside, [silent.server, nsd.server],
              "dns_timeout = 300\ndns_tries = 1")
    try:
        r = Client(be, inside).ask("sips:carrier@fo.dns.test")
        check(r is not None and r.status == 200,
              "first dns_server silent, the second answers: 200")
    finally:
        d.stop()
        silent.close()


def main():
    be = Backend()
    peer, peer2, peer_b = TlsPeer(), TlsPeer(), TlsPeer()
    hole, plain = BlackHole(), PlainListener()
    refused = free_port("127.0.0.1")
    ports = {"refused": refused, "peer": peer.port, "hole": hole.port,
             "peer2": peer2.port, "plain": plain.port}
    nsd = Nsd(ZONE, zone_text(ports, peer2.port))
    inside = free_port("127.0.0.1")
    d = start(be, inside, [nsd.server])
    try:
        cl = Client(be, inside)
        test_failover(cl, peer, refused)
        test_not_resent(cl, hole, peer2)
        test_naptr(cl, peer, plain)
        test_ttl(cl, nsd, ports, peer2, peer_b)
        test_nxdomain(cl, d)
        check(d.stop() == 0, "siptlsd exited cleanly")
        check(re.search(r"out_failover=[1-9]", d.log()) is not None,
              "fail-over counted")
        check(re.search(r"out_dns_failed=[1-9]", d.log()) is not None,
              "DNS failures counted")
        test_timeout(be)
        test_second_server(be, nsd, peer)
    except SystemExit:
        print(d.log())
        print(nsd.log())
        raise
    finally:
        if d.p.poll() is None:
            d.stop()
        nsd.stop()
        for x in (peer, peer2, peer_b, hole, plain):
            x.close()
        be.close()
    print("all relay dns tests passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
