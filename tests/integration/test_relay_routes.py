#!/usr/bin/env python3
"""Route sets through siptlsd (issue 14), end to end with real sockets:
TLS user agents (python ssl) registered through siptlsd (2 workers) to a
real Kamailio 5.6 registrar on UDP, with and without record_route() in
its script. For callers and callees on the same worker and on different
workers: INVITE/200/ACK, re-INVITE, UPDATE, INFO and BYE from either
side; CANCEL before the answer; the ACK of a non-2xx; a 302 redirect; a
callee whose connection closed mid-dialog (430); a forged flow token in
a Route (403, route_refused); facts headers never reaching the callee;
Flow-Timer on an outbound REGISTER. Without record_route() the in-dialog
requests go from flow to flow (relay stats `direct`)."""
import os
import re
import socket
import sys
import tempfile
import time

from daemon_util import Daemon, check, test_pki
from kam_util import Kamailio, have_kamailio, token_worker
from relay_util import (Msg, hostport_of, request, response, tls_client,
                        uri_of)

PKI = os.path.abspath(test_pki())
HOST = "TLS 10.0.0.7:5061"


class Ua:
    """A TLS phone: registers as <user> (Supported: path), learns its
    flow token from the Path the registrar echoes in the 200 (RFC 3327;
    Kamailio with path_mode 2)."""

    def __init__(self, port, user):
        self.user = user
        self.aor = "sip:%s@example.test" % user
        self.contact = "<sip:%s@10.0.0.7:5061;transport=tls>" % user
        self.s = tls_client("127.0.0.1", port, cert="client")
        self.token = None
        self.cseq = 1

    def register(self, outbound=False):
        extra = [("Contact", self.contact + (
            ';reg-id=1;+sip.instance="<urn:uuid:%s>"'
            % ("00000000-0000-1000-8000-%012d" % len(self.user))
            if outbound else ""))]
        extra.append(("Supported", "path, outbound" if outbound else
                      "path"))
        self.s.send(request("REGISTER", "sip:example.test", HOST,
                            "reg-" + self.user, self.cseq, self.aor,
                            self.aor, extra=extra))
        self.cseq += 1
        r = self.s.read(5)
        if r is None or r.status != 200:
            return None
        m = re.search(r"sip:([a-z2-7]{32})@", " ".join(r.all("path")))
        self.token = m.group(1) if m else None
        return r

    def worker(self):
        return token_worker(self.token)

    def send(self, data):
        self.s.send(data)

    def read(self, pred=lambda m: True, timeout=5):
        """Next message matching pred; provisional responses skipped."""
        while True:
            m = self.s.read(timeout)
            if m is None or pred(m):
                return m

    def close(self):
        self.s.close()


class UdpUa:
    """A phone served by Kamailio directly over UDP (not through
    siptlsd): same interface as Ua for Call."""

    def __init__(self, kam_port, user):
        self.user = user
        self.aor = "sip:%s@example.test" % user
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.contact = "<sip:%s@127.0.0.1:%d>" % (user, self.port)
        self.kam = ("127.0.0.1", kam_port)
        self.dest = self.kam
        self.via = "UDP 127.0.0.1:%d" % self.port

    def register(self):
        self.sock.sendto(request("REGISTER", "sip:example.test", self.via,
                                 "reg-" + self.user, 1, self.aor, self.aor,
                                 extra=[("Contact", self.contact)]),
                         self.kam)
        r = self.read(lambda m: not m.is_request and m.status >= 200)
        return r if r is not None and r.status == 200 else None

    def send(self, data):
        """To the first Route entry's address, else to Kamailio."""
        m = Msg(data)
        route = m.get("route")
        if m.is_request and route:
            host, port = hostport_of(uri_of(route))
            self.sock.sendto(data, (host, port or 5060))
            return
        if not m.is_request:
            self.sock.sendto(data, self.last_from)
            return
        self.sock.sendto(data, self.kam)

    def read(self, pred=lambda m: True, timeout=5):
        end = time.time() + timeout
        while time.time() < end:
            self.sock.settimeout(max(0.01, end - time.time()))
            try:
                data, addr = self.sock.recvfrom(65536)
            except (socket.timeout, TimeoutError):
                return None
            m = Msg(data)
            if m.is_request:
                self.last_from = addr
            if pred(m):
                return m
        return None

    def close(self):
        self.sock.close()


