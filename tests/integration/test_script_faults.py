#!/usr/bin/env python3
"""A script can never hurt siptlsd: over real TLS connections, a runtime
error, an endless loop (also one that hides in pcall), a backtracking
pattern, a memory hog and a leaking global each cost the request a 500
(logged with the script line, counted in script.info), and the same
connection and worker go on serving; the sandbox has no os.execute, io,
debug, os.exit or native modules; with script_on_error = pass a failing
hook lets the request through; a failing connection-out event refuses the
connection (reply) or lets it open (pass)."""
import os
import re
import sys
import tempfile

from ctl_util import Ctl
from daemon_util import Daemon, check, test_pki
from relay_util import (Backend, TlsPeer, request, tls_client, uri_of,
                        hostport_of)

PKI = test_pki()
AOR = "sip:alice@example.test"

SCRIPT = r"""
local function sandboxed()
	return os.execute == nil and io == nil and debug == nil and
	       os.exit == nil and os.setlocale == nil and os.getenv == nil and
	       package.loadlib == nil and dofile == nil and loadfile == nil and
	       os.time ~= nil and string.format ~= nil and
	       not pcall(load, "\27Lua", "x", "b") and
	       not pcall(require, "socket.core")
end

function ksr_request_route()
	local u = KSR.pv.get("$rU")
	if u == "err" then
		local t = nil
		return t.field                         -- line 15
	elseif u == "loop" then
		while true do end
	elseif u == "pcallloop" then
		while true do pcall(function() while true do end end) end
	elseif u == "pattern" then
		string.find(string.rep("a", 40), string.rep("a-", 20) .. "b")
	elseif u == "mem" then
		local t = {}
		for i = 1, 1e8 do t[i] = string.rep("x", 100) .. i end
	elseif u == "leak" then
		G = G or {}
		for i = 1, 200 do G[#G + 1] = string.rep("y", 1000) .. i end
	elseif u == "sandbox" then
		if sandboxed() then
			KSR.sl.send_reply(200, "Sandboxed")
		end
	elseif u == "echo" then
		KSR.sl.send_reply(299, "Fine")
	elseif u == "edit" then
		assert(KSR.hdr.remove("User-Agent") == 1)
		assert(KSR.hdr.append("X-Edited: " .. KSR.hdr.get("Subject")) == 1)
		assert(KSR.hdr.append("X-Evil: a\r\nVia: SIP/2.0/UDP evil") == -1)
	end
end

function ksr_tls_event(ev)
	if KSR.pv.get("$sndto(port)") % 2 == 1 then
		error("odd port")
	end
end
"""

CFG = """[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:%d
workers = 1
rpc_socket = @TMP@/run/ctl.sock
script = faults.lua
request_callback = ksr_request_route
script_instructions = 2000000
script_memory = 1048576
script_on_error = %s
[tls]
config = @TMP@/tls.cfg
event_callback = ksr_tls_event
"""

TLS_CFG = """[server:default]
certificate = %(p)s/server.pem
private_key = %(p)s/server.key
[client:default]
verify_certificate = yes
ca_list = %(p)s/ca.pem
verify_server_name = no
""" % {"p": PKI}


def start(be, on_error):
    tmp = tempfile.mkdtemp(prefix="stls-script-faults-")
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write(TLS_CFG)
    with open(os.path.join(tmp, "faults.lua"), "w") as f:
        f.write(SCRIPT)
    return Daemon(CFG % (be.port, on_error), tmp=tmp)


def with_daemon(be, on_error, body):
    """Starts siptlsd with script_on_error = <on_error>, runs
    body(d, ua) with a TLS client connected, then checks a clean stop
    (the log's tail is printed when a check fails)."""
    d = start(be, on_error)
    try:
        ua = tls_client("127.0.0.1", d.addrs[0][2])
        body(d, ua)
        ua.close()
        check(d.stop() == 0, "siptlsd exited cleanly")
    except SystemExit:
        print(d.log()[-5000:])
        raise
    finally:
        if d.p.poll() is None:
            d.stop()


def ask(ua, user, call_id):
    ruri = "sip:%s@example.test" % user
    ua.send(request("OPTIONS", ruri, "TLS 10.0.0.7:5061", call_id, 1, AOR,
                    ruri))
    return ua.read(20)


