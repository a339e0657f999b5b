#!/usr/bin/env python3
"""etc/edge.lua, every rule, with real TLS clients (python ssl and
openssl s_client) through siptlsd to a scripted UDP backend:

- the seed's is_peer_verified() example: no client certificate -> 400;
- the ACL by client certificate: alice (CN and SAN URI listed) passes,
  mallory (verified, not listed) gets 403;
- per-tenant SNI policy: a client that asked for sip.example.test may only
  send requests for example.test (403 Wrong Tenant otherwise) and its
  requests carry X-Tenant and the tenant's server_id (X-tls-Server-Id);
  the other tenant's SNI (other.example.test) likewise;
- the seed's connection-out example: ksr_tls_event("tls:connection-out")
  runs before the first byte of each TLS connection siptlsd opens; the
  server_id the request hook set travels with the request, and the
  backend's request carrying it leaves through the carrier1 client
  profile (SNI carrier.example.test); a dropped destination gets 503.
  No test may send to 1.2.3.4, so the copy of edge.lua the daemon runs
  has the seed's address replaced by 127.0.0.5 (same code; the unit test
  test_script_edge.c runs the file as it is against 1.2.3.4, without a
  network);
- plain tcp: requests are not the script's business (relayed);
- script.reload, tls.reload and SIGHUP load a new generation; a broken
  script is refused with FILE:LINE and the running one keeps working;
  siptlsd --check loads the script too."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from ctl_util import Ctl
from daemon_util import SIPTLSD, Daemon, check, test_pki
from relay_util import (Backend, TlsPeer, request, tcp_client, tls_client,
                        uri_of, hostport_of)

PKI = test_pki()
SRC = os.environ.get("STLS_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
AOR = "sip:alice@example.test"


def pki(name):
    return os.path.join(PKI, name)


TLS_CFG = """[server:default]
certificate = %(p)s/server.pem
private_key = %(p)s/server.key
verify_client = optional
ca_list = %(p)s/ca.pem
[server:any]
server_name = other.example.test
certificate = %(p)s/server2.pem
private_key = %(p)s/server2.key
verify_client = optional
ca_list = %(p)s/ca.pem
[client:default]
verify_certificate = yes
ca_list = %(p)s/ca.pem
verify_server_name = yes
[client:any]
server_id = carrier1
server_name = carrier.example.test
verify_server_name = no
verify_certificate = yes
ca_list = %(p)s/ca.pem
""" % {"p": PKI}

CFG = """[core]
listen = tls:127.0.0.1:0
listen = tcp:127.0.0.1:0
backend = udp:127.0.0.1:%d
workers = 2
connection_timeout = 20
rpc_socket = @TMP@/run/ctl.sock
script = edge.lua
request_callback = ksr_request_route
[tls]
config = @TMP@/tls.cfg
xavp_cfg = tls
event_callback = ksr_tls_event
[relay]
facts = verified
"""


def write_script(tmp, text=None):
    with open(os.path.join(SRC, "etc", "edge.lua")) as f:
        src = f.read()
    check('"1.2.3.4"' in src, "etc/edge.lua has the seed's 1.2.3.4 rule")
    with open(os.path.join(tmp, "edge.lua"), "w") as f:
        f.write(text if text is not None else
                src.replace('"1.2.3.4"', '"127.0.0.5"'))


def start(be):
    tmp = tempfile.mkdtemp(prefix="stls-script-edge-")
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write(TLS_CFG)
    write_script(tmp)
    return Daemon(CFG % be.port, tmp=tmp)


def send(ua, method, ruri, call_id, extra=()):
    ua.send(request(method, ruri, "TLS 10.0.0.7:5061", call_id, 1, AOR,
                    ruri, extra=[("Contact", "<sips:alice@10.0.0.7:5061>")]
                    + list(extra)))
    return ua.read()


def test_verified(port):
    ua = tls_client("127.0.0.1", port)
    r = send(ua, "REGISTER", "sips:example.test", "nocert-1")
    check(r is not None and r.status == 400 and
          "No certificate or verification failed" in r.start,
          "no client certificate: 400 (%s)" % (r.start if r else None))
    ua.close()
    # The same with openssl s_client as the client.
    req = request("OPTIONS", "sip:bob@example.test", "TLS 10.0.0.7:5061",
                  "sclient-1", 1, AOR, "sip:bob@example.test")
    p = subprocess.run(
        ["timeout", "20", "openssl", "s_client", "-quiet", "-connect",
         "127.0.0.1:%d" % port, "-servername", "sip.example.test",
         "-CAfile", pki("ca.pem"), "-verify_return_error"],
        input=req, capture_output=True, timeout=30)
    check(b"SIP/2.0 400 No certificate" in p.stdout,
          "openssl s_client without a certificate: 400 (%r)"
          % p.stdout[:80])


def test_acl_and_tenant(be, port):
    ua = tls_client("127.0.0.1", port, cert="client")
    r = send(ua, "REGISTER", "sips:example.test", "reg-1")
    m = be.wait(lambda m: m.method == "REGISTER")
    check(m is not None, "alice (CN and SAN URI in the ACL): relayed")
    check(m.get("x-tenant") == "sip.example.test",
          "X-Tenant added by the script: %s" % m.get("x-tenant"))
    check(m.all("x-tls-server-id") == ["carrier1"],
          "server_id of the tenant carried as X-tls-Server-Id: %s"
          % m.all("x-tls-server-id"))
    check(m.get("x-tls-verified") == "yes", "facts still added")
    check(r is not None and r.status == 200, "REGISTER 200 back")
    r = send(ua, "INVITE", "sip:bob@other.example.test", "wrong-1")
    check(r is not None and r.status == 403 and "Wrong Tenant" in r.start,
          "request for another tenant's domain: 403 Wrong Tenant")
    # A client that sends its own X-tls-Server-Id does not choose the
    # outbound profile: the header is replaced by the script's value.
    r = send(ua, "MESSAGE", "sip:bob@example.test", "msg-1",
             [("X-tls-Server-Id", "evil"), ("X-tls-Server-Name", "evil")])
    m = be.wait(lambda m: m.method == "MESSAGE")
    check(m is not None and m.all("x-tls-server-id") == ["carrier1"] and
          not m.all("x-tls-server-name"),
          "client's own xavp_cfg headers removed")
    ua.close()
    ua = tls_client("127.0.0.1", port, cert="client-revoked")
    r = send(ua, "OPTIONS", "sip:bob@example.test", "acl-1")
    check(r is not None and r.status == 403 and
          "Certificate Not Allowed" in r.start,
          "mallory (verified, not in the ACL): 403")
    ua.close()
    ua = tls_client("127.0.0.1", port, cert="client",
                    sni="other.example.test")
    r = send(ua, "OPTIONS", "sip:bob@example.test", "t2-1")
    check(r is not None and r.status == 403 and "Wrong Tenant" in r.start,
          "tenant other.example.test calling example.test: 403")
    r = send(ua, "MESSAGE", "sip:bob@other.example.test", "t2-2")
    m = be.wait(lambda m: m.get("call-id") == "t2-2")
    check(m is not None and m.get("x-tenant") == "other.example.test" and
          m.all("x-tls-server-id") == ["carrier2"],
          "tenant other.example.test: its own tenant and server_id")
    check(r is not None and r.status == 200, "and answered")
    ua.close()


def test_plain_tcp(be, port):
    ua = tcp_client("127.0.0.1", port)
    ua.send(request("OPTIONS", "sip:bob@elsewhere.test", "TCP 10.0.0.7:5060",
                    "tcp-1", 1, AOR, "sip:bob@elsewhere.test"))
    m = be.wait(lambda m: m.get("call-id") == "tcp-1")
    check(m is not None and m.get("x-tenant") is None,
          "tcp: request relayed untouched by the TLS rules")
    ua.close()


def out_request(be, target, call_id, extra):
    be.send(request("MESSAGE", target, "UDP 127.0.0.1:%d" % be.port,
                    call_id, 1, "sip:pbx@example.test", "sip:peer@x",
                    extra=list(extra)), be.inside)
    return be.wait(lambda m: not m.is_request and
                   m.get("call-id") == call_id, 15)


def test_connection_out(be, d, reg):
    be.inside = hostport_of(uri_of(reg.all("path")[0]))
    peer = TlsPeer("server")
    try:
        n = len(re.findall("tls module triggered event", d.log()))
        # The backend sends on what the hook set for the client's request.
        r = out_request(be, "sips:peer@127.0.0.1:%d" % peer.port, "out-1",
                        [("X-tls-Server-Id",
                          reg.get("x-tls-server-id"))])
        check(r is not None and r.status == 200,
              "outbound TLS through the connection-out hook: 200")
        check(peer.snis == ["carrier.example.test"],
              "the tenant's server_id chose the carrier1 profile: %s"
              % peer.snis)
        check(d.wait_log("tls module triggered event: "
                         "tls:connection-out", 5, n + 1),
              "ksr_tls_event(\"tls:connection-out\") called")
    finally:
        peer.close()
    r = out_request(be, "sips:peer@127.0.0.5:5061", "out-drop", [])
    check(r is not None and r.status == 503,
          "KSR.drop() in the connection-out event: 503 (%s)"
          % (r.start if r else None))


def test_reload(be, d, port):
    ctl = Ctl(d)
    info = ctl.call("script.info")
    check(info["generation"] == 1 and info["conn_dropped"] == 1 and
          info["replies"] >= 4 and info["errors"] == 0,
          "script.info counts: %s" % info)
    cs = ctl.call("core.stats").get("script", {})
    check(cs.get("generation") == 1 and cs.get("replies") == info["replies"],
          "core.stats has the script counters: %s" % cs)
    good = open(os.path.join(d.tmp, "edge.lua")).read()
    write_script(d.tmp, good + "\nfunction ksr_request_route(\n")
    rc, out, err = ctl.run("script.reload")
    check(rc != 0 and re.search(r"edge\.lua:\d+: ", out + err),
          "broken script refused with FILE:LINE: %s" % (out + err).strip())
    rc, out, err = ctl.run("tls.reload")
    check(rc != 0 and "script not reloaded" in out + err,
          "tls.reload reports the script failure: %s" % (out + err)[:200])
    ua = tls_client("127.0.0.1", port, cert="client")
    r = send(ua, "OPTIONS", "sip:bob@other.example.test", "after-bad")
    check(r is not None and r.status == 403,
          "the running script still applies after a refused reload")
    write_script(d.tmp, good.replace('"X-Tenant: "', '"X-Tenant-2: "'))
    res = ctl.call("script.reload")
    check(res["generation"] >= 2, "script.reload: generation %d"
          % res["generation"])
    send(ua, "MESSAGE", "sip:bob@example.test", "after-good")
    m = be.wait(lambda m: m.get("call-id") == "after-good")
    check(m is not None and m.get("x-tenant-2") == "sip.example.test",
          "new generation runs on the workers")
    gen = ctl.call("script.info")["generation"]
    res = ctl.call("tls.reload")
    check(res.get("script_generation") == gen + 1,
          "tls.reload reloads the script too: %s" % res)
    gen += 1
    d.p.send_signal(signal.SIGHUP)
    check(d.wait_log(r"script: .*generation %d loaded" % (gen + 1), 10),
          "SIGHUP reloads the script too")
    ua.close()


def test_check(d):
    p = subprocess.run([SIPTLSD, "-c", d.conf, "--check"],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "--check loads the good script: %s"
          % p.stderr[-300:])
    tmp = tempfile.mkdtemp(prefix="stls-script-check-")
    for f in ("tls.cfg", "siptlsd.cfg", "cert.pem"):
        shutil.copy(os.path.join(d.tmp, f), tmp)
    with open(os.path.join(tmp, "edge.lua"), "w") as f:
        f.write("function ksr_request_route()\n  if then\nend\n")
    p = subprocess.run([SIPTLSD, "-c", os.path.join(tmp, "siptlsd.cfg"),
                        "--check"], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 1 and re.search(r"edge\.lua:2: ", p.stderr),
          "--check refuses a broken script with FILE:LINE: %s"
          % p.stderr.strip())
    with open(os.path.join(tmp, "edge.lua"), "w") as f:
        f.write("function other() end\n")
    p = subprocess.run([SIPTLSD, "-c", os.path.join(tmp, "siptlsd.cfg"),
                        "--check"], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 1 and "ksr_request_route is not defined"
          in p.stderr, "--check: a missing callback is an error")


def main():
    be = Backend()
    d = start(be)
    tls_port = [a[2] for a in d.addrs if a[0] == "tls"][0]
    tcp_port = [a[2] for a in d.addrs if a[0] == "tcp"][0]
    try:
        test_verified(tls_port)
        test_acl_and_tenant(be, tls_port)
        reg = None
        ua = tls_client("127.0.0.1", tls_port, cert="client")
        send(ua, "REGISTER", "sips:example.test", "reg-2")
        reg = be.wait(lambda m: m.get("call-id") == "reg-2")
        test_connection_out(be, d, reg)
        ua.close()
        test_plain_tcp(be, tcp_port)
        test_reload(be, d, tls_port)
        test_check(d)
        check(d.stop() == 0, "siptlsd exited cleanly")
        check(re.search(r"stats: script: .*errors=0", d.log()),
              "no hook failed")
    except SystemExit:
        print(d.log()[-6000:])
        raise
    finally:
        if d.p.poll() is None:
            d.stop()
        be.close()
    print("all script edge tests passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
