#!/usr/bin/env python3
"""siptlsd as a SIP TLS edge, end to end: TLS user agents (python ssl)
register and call through siptlsd to a scripted UDP backend; the
backend's INVITE reaches the UA over the same TLS connection via Path;
facts headers (and spoofed ones stripped); the verified-only policy
(403); backend requests to sips: targets open outbound TLS connections
with the right client profile and SNI (recorded by a python ssl server),
reuse them, and get 503 when the target is unreachable, fails
verification (untrusted, wrong name) or is denied by the connection-out
rules; CRLF keep-alive over TLS; the idle timeout."""
import os
import sys
import tempfile
import time

from daemon_util import Daemon, check, test_pki
from relay_util import (Backend, TlsPeer, request, response, tls_client,
                        uri_of, hostport_of)

PKI = test_pki()
AOR = "sip:alice@example.test"


def pki(name):
    return os.path.join(PKI, name)


TLS_CFG = """[server:default]
certificate = %(srv)s
private_key = %(srvk)s
verify_client = optional
ca_list = %(ca)s
[client:default]
verify_certificate = yes
ca_list = %(ca)s
verify_server_name = yes
[client:any]
server_id = carrier1
server_name = carrier.example.test
verify_server_name = no
verify_certificate = yes
ca_list = %(ca)s
""" % {"srv": pki("server.pem"), "srvk": pki("server.key"),
       "ca": pki("ca.pem")}


def start(be):
    tmp = tempfile.mkdtemp(prefix="stls-relay-tls-")
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write(TLS_CFG)
    d = Daemon("""[core]
listen = tls:127.0.0.1:0
listen = tls:127.0.0.2:0
backend = udp:127.0.0.1:%d
workers = 2
connection_timeout = 3
handshake_timeout = 3
[tls]
config = @TMP@/tls.cfg
xavp_cfg = tls
[relay]
facts = all
verified_only = tls:127.0.0.2:0
unverified_reply = "403 Client Certificate Required"
connection_out_deny = 127.0.0.3/32
""" % be.port, tmp=tmp)
    return d


def register(ua, aor=AOR, call_id="reg-1"):
    ua.send(request("REGISTER", "sips:example.test", "TLS 10.0.0.7:5061",
                    call_id, 1, aor, aor,
                    extra=[("Contact", "<sips:alice@10.0.0.7:5061>"),
                           ("X-TLS-Peer-Subject", "CN=mallory"),
                           ("x-tls-verified", "yes")]))


def test_register_facts(be, port):
    ua = tls_client("127.0.0.1", port, cert="client")
    register(ua)
    m = be.wait(lambda m: m.method == "REGISTER")
    check(m is not None, "REGISTER over TLS reached the backend")
    check(m.all("x-tls-verified") == ["yes"],
          "X-TLS-Verified: yes (client certificate verified), spoofed "
          "copy removed")
    subj = m.all("x-tls-peer-subject")
    check(len(subj) == 1 and "mallory" not in subj[0] and
          "alice" in subj[0].lower(), "Peer-Subject is the real one: %s"
          % subj)
    check("URI:sip:alice@example.test" in (m.get("x-tls-peer-san") or ""),
          "Peer-SAN: %s" % m.get("x-tls-peer-san"))
    fp = m.get("x-tls-peer-fingerprint") or ""
    check(len(fp) == 95 and fp.count(":") == 31,
          "Peer-Fingerprint is a SHA-256: " + fp)
    check(m.get("x-tls-sni") == "sip.example.test", "SNI forwarded")
    check(m.get("x-tls-version", "").startswith("TLSv1."), "Version")
    check(bool(m.get("x-tls-cipher")), "Cipher")
    # facts = all: every fact that fits a header (docs/facts.md).
    check(m.get("x-tls-peer-subject-cn") == "alice" and
          m.get("x-tls-peer-subject-uid") == "alice01" and
          m.get("x-tls-peer-subject-ou") == "phones",
          "subject components: CN, UID, OU")
    check(m.get("x-tls-peer-issuer-cn") == "siptls Test CA",
          "issuer CN: %s" % m.get("x-tls-peer-issuer-cn"))
    check(m.get("x-tls-peer-san-uri") == "sip:alice@example.test" and
          m.get("x-tls-peer-san-email") == "alice@example.test" and
          m.get("x-tls-peer-san-dns") is None,
          "one header per SAN kind present")
    check((m.get("x-tls-peer-serial") or "").isdigit(),
          "serial (decimal): %s" % m.get("x-tls-peer-serial"))
    check("GMT" in (m.get("x-tls-peer-not-before") or "") and
          "GMT" in (m.get("x-tls-peer-not-after") or ""),
          "validity dates")
    check(m.get("x-tls-peer-cert-version") == "2", "X.509 v3 (2)")
    check(m.get("x-tls-peer-revoked") == "no" and
          m.get("x-tls-peer-expired") == "no" and
          m.get("x-tls-peer-self-signed") == "no", "status facts")
    check("CN=siptls Test CA" in (m.get("x-tls-peer-chain-issuer") or ""),
          "the verified chain's issuer: %s"
          % m.get("x-tls-peer-chain-issuer"))
    check((m.get("x-tls-cipher-bits") or "").isdigit() and
          bool(m.get("x-tls-cipher-description")) and
          m.get("x-tls-resumed") == "no", "cipher bits, description, "
          "resumed")
    check(m.get("x-tls-peer-cert") is None,
          "the certificate itself only when named (cert)")
    r = ua.read()
    check(r is not None and r.status == 200, "REGISTER 200 back over TLS")
    return ua


