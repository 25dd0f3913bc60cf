-- GET /metrics/gateway on the admin listen only (scripts/deploy/lib/metrics_settings.sh):
-- lighttpd's own counters, the ones mod_status's statistics page lists
-- (lighty.status: gw.active-requests, gw.backend.<id>.load and, per process of each
-- backend, gw.backend.<id>.<n>.{connected,died,disabled,overloaded,load}), written in
-- the Prometheus text format 0.0.4. Backend ids are the keys the settings give them:
-- billing, inventory-0, inventory-1... (no dots, so a key splits unambiguously).
local r = lighty.r
-- Other methods go on to the admin listen's url.access-deny (403).
local method = r.req_attr["request.method"]
if method ~= "GET" and method ~= "HEAD" then
  return 0
end
local families = {
  connected = { "lighttpd_backend_requests_total", "counter",
                "Requests lighttpd connected to this backend process." },
  died = { "lighttpd_backend_connect_failures_total", "counter",
           "Connects to this backend process that failed (it was marked died)." },
  disabled = { "lighttpd_backend_disabled_total", "counter",
               "Times this backend process was set aside after a failure." },
  overloaded = { "lighttpd_backend_overloaded_total", "counter",
                 "Times this backend process refused for a full listen queue." },
  load = { "lighttpd_backend_load", "gauge",
           "Requests in flight at this backend process." },
}
local samples = {}   -- family tag -> list of lines
local active = 0
for key, value in pairs(lighty.status) do
  local id, proc, tag = string.match(key, "^gw%.backend%.([%w_-]*)%.(%d+)%.(%a+)$")
  if id and families[tag] then
    samples[tag] = samples[tag] or {}
    table.insert(samples[tag], string.format('%s{backend="%s",proc="%s"} %d',
      families[tag][1], id ~= "" and id or "unnamed", proc, value))
  elseif key == "gw.active-requests" then
    active = value
  end
end
local out = { "# HELP lighttpd_active_requests Requests lighttpd has at a backend now.",
              "# TYPE lighttpd_active_requests gauge",
              "lighttpd_active_requests " .. string.format("%d", active) }
for _, tag in ipairs({ "connected", "died", "disabled", "overloaded", "load" }) do
  local f = families[tag]
  table.insert(out, "# HELP " .. f[1] .. " " .. f[3])
  table.insert(out, "# TYPE " .. f[1] .. " " .. f[2])
  table.sort(samples[tag] or {})
  for _, line in ipairs(samples[tag] or {}) do table.insert(out, line) end
end
r.resp_header["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8"
r.resp_header["Cache-Control"] = "no-store"
r.resp_body:set({ table.concat(out, "\n"), "\n" })
return 200