def test_reply_mode(be):
    def body(d, ua):
        r = ask(ua, "sandbox", "sb")
        check(r is not None and r.status == 200 and "Sandboxed" in r.start,
              "sandbox: no os.execute, io, debug, os.exit, loadlib, "
              "binary chunks, native require")
        ruri = "sip:edit@example.test"
        ua.send(request("OPTIONS", ruri, "TLS 10.0.0.7:5061", "edit-1", 1,
                        AOR, ruri, extra=[("User-Agent", "phone 1"),
                                          ("Subject", "kept")]))
        m = be.wait(lambda m: m.get("call-id") == "edit-1")
        check(m is not None and m.get("user-agent") is None and
              m.get("x-edited") == "kept" and m.get("subject") == "kept" and
              len(m.all("via")) == 2 and b"evil" not in m.raw,
              "KSR.hdr.remove and KSR.hdr.append reach the backend, an "
              "injected Via does not")
        r = ua.read(20)
        check(r is not None and r.status == 200, "  and it is answered")
        for i, (user, what) in enumerate((
                ("err", "runtime error"), ("loop", "endless loop"),
                ("pcallloop", "endless loop inside pcall"),
                ("pattern", "backtracking pattern"),
                ("mem", "memory hog"))):
            r = ask(ua, user, "f%d" % i)
            check(r is not None and r.status == 500,
                  "%s: 500 (%s)" % (what, r.start if r else None))
            r = ask(ua, "echo", "e%d" % i)
            check(r is not None and r.status == 299,
                  "  and the same connection and worker go on")
        check(re.search(r"script: ksr_request_route: .*faults\.lua:15: "
                        r"attempt to index a nil value", d.log()),
              "runtime error logged with the script line")
        check(re.search(r"faults\.lua:\d+: instruction budget exceeded",
                        d.log()), "budget logged with the script line")
        for i in range(60):
            r = ask(ua, "leak", "leak%d" % i)
            if r is None or r.status != 299 and r.status != 200 and \
                    r.status != 404:
                break
        ctl = Ctl(d)
        info = ctl.call("script.info")
        check(info["errors"] >= 6 and info["budget"] >= 3 and
              info["memory"] >= 2, "failures counted: %s" % info)
        check(info["rebuilds"] >= 1,
              "a state bloated by a leaking global is rebuilt")
        r = ask(ua, "echo", "after-leak")
        check(r is not None and r.status == 299, "and serves on")
        # Connection-out: an error in the event refuses the connection.
        test_conn_out(be, d, ua, expect_open=False)

    with_daemon(be, "reply", body)


def test_conn_out(be, d, ua, expect_open):
    ruri = "sips:example.test"
    ua.send(request("REGISTER", ruri, "TLS 10.0.0.7:5061", "reg", 1, AOR,
                    AOR, extra=[("Contact",
                                 "<sips:alice@10.0.0.7:5061>")]))
    reg = be.wait(lambda m: m.method == "REGISTER", 10)
    ua.read(5)
    inside = hostport_of(uri_of(reg.all("path")[0]))
    for _ in range(20):
        peer = TlsPeer("server")
        if peer.port % 2 == 1:
            break
        peer.close()
    try:
        be.send(request("MESSAGE", "sips:peer@127.0.0.1:%d" % peer.port,
                        "UDP 127.0.0.1:%d" % be.port, "out-odd", 1,
                        "sip:pbx@example.test", "sip:peer@x"), inside)
        r = be.wait(lambda m: not m.is_request and
                    m.get("call-id") == "out-odd", 15)
        if expect_open:
            check(r is not None and r.status == 200,
                  "pass: failing connection-out event, connection opened")
        else:
            check(r is not None and r.status == 503,
                  "reply: failing connection-out event refuses it (503)")
    finally:
        peer.close()


def test_pass_mode(be):
    def body(d, ua):
        r = ask(ua, "err", "pass-1")
        m = be.wait(lambda m: m.get("call-id") == "pass-1")
        check(m is not None and r is not None and r.status == 200,
              "pass: a failing hook lets the request through")
        test_conn_out(be, d, ua, expect_open=True)

    with_daemon(be, "pass", body)


def main():
    be = Backend()
    try:
        test_reply_mode(be)
        test_pass_mode(be)
    finally:
        be.close()
    print("all script fault tests passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