def udp_phone(kam, a, tag):
    """alice (TLS, through siptlsd) and carol (UDP, served by Kamailio
    directly) call each other, each hanging up once. Without
    record_route() carol's in-dialog requests go to siptlsd's inside
    address (the Record-Route entry of alice's flow) straight from carol,
    and alice's go to Kamailio, which routes them by Request-URI."""
    c = UdpUa(kam.port, "carol-" + re.sub(r"\W", "-", tag))
    check(c.register() is not None, "%s: a UDP phone registered at "
          "Kamailio directly" % tag)
    for caller, callee, what in ((a, c, "TLS to UDP"), (c, a, "UDP to TLS")):
        call = Call(caller, callee, "udp-%s-%s" % (tag, what))
        inv = call.invite()
        check(inv is not None and inv.method == "INVITE",
              "%s %s: INVITE arrived" % (tag, what))
        r = call.answer(inv)
        check(r is not None and r.status == 200, "%s %s: 200 arrived" %
              (tag, what))
        for frm, method in ((caller, "ACK"), (callee, "INFO"),
                            (caller, "INFO"), (callee, "BYE")):
            err = call.round_trip(frm, method)
            check(err is None, "%s %s: %s from the %s: %s" % (
                tag, what, method, "UDP phone" if frm is c else
                "TLS phone", err or "delivered, answered"))
    c.close()


def ua_on(port, user, want_worker, made):
    """A registered UA on worker <want_worker> (bounded tries)."""
    t0 = time.time()
    for i in range(16):
        ua = Ua(port, "%s%d" % (user, i))
        r = ua.register()
        if r is None or ua.token is None:
            ua.close()
            return None
        if ua.worker() == want_worker:
            made.append(ua)
            print("  (%s on worker %d after %d tries, %.1f s)" %
                  (ua.user, want_worker, i + 1, time.time() - t0))
            return ua
        ua.close()
    return None


def via(ua):
    return getattr(ua, "via", HOST)


class Call:
    """One dialog between two Ua objects; keeps each side's route set."""

    def __init__(self, caller, callee, call_id):
        call_id = re.sub(r"[^A-Za-z0-9-]", "-", call_id)
        self.a, self.b, self.cid = caller, callee, call_id
        self.cseq = {caller: 1, callee: 100}
        self.routes = {}
        self.target = {caller: callee.contact.strip("<>"),
                       callee: caller.contact.strip("<>")}
        self.tag = {caller: "a-" + call_id, callee: "b-" + call_id}

    def invite(self):
        a, b = self.a, self.b
        data = request("INVITE", b.aor, via(a), self.cid, 1, a.aor, b.aor,
                       from_tag=self.tag[a],
                       extra=[("Contact", a.contact),
                              ("X-TLS-Peer-Subject", "CN=forged")])
        self.branch = re.search(rb"branch=(z9hG4bK\w+)", data).group(1)
        a.send(data)
        return b.read(lambda m: m.is_request)

    def hop(self, method, to_tag=None):
        """CANCEL or non-2xx ACK: the INVITE's branch (RFC 3261 9.1,
        17.1.1.3) and route."""
        a, b = self.a, self.b
        data = request(method, b.aor, via(a), self.cid, 1, a.aor, b.aor,
                       from_tag=self.tag[a], to_tag=to_tag)
        a.send(re.sub(rb"branch=z9hG4bK\w+", b"branch=" + self.branch,
                      data, count=1))

    def answer(self, inv, code=200, reason="OK", extra=()):
        a, b = self.a, self.b
        extra = list(extra) or [("Contact", b.contact)]
        b.send(response(inv, code, reason, to_tag=self.tag[b],
                        extra=extra))
        r = a.read(lambda m: not m.is_request and m.status >= 200)
        if r is not None and code < 300:
            rr = inv.all("record-route")
            self.routes[b] = list(rr)
            self.routes[a] = list(reversed(r.all("record-route")))
        return r

    def req(self, frm, method, cseq=None):
        to = self.b if frm is self.a else self.a
        if cseq is None:
            self.cseq[frm] += 1
            cseq = self.cseq[frm]
        frm.send(request(method, self.target[frm], via(frm), self.cid, cseq,
                         frm.aor, to.aor, from_tag=self.tag[frm],
                         to_tag=self.tag[to],
                         extra=[("Route", x) for x in self.routes[frm]]))
        return to

    def round_trip(self, frm, method):
        """frm sends method in the dialog; the peer answers 200."""
        to = self.req(frm, method)
        got = to.read(lambda m: m.is_request)
        if got is None or got.method != method:
            return "no %s at the peer (%r)" % (method, got)
        # Facts go to the backend; siptlsd never sends them to a phone.
        # (A phone the backend serves itself gets what the backend
        # forwards: stripping them there is the backend's job.)
        if isinstance(to, Ua) and got.has_prefix("X-TLS-"):
            return "facts headers reached the peer"
        if method == "ACK":
            return None
        to.send(response(got, 200, "OK", to_tag=None))
        r = frm.read(lambda m: not m.is_request and m.status >= 200)
        if r is None or r.status != 200 or r.method != method:
            return "no 200 to %s back (%r)" % (method, r)
        return None