def test_calls(be, ua):
    ua.send(request("INVITE", "sip:bob@example.test", "TLS 10.0.0.7:5061",
                    "call-1", 1, AOR, "sip:bob@example.test",
                    extra=[("Contact", "<sips:alice@10.0.0.7:5061>")]))
    inv = be.wait(lambda m: m.method == "INVITE")
    rr = inv.all("record-route") if inv else []
    check(len(rr) == 2 and "transport=tls" in rr[1],
          "outgoing INVITE at the backend, Record-Route inside + TLS side")
    r = ua.read()
    check(r is not None and r.status == 200, "200 to the UA")
    routes = [("Route", x) for x in reversed(rr)]
    ua.send(request("BYE", "sip:uas@127.0.0.1:%d" % be.port,
                    "TLS 10.0.0.7:5061", "call-1", 2, AOR,
                    "sip:bob@example.test", to_tag="b1", extra=routes))
    check(be.wait(lambda m: m.method == "BYE") is not None,
          "UA's BYE followed Record-Route to the backend")
    check(ua.read() is not None, "BYE answered")
    # Inbound call: the backend uses the Path of the registration.
    be.request_via_path(AOR, "INVITE", "in-1", 1,
                        extra=[("Contact", "<sip:pbx@127.0.0.1>")])
    inv = ua.read()
    check(inv is not None and inv.method == "INVITE",
          "backend INVITE reached the UA over its TLS connection (Path)")
    ua.send(response(inv, 200, "OK", to_tag="ua1"))
    r = be.wait(lambda m: not m.is_request and m.method == "INVITE")
    check(r is not None and r.status == 200, "UA's 200 reached the backend")
    rr = inv.all("record-route")
    be.send(request("BYE", "sips:alice@10.0.0.7:5061", "UDP 127.0.0.1:%d"
                    % be.port, "in-1", 2, "sip:pbx@example.test", AOR,
                    from_tag="bk1", to_tag="ua1",
                    extra=[("Route", x) for x in rr]),
            hostport_of(uri_of(be.bindings[AOR][1][0])))
    bye = ua.read()
    check(bye is not None and bye.method == "BYE",
          "backend's in-dialog BYE reached the UA (Record-Route)")
    ua.send(b"\r\n\r\n")
    check(ua.wait_pong(), "CRLF ping over TLS answered")


def test_verified_only(be, port2):
    ua = tls_client("127.0.0.2", port2)
    register(ua, "sip:nocert@example.test", "reg-n")
    r = ua.read()
    check(r is not None and r.status == 403 and
          "Client Certificate Required" in r.start,
          "verified_only listener, no client certificate: " +
          (r.start if r else "nothing"))
    ua.close()
    ua = tls_client("127.0.0.2", port2, cert="client")
    register(ua, "sip:withcert@example.test", "reg-w")
    r = ua.read()
    check(r is not None and r.status == 200,
          "verified_only listener, verified certificate: relayed")
    ua.close()


def out_request(be, target, call_id, extra=()):
    inside = hostport_of(uri_of(be.bindings[AOR][1][0]))
    be.send(request("MESSAGE", target, "UDP 127.0.0.1:%d" % be.port,
                    call_id, 1, "sip:pbx@example.test", "sip:peer@x",
                    extra=list(extra)), inside)
    return be.wait(lambda m: not m.is_request and
                   m.get("call-id") == call_id, 8)


