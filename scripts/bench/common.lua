-- Shared by every scenario script (loaded with dofile, BENCH_LUA_DIR names this folder).
-- done() prints one line that scripts/bench/bench.sh parses: completed requests, rate,
-- latency percentiles in microseconds, answers >= 400 (wrk's "Non-2xx or 3xx
-- responses") and socket errors (connect, read, write, timeout).
-- setup() numbers wrk's threads 0, 1, ... as the global thread_no of each.
local next_id = 0
function setup(thread)
	thread:set("thread_no", next_id)
	next_id = next_id + 1
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"BENCH requests=%d duration_us=%d rps=%.1f p50_us=%.0f p99_us=%.0f non2xx=%d socket=%d\n",
		summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(99), e.status,
		e.connect + e.read + e.write + e.timeout))
end
