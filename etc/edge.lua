-- siptlsd example policy: the seed's script examples and two common edge
-- rules, in Lua 5.4 with KEMI-style names (docs/scripting.md).
--
-- Enable it in siptlsd.cfg:
--
--   [core]
--   script = edge.lua
--   request_callback = ksr_request_route
--   [tls]
--   event_callback = ksr_tls_event
--   xavp_cfg = tls
--
-- The names below (example.test, carrier1, ...) are the ones of the test
-- certificates (tests/certs/mkcerts.sh): put your own.
-- tests/integration/test_script_edge.py runs every rule with real TLS
-- clients.

-- ACL by client certificate: a verified client is let in when its subject
-- CN or one of its SAN URIs is listed here.
local allowed_cn = {
	["alice"] = true,
}
local allowed_san_uri = {
	["sip:alice@example.test"] = true,
	["sip:bob@example.test"] = true,
}

-- Tenants by SNI: the TLS server name a client asked for names its
-- tenant. A tenant's clients may only send requests for its own domain,
-- and what the backend sends on for them leaves through the tenant's
-- client profile (server_id, the seed's xavp_cfg).
local tenants = {
	["sip.example.test"] = { domain = "example.test",
				 server_id = "carrier1" },
	["other.example.test"] = { domain = "other.example.test",
				   server_id = "carrier2" },
}

-- The seed's event_route[tls:connection-out] example: no TLS connection
-- to 1.2.3.4. Called before the first byte of every TLS connection
-- siptlsd opens; KSR.drop() refuses it (the request that needed it gets
-- 503).
function ksr_tls_event(evname)
	KSR.info("===== tls module triggered event: " .. evname .. "\n")
	if KSR.pv.get("$sndto(ip)") == "1.2.3.4" then
		KSR.drop()
	end
	return 1
end

local function acl_allows()
	local cn = KSR.pv.get("$tls_peer_subject_cn")
	if cn and allowed_cn[cn] then
		return true
	end
	local n = KSR.pv.get("$tls_peer_san_count(URI)") or 0
	for i = 0, n - 1 do
		if allowed_san_uri[KSR.pv.get("$tls_peer_san_uri[" .. i .. "]")] then
			return true
		end
	end
	return false
end

function ksr_request_route()
	if KSR.pv.get("$pr") ~= "tls" then
		return
	end
	-- The seed's is_peer_verified() example.
	if KSR.tls.is_peer_verified() < 0 then
		KSR.sl.send_reply(400, "No certificate or verification failed")
		return
	end
	if not acl_allows() then
		KSR.warn("client certificate " ..
			 (KSR.pv.get("$tls_peer_subject") or "?") ..
			 " not in the ACL")
		KSR.sl.send_reply(403, "Certificate Not Allowed")
		return
	end
	local sni = KSR.pv.get("$tls_peer_server_name")
	local tenant = sni and tenants[sni]
	if not tenant then
		KSR.sl.send_reply(403, "Unknown Tenant")
		return
	end
	if KSR.pv.get("$rd") ~= tenant.domain then
		KSR.sl.send_reply(403, "Wrong Tenant")
		return
	end
	KSR.pv.sets("$xavp(tls=>server_id)", tenant.server_id)
	KSR.hdr.append("X-Tenant: " .. sni)
end
