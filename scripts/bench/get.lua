-- GET of the URL given to wrk: (b) the movie list, (g) the static file.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
