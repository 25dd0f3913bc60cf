-- Shared by every scenario script (loaded with dofile, BENCH_LUA_DIR names this folder).
-- done() prints one line that scripts/bench.sh parses: completed requests, rate,
-- latency percentiles in microseconds, answers >= 400 (wrk's "Non-2xx or 3xx
-- responses") and socket errors (connect, read, write, timeout).
function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"BENCH requests=%d duration_us=%d rps=%.1f p50_us=%.0f p99_us=%.0f non2xx=%d socket=%d\n",
		summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(99), e.status,
		e.connect + e.read + e.write + e.timeout))
end
