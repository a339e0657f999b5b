#!/usr/bin/env python3
"""RFC 4475 (section 3) and RFC 5118 torture messages fed to siptlsd over
TLS, one connection each, with a scripted UDP backend behind it and a
bystander on the same (only) worker.

- A valid request is relayed with its meaning intact: the backend gets
  the same start line, body and headers, in order; what siptlsd may
  change is only what RFC 3261 16.6 lets a proxy change (its own Via on
  top, received/rport on the client's, Max-Forwards minus one,
  Record-Route/Path of its own).
- A valid response (RFC 4475 has five) is sent as the answer to a
  request that went through siptlsd (its Via on top) and reaches the
  backend intact.
- An invalid one gets what RFC 4475 expects: 400 (505 for badvers), 483
  for zeromf; clerr (Content-Length beyond the end) cannot be detected
  on a stream: nothing is relayed and the idle connection is closed (RFC
  4475 3.1.2.2); the invalid responses are dropped.
- After every message the bystander's OPTIONS is still answered.

The messages are written for UDP: those without Content-Length get one
(a stream needs it, RFC 3261 18.3), the only change made to them but
one: multi01 says l: 154 for its 152-byte body; over UDP that is one
more reason to refuse it, on a stream it would only make siptlsd wait
for two bytes that never come, so it is sent with l: 152 and gets the
400 its duplicated headers call for.
tests/sip/rfc4475/LIST and tests/sip/rfc5118/LIST say which is which."""
import os
import re
import sys
import tempfile
import time

from daemon_util import Daemon, check, test_pki
from relay_util import Backend, Msg, request, tls_client

PKI = os.path.abspath(test_pki())
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sip")

# RFC 4475's expectation for the messages siptlsd must not relay.
EXPECT = {"badvers": 505, "zeromf": 483, "clerr": "idle-close",
          "scalarlg": "drop", "bigcode": "drop"}


