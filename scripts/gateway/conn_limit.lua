-- The gateway's limit on connections per client address (what mod_evasive's
-- evasive.max-conns-per-ip did before lighttpd 1.4.68 replaced it with mod_magnet).
-- lighttpd runs this first for every request; GATEWAY_MAX_CONNS_PER_IP comes from .env
-- through the settings file (scripts/deploy/lib/gateway_settings.sh), 0 turns it off.
-- Over the limit, the request is answered 429 with a problem+json body.
local r = lighty.r
local max = tonumber(r.req_env["GATEWAY_MAX_CONNS_PER_IP"]) or 0
if max <= 0 then
  return 0
end
local addr = r.req_attr["request.remote-addr"]
local n = 0
-- Every connection this lighttpd holds, idle keep-alive ones included.
for other in lighty.server.irequests() do
  if other.req_attr["request.remote-addr"] == addr then
    n = n + 1
    if n > max then
      r.resp_header["Content-Type"] = "application/problem+json"
      r.resp_header["Retry-After"] = "1"
      r.resp_body:set({ '{"type":"about:blank","title":"Too Many Requests","status":429,'
        .. '"detail":"too many connections from this address at once"}' })
      return 429
    end
  end
end
return 0
