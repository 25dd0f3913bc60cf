-- (r) GET /api/movies/:id with a random existing id (get_by_id.lua), counting the 2xx
-- answers of each wall-clock second, so that a restart's dip shows. done() prints
-- common.lua's BENCH line, then one line that scripts/bench/rolling.sh parses:
--   ROLLING first=<epoch s of the first whole second> min=<n> median=<n> counts=<n,n,...>
-- over the whole seconds only (the first and last seconds of the run are partial); a
-- second without a 2xx answer counts 0.
-- Arguments (after wrk's "--"): the smallest and the largest seeded id.
dofile(os.getenv("BENCH_LUA_DIR") .. "/get_by_id.lua")

-- Each thread's own counts, keyed by os.time(); read back in done() through the thread
-- objects that setup() keeps (thread:get returns a copy of the table).
per_second = {}

function response(status)
	if status >= 200 and status < 300 then
		local now = os.time()
		per_second[now] = (per_second[now] or 0) + 1
	end
end

local threads = {}
local number_thread = setup
function setup(thread)
	number_thread(thread)
	table.insert(threads, thread)
end

-- whole_seconds(): the first whole second and the summed counts of every whole second.
local function whole_seconds()
	local sum, first, last = {}, nil, nil
	for _, thread in ipairs(threads) do
		for second, n in pairs(thread:get("per_second")) do
			sum[second] = (sum[second] or 0) + n
			first = math.min(first or second, second)
			last = math.max(last or second, second)
		end
	end
	local counts = {}
	if first then
		for second = first + 1, last - 1 do
			table.insert(counts, sum[second] or 0)
		end
	end
	return (first or 0) + 1, counts
end

local function median(values)
	local sorted = {}
	for i, v in ipairs(values) do
		sorted[i] = v
	end
	table.sort(sorted)
	local n = #sorted
	if n == 0 then
		return 0
	end
	if n % 2 == 1 then
		return sorted[(n + 1) / 2]
	end
	return (sorted[n / 2] + sorted[n / 2 + 1]) / 2
end

local bench_line = done
function done(summary, latency, requests)
	bench_line(summary, latency, requests)
	local first, counts = whole_seconds()
	local lowest = counts[1] or 0
	for _, n in ipairs(counts) do
		lowest = math.min(lowest, n)
	end
	io.write(string.format("ROLLING first=%d min=%d median=%.0f counts=%s\n",
		first, lowest, median(counts), table.concat(counts, ",")))
end
