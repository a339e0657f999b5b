-- bench/lua_vm_compare.lua [N [EDGE_LUA]]: Lua 5.4 against LuaJIT for
-- siptlsd's hooks (docs/scripting.md "Why Lua 5.4"). Loads the example
-- policy (etc/edge.lua, next to this folder unless named) with a pure-Lua
-- stand-in for KSR, times its ksr_request_route in whatever interpreter
-- runs this file, then checks that a count hook (the instruction budget)
-- stops an endless loop. Run each bounded, as bench/script_bench.sh does:
--
--   timeout 10 lua5.4 bench/lua_vm_compare.lua
--   timeout 10 luajit -joff bench/lua_vm_compare.lua
--   timeout 10 luajit bench/lua_vm_compare.lua   # never stops: killed
local N = tonumber(arg and arg[1]) or 1000000
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local edge = arg and arg[2] or (here .. "/../etc/edge.lua")
-- What siptlsd would answer for alice's request (bench/script_cost's).
local pv = {
	["$pr"] = "tls", ["$tls_peer_subject_cn"] = "alice",
	["$tls_peer_san_count(URI)"] = 1,
	["$tls_peer_san_uri[0]"] = "sip:alice@example.test",
	["$tls_peer_server_name"] = "sip.example.test",
	["$rd"] = "example.test",
}
local out, replies = {}, 0
KSR = {
	pv = {
		get = function(n) return pv[n] end,
		sets = function(n, v) out[n] = v return 1 end,
	},
	tls = { is_peer_verified = function() return 1 end },
	sl = { send_reply = function() replies = replies + 1 return 1 end },
	hdr = { append = function(h) out.h = h return 1 end },
	info = function() end, warn = function() end,
	drop = function() return 1 end,
}
dofile(edge)
ksr_request_route()
assert(replies == 0 and out.h == "X-Tenant: sip.example.test",
       "the policy must let alice's request through")
local t0 = os.clock()
for _ = 1, N do ksr_request_route() end
local t = os.clock() - t0
io.write(string.format("policy: %.0f ns per call (%d calls)\n",
		       t / N * 1e9, N))
io.flush()
local n = 0
debug.sethook(function()
	n = n + 1000
	if n > 1e7 then error("budget") end
end, "", 1000)
local ok = pcall(function() while true do end end)
debug.sethook()
io.write("count hook stops an endless loop: ", tostring(not ok), "\n")