def dialog(rr, a, b, tag):
    """A full dialog a -> b with every in-dialog method from both sides."""
    call = Call(a, b, "c-%s-%s" % ("rr" if rr else "norr", tag))
    inv = call.invite()
    check(inv is not None and inv.method == "INVITE",
          "%s: INVITE reached the callee (caller got %r)" %
          (tag, None if inv else a.s.read(1)))
    check(not inv.has_prefix("X-TLS-"),
          "%s: no facts header reached the callee (forged one removed, "
          "caller's own stripped)" % tag)
    r = call.answer(inv)
    check(r is not None and r.status == 200, "%s: 200 reached the caller"
          % tag)
    n_rr = len(call.routes[a])
    check(n_rr == (5 if rr else 4), "%s: route set of %d entries" %
          (tag, n_rr))
    for frm, method in ((a, "ACK"), (a, "INVITE"), (a, "ACK"),
                        (b, "UPDATE"), (a, "INFO"), (b, "INFO"),
                        (b, "INVITE"), (b, "ACK"), (a, "UPDATE")):
        err = call.round_trip(frm, method)
        check(err is None, "%s: %s from the %s: %s" % (
            tag, method, "caller" if frm is a else "callee",
            err or "delivered, answered"))
    who = b if tag.endswith("callee-bye") else a
    err = call.round_trip(who, "BYE")
    check(err is None, "%s: BYE from the %s" % (
        tag, "caller" if who is a else "callee"))


def cancel_and_redirect(a, b, tag):
    # CANCEL before the answer: hop by hop through Kamailio.
    call = Call(a, b, "cancel-" + tag)
    inv = call.invite()
    check(inv is not None, "%s: INVITE to be cancelled arrived" % tag)
    b.send(response(inv, 180, "Ringing", to_tag=call.tag[b]))
    call.hop("CANCEL")
    # Under a loaded test run Kamailio may take longer than the usual 5 s.
    c = b.read(lambda m: m.is_request and m.method == "CANCEL", timeout=15)
    check(c is not None, "%s: CANCEL reached the callee" % tag)
    b.send(response(c, 200, "OK", to_tag=None))
    b.send(response(inv, 487, "Request Terminated", to_tag=call.tag[b]))
    r = a.read(lambda m: not m.is_request and m.status == 487)
    check(r is not None, "%s: 487 reached the caller" % tag)
    # The ACK of the non-2xx: same route as the INVITE, absorbed by
    # Kamailio, which acknowledges the 487 itself towards the callee.
    call.hop("ACK", call.tag[b])
    ack = b.read(lambda m: m.is_request and m.method == "ACK")
    check(ack is not None, "%s: the 487 acknowledged towards the callee"
          % tag)
    # A 302 redirect.
    call = Call(a, b, "redir-" + tag)
    inv = call.invite()
    r = call.answer(inv, 302, "Moved Temporarily",
                    [("Contact", "<sip:elsewhere@192.0.2.50>")])
    check(r is not None and r.status == 302 and
          "sip:elsewhere@" in (r.get("contact") or ""),
          "%s: 302 reached the caller with the new target" % tag)
    call.hop("ACK", call.tag[b])
    ack = b.read(lambda m: m.is_request and m.method == "ACK")
    check(ack is not None, "%s: the 302 acknowledged towards the callee"
          % tag)


def closes(d):
    return sum(v for w in d.stats().values() for k, v in w.items()
               if k.startswith("closed_"))