def test_outbound(be):
    peer = TlsPeer("server")
    try:
        for i in range(3):
            r = out_request(be, "sips:peer@127.0.0.1:%d" % peer.port,
                            "out-%d" % i,
                            [("X-tls-Server-Name", "sip.example.test")])
            check(r is not None and r.status == 200,
                  "sips: target %d answered 200 through siptlsd" % i)
        check(peer.accepted == 1, "one outbound connection reused")
        check(peer.snis == ["sip.example.test"],
              "SNI from X-tls-Server-Name: %s" % peer.snis)
        check(not any(m.has_prefix("X-tls-") for m in peer.requests),
              "X-tls-* headers removed before leaving")
        r = out_request(be, "sip:peer@127.0.0.1:%d;transport=tls"
                        % peer.port, "out-id",
                        [("X-tls-Server-Id", "carrier1")])
        check(r is not None and r.status == 200 and
              peer.snis[-1] == "carrier.example.test",
              "server_id picked the carrier1 profile and its SNI: %s"
              % peer.snis)
    finally:
        peer.close()
    r = out_request(be, "sips:peer@127.0.0.1:%d" % peer.port, "out-dead")
    check(r is not None and r.status == 503,
          "unreachable TLS target: 503 (%s)" % (r.start if r else None))


def test_verification_failures(be):
    for cert, why in (("wrongname", "wrong name"),
                      ("selfsigned", "untrusted")):
        peer = TlsPeer(cert)
        try:
            r = out_request(be, "sips:peer@127.0.0.1:%d" % peer.port,
                            "vf-" + cert,
                            [("X-tls-Server-Name", "sip.example.test")])
            check(r is not None and r.status == 503,
                  "peer certificate %s: 503" % why)
            check(not peer.requests, "nothing reached that peer")
        finally:
            peer.close()
    r = out_request(be, "sips:peer@127.0.0.3:5061", "deny-1")
    check(r is not None and r.status == 503,
          "connection_out_deny 127.0.0.3/32: 503")


def test_backend_refuses(ua):
    # A request that fits a stream (max_message_size 65535) but, with our
    # Via and the facts headers added, not a UDP datagram: the kernel
    # refuses it when the turn's datagrams leave, and the client still
    # gets its 503 at once (not a 32 s timeout).
    body = b"x" * 65000
    ua.send(request("MESSAGE", "sip:bob@example.test", "TLS 10.0.0.7:5061",
                    "big-1", 1, AOR, "sip:bob@example.test",
                    extra=[("Content-Type", "text/plain")], body=body))
    r = ua.read()
    check(r is not None and r.status == 503,
          "oversized request for the UDP backend: 503 (%s)"
          % (r.status if r else None))
    check(r.get("call-id") == "big-1", "503 for that request")
    # The connection still carries the next request.
    ua.send(request("OPTIONS", "sip:bob@example.test", "TLS 10.0.0.7:5061",
                    "after-big", 1, AOR, "sip:bob@example.test"))
    r = ua.read()
    check(r is not None and r.status == 200, "next request relayed")


def test_idle(port):
    ua = tls_client("127.0.0.1", port)
    t0 = time.time()
    check(ua.closed(8), "idle TLS connection closed by connection_timeout")
    check(2 <= time.time() - t0 <= 7, "after about 3 s (%.1f s)"
          % (time.time() - t0))


def main():
    be = Backend()
    d = start(be)
    ports = [a[2] for a in d.addrs]
    try:
        ua = test_register_facts(be, ports[0])
        test_calls(be, ua)
        test_verified_only(be, ports[1])
        test_outbound(be)
        test_verification_failures(be)
        ua.close()
        # A new connection: the first may have idled out (3 s) during
        # the outbound tests on a busy machine.
        ua = tls_client("127.0.0.1", ports[0])
        test_backend_refuses(ua)
        test_idle(ports[0])
        ua.close()
        check(d.stop() == 0, "siptlsd exited cleanly")
        check("policy_refused=1" in d.log(), "policy refusal counted")
        check("out_denied=1" in d.log(), "connection-out denial counted")
    except SystemExit:
        print(d.log())
        raise
    finally:
        if d.p.poll() is None:
            d.stop()
        be.close()
    print("all relay tls tests passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
