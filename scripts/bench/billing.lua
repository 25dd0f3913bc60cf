-- (d) POST /api/billing: one order per request, answered after the broker's confirm.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

wrk.method = "POST"
wrk.path = "/api/billing"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"user_id":"20","number_of_items":"2","total_amount":"19.99"}'