def callee_gone(d, a, port, made, worker, tag):
    b = ua_on(port, "gone-" + re.sub(r"\W", "-", tag) + "-", worker, made)
    check(b is not None, "%s: a callee registered" % tag)
    call = Call(a, b, "gone-" + tag)
    inv = call.invite()
    call.answer(inv)
    err = call.round_trip(a, "ACK")
    check(err is None, "%s: dialog up" % tag)
    before = closes(d)
    b.close()
    made.remove(b)
    # Until siptlsd has read the end of the stream, the connection is
    # still there and the BYE would be written into it.
    end = time.time() + 5
    while closes(d) == before and time.time() < end:
        time.sleep(0.05)
    call.req(a, "BYE")
    r = a.read(lambda m: not m.is_request and m.status >= 200, 8)
    check(r is not None and r.status == 430,
          "%s: BYE to a callee whose connection closed: %s" %
          (tag, r.start if r else "nothing"))


def forged(a, b, tag):
    call = Call(a, b, "forged-" + tag)
    inv = call.invite()
    call.answer(inv)
    call.round_trip(a, "ACK")
    fake = re.sub(r"sip:[a-z2-7]{32}@", "sip:" + "a" * 32 + "@",
                  call.routes[a][-1])
    call.routes[a] = call.routes[a][:2] + [fake]
    call.req(a, "INFO")
    r = a.read(lambda m: not m.is_request and m.status >= 200)
    check(r is not None and r.status == 403,
          "%s: INFO whose route names a forged flow token: %s" %
          (tag, r.start if r else "nothing"))
    got = b.read(lambda m: m.is_request, 1)
    check(got is None, "%s: and it never reached the callee" % tag)


def relay_stat(d, key):
    """A counter of the relay stats line a SIGUSR1 logs."""
    d.stats()
    return int(re.findall(r"relay stats:.*\b%s=(\d+)" % key, d.log())[-1])


def run(rr, tmp):
    tag = "rr" if rr else "norr"
    kam = Kamailio(tmp, rr=rr, tag="kam-" + tag, path_mode=2)
    if not kam.alive():
        check(False, "kamailio started:\n" + kam.tail())
    d = Daemon("""[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:%d
workers = 2
[relay]
facts = all
[tls]
config = @TMP@/tls.cfg
""" % kam.port, tmp=tmp)
    port = d.addrs[0][2]
    made = []
    try:
        a0 = ua_on(port, "a" + tag, 0, made)
        b0 = ua_on(port, "b" + tag, 0, made)
        b1 = ua_on(port, "c" + tag, 1, made)
        check(None not in (a0, b0, b1), "%s: phones registered through "
              "siptlsd on worker 0, 0 and 1" % tag)
        dialog(rr, a0, b0, tag + " same worker")
        dialog(rr, a0, b1, tag + " different workers")
        dialog(rr, b1, a0, tag + " different workers callee-bye")
        cancel_and_redirect(a0, b1, tag)
        callee_gone(d, a0, port, made, 0, tag + " same worker")
        callee_gone(d, a0, port, made, 1, tag + " different workers")
        forged(a0, b1, tag)
        udp_phone(kam, a0, tag)
        refused = relay_stat(d, "route_refused")
        direct = relay_stat(d, "direct")
        check(refused >= 1, "%s: the forged token refused by siptlsd "
              "(route_refused=%d)" % (tag, refused))
        if rr:
            check(direct == 0, "%s: no flow-to-flow delivery with the "
                  "backend in the dialog (direct=%d)" % (tag, direct))
        else:
            check(direct > 0, "%s: in-dialog requests went from flow to "
                  "flow (direct=%d)" % (tag, direct))
        ob = Ua(port, "ob" + tag)
        made.append(ob)
        r = ob.register(outbound=True)
        check(r is not None and r.get("flow-timer") == "120",
              "%s: outbound REGISTER 200 with Flow-Timer: %s" %
              (tag, r.get("flow-timer") if r else None))
        r = a0.register()
        check(r is not None and r.get("flow-timer") is None,
              "%s: plain REGISTER 200 without Flow-Timer" % tag)
        for ua in made:
            ua.close()
        check(d.stop() == 0, "%s: siptlsd exited cleanly" % tag)
    except SystemExit:
        print(d.log()[-6000:])
        print(kam.tail())
        raise
    finally:
        if d.p.poll() is None:
            d.stop()
        kam.stop()


def main():
    if not have_kamailio():
        check(False, "kamailio installed (scripts/install-deps.sh)")
    for rr in (True, False):
        tmp = tempfile.mkdtemp(prefix="stls-routes-")
        with open(tmp + "/tls.cfg", "w") as f:
            f.write("[server:default]\ncertificate = %s/server.pem\n"
                    "private_key = %s/server.key\nverify_client = optional"
                    "\nca_list = %s/ca.pem\n" % (PKI, PKI, PKI))
        run(rr, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