def load(rfc):
    out = []
    with open(os.path.join(DATA, rfc, "LIST")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, verdict = line.split()[:2]
            with open(os.path.join(DATA, rfc, name + ".dat"), "rb") as g:
                out.append((rfc, name, verdict, g.read()))
    return out


def with_clen(data):
    """Adds Content-Length when the message has none."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if b"Call-ID: multi01." in head:
        head = head.replace(b"\r\nl: 154", b"\r\nl: %d" % len(body))
    if re.search(rb"(?im)^(content-length|l)[ \t]*:", head):
        return head + sep + body
    return head + b"\r\nContent-Length: %d" % len(body) + sep + body


def frames(data):
    """The messages in <data> as a stream reads it (Content-Length):
    RFC 4475's dblreq is two (over UDP the bytes after the first are
    ignored; on a stream they are a second message, then a 3-byte tail
    that is no SIP: siptlsd relays both and closes the connection)."""
    out = []
    while b" SIP/2.0\r\n" in data.split(b"\r\n\r\n")[0]:
        head, _, rest = data.partition(b"\r\n\r\n")
        m = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", head)
        n = int(m.group(1)) if m else len(rest)
        out.append(head + b"\r\n\r\n" + rest[:n])
        data = rest[n:]
    return out


def squash(v):
    return re.sub(r"\s+", "", v).lower()


def top_via(v):
    """A Via value without received and rport, whitespace removed."""
    return re.sub(r";(received|rport)(=[^;,]*)?", "", squash(v))


def ours(v):
    return re.match(r"<sip:[a-z2-7]{32}@", v) is not None


def meaning(m, relayed):
    """What must survive the relay: start line, every header but Via,
    Max-Forwards, Content-Length and siptlsd's own Record-Route/Path, in
    order (whitespace collapsed: folds), the Via list (the top one without
    received/rport), Max-Forwards, the body."""
    hdrs = []
    for n, v in m.hdrs:
        k = Msg._norm(n)
        if k in ("via", "max-forwards", "content-length"):
            continue
        if relayed and k in ("record-route", "path") and ours(v):
            continue
        hdrs.append((k, " ".join(v.split())))
    vias = m.all("via")
    if relayed and not m.is_request:
        pass
    elif relayed:
        vias = vias[1:]
    vias = [top_via(vias[0])] + [squash(v) for v in vias[1:]] if vias \
        else []
    mf = m.get("max-forwards")
    return {"start": " ".join(m.start.split()), "hdrs": hdrs, "via": vias,
            "mf": int(mf) if mf and mf.isdigit() else None,
            "body": m.body}


def bystander_ok(by, n):
    by.send(request("OPTIONS", "sip:bob@example.test", "TLS 10.0.0.9:5061",
                    "by-%d" % n, n, "sip:by@example.test",
                    "sip:bob@example.test"))
    r = by.read(5)
    return r is not None and r.status == 200


def drain(be):
    while not be.q.empty():
        be.q.get()


def relayed_request(be, ua, name, data):
    ua.send(data)
    for one in frames(data):
        orig = Msg(one)
        got = be.wait(lambda m: m.is_request and
                      m.get("call-id") == orig.get("call-id"), 5)
        if got is None:
            return "not relayed (client got %r)" % ua.read(0.5)
        want, have = meaning(orig, False), meaning(got, True)
        want["mf"] = 70 if want["mf"] is None else want["mf"] - 1
        for k in want:
            if want[k] != have[k]:
                return "%s differs:\n  sent    %r\n  relayed %r" % (
                    k, want[k], have[k])
    return None


def relayed_response(be, ua, port, name, data):
    # The answer to a request that went through siptlsd: its Via on top.
    start, _, rest = data.partition(b"\r\n")
    ours_via = b"Via: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK%s\r\n" % (
        port, name.encode())
    ua.send(start + b"\r\n" + ours_via + rest)
    got = be.wait(lambda m: not m.is_request, 3)
    if got is None:
        return "not relayed"
    want, have = meaning(Msg(data), False), meaning(got, False)
    for k in want:
        if want[k] != have[k]:
            return "%s differs:\n  sent    %r\n  relayed %r" % (
                k, want[k], have[k])
    return None


def refused(be, ua, by, port, name, data, expect):
    is_response = data.startswith(b"SIP/")
    if is_response:
        start, _, rest = data.partition(b"\r\n")
        data = start + b"\r\nVia: SIP/2.0/TLS 127.0.0.1:%d;branch=" \
            b"z9hG4bKx\r\n" % port + rest
    ua.send(data)
    if expect == "drop":
        got = be.wait(lambda m: True, 1.5)
        return None if got is None else "relayed: %r" % got.start
    if expect == "idle-close":
        r = ua.read(1.5)
        if r is not None:
            return "answered %r" % r.start
        # The bystander keeps talking meanwhile: it must not idle out.
        for i in range(10):
            if ua.closed(1):
                break
            if not bystander_ok(by, 1000 + i):
                return "bystander not answered while waiting"
        else:
            return "connection not closed by the idle timeout"
        got = be.wait(lambda m: m.get("call-id") != None and
                      not m.get("call-id").startswith("by-"), 0.2)
        return None if got is None else "relayed: %r" % got.start
    r = ua.read(5)
    if r is None or r.status != expect:
        return "expected %s, got %r" % (expect, r.start if r else None)
    got = be.wait(lambda m: True, 0.5)
    return None if got is None else "relayed: %r" % got.start


def main():
    be = Backend()
    tmp = tempfile.mkdtemp(prefix="stls-torture-")
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write("[server:default]\ncertificate = %s/server.pem\n"
                "private_key = %s/server.key\n" % (PKI, PKI))
    d = Daemon("""[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:%d
workers = 1
connection_timeout = 3
[tls]
config = @TMP@/tls.cfg
""" % be.port, tmp=tmp)
    port = d.addrs[0][2]
    figures = {}
    try:
        by = tls_client("127.0.0.1", port)
        check(bystander_ok(by, 0), "bystander answered before")
        msgs = load("rfc4475") + load("rfc5118")
        seen = len(d.log().split("\n"))
        for n, (rfc, name, verdict, raw) in enumerate(msgs, 1):
            data = with_clen(raw)
            drain(be)
            ua = tls_client("127.0.0.1", port)
            is_response = data.startswith(b"SIP/")
            if verdict == "accept" and name not in EXPECT:
                kind = "response" if is_response else "request"
                err = relayed_response(be, ua, port, name, data) \
                    if is_response else relayed_request(be, ua, name, data)
                what = "valid %s relayed intact" % kind
            else:
                expect = EXPECT.get(name, 400)
                err = refused(be, ua, by, port, name, data, expect)
                what = "invalid: %s" % expect if verdict == "reject" \
                    else "answered %s" % expect
                kind = str(expect)
            figures[(rfc, kind)] = figures.get((rfc, kind), 0) + 1
            check(err is None, "%s %s: %s%s" % (rfc, name, what,
                                                ": " + err if err else ""))
            for line in d.log().split("\n")[seen:]:
                if "framing error" in line or "dropped" in line:
                    print("     log: " + line)
            seen = len(d.log().split("\n"))
            ua.close()
            check(bystander_ok(by, n), "%s %s: bystander still answered"
                  % (rfc, name))
        by.close()
        print("FIGURES torture %s" % " ".join(
            "%s/%s=%d" % (r, k.replace(" ", "_"), v)
            for (r, k), v in sorted(figures.items())))
        check(d.stop() == 0, "siptlsd exited cleanly")
    except SystemExit:
        print(d.log()[-4000:])
        raise
    finally:
        if d.p.poll() is None:
            d.stop()
        be.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
