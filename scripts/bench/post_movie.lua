-- (c) POST /api/movies: one new movie per request.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

wrk.method = "POST"
wrk.path = "/api/movies"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"Benchmark movie","description":"Posted by make bench through the gateway"}'
