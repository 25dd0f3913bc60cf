-- (a) GET /api/movies/:id with a random existing id.
-- Arguments (after wrk's "--"): the smallest and the largest seeded id.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local first, last

function init(args)
	first, last = tonumber(args[1]), tonumber(args[2])
	-- Each thread has its own Lua state: seed each differently.
	math.randomseed(os.time() + 7919 * thread_no)
end

function request()
	return wrk.format("GET", "/api/movies/" .. math.random(first, last))
end
