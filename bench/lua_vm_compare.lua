-- bench/lua_vm_compare.lua [N]: Lua 5.4 against LuaJIT for siptlsd's hooks
-- (docs/scripting.md "Why Lua 5.4"). Times the example policy's logic
-- (etc/edge.lua's request route) with a pure-Lua stand-in for KSR in
-- whatever interpreter runs this file, then checks that a count hook (the
-- instruction budget) stops an endless loop. Run each bounded, as
-- bench/script_bench.sh does:
--
--   timeout 10 lua5.4 bench/lua_vm_compare.lua
--   timeout 10 luajit -joff bench/lua_vm_compare.lua
--   timeout 10 luajit bench/lua_vm_compare.lua   # never stops: killed
local N = tonumber(arg and arg[1]) or 1000000
local pv = {
	["$pr"] = "tls", ["$tls_peer_subject_cn"] = "bob",
	["$tls_peer_san_count(URI)"] = 1,
	["$tls_peer_san_uri[0]"] = "sip:bob@example.test",
	["$tls_peer_server_name"] = "sip.example.test",
	["$rd"] = "example.test",
}
local out = {}
KSR = {
	pv = {
		get = function(n) return pv[n] end,
		sets = function(n, v) out[n] = v return 1 end,
	},
	tls = { is_peer_verified = function() return 1 end },
	sl = { send_reply = function() return 1 end },
	hdr = { append = function(h) out.h = h return 1 end },
	warn = function() end,
}
local allowed_cn = { ["alice"] = true }
local allowed_san_uri = {
	["sip:alice@example.test"] = true,
	["sip:bob@example.test"] = true,
}
local tenants = {
	["sip.example.test"] = { domain = "example.test",
				 server_id = "carrier1" },
}
local function acl_allows()
	local cn = KSR.pv.get("$tls_peer_subject_cn")
	if cn and allowed_cn[cn] then return true end
	local n = KSR.pv.get("$tls_peer_san_count(URI)") or 0
	for i = 0, n - 1 do
		local uri = KSR.pv.get("$tls_peer_san_uri[" .. i .. "]")
		if allowed_san_uri[uri] then return true end
	end
	return false
end
local function route()
	if KSR.pv.get("$pr") ~= "tls" then return end
	if KSR.tls.is_peer_verified() < 0 then
		return KSR.sl.send_reply(400, "x")
	end
	if not acl_allows() then return KSR.sl.send_reply(403, "x") end
	local sni = KSR.pv.get("$tls_peer_server_name")
	local tenant = sni and tenants[sni]
	if not tenant then return KSR.sl.send_reply(403, "x") end
	if KSR.pv.get("$rd") ~= tenant.domain then
		return KSR.sl.send_reply(403, "x")
	end
	KSR.pv.sets("$xavp(tls=>server_id)", tenant.server_id)
	KSR.hdr.append("X-Tenant: " .. sni)
end
local t0 = os.clock()
for _ = 1, N do route() end
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
