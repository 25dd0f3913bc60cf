-- (e) Queues an exact number of orders: each thread sends its share of POST
-- /api/billing, then only a cheap filler GET while its last orders are answered.
-- When all of its orders are answered the thread writes <flag dir>/thread-<n>
-- ("<accepted> <failed>") and stops; bench.sh then interrupts wrk.
-- Arguments: total orders, wrk threads, flag dir, filler path (a GET answering 200).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local share, flag_dir, order, filler
local sent, accepted, failed = 0, 0, 0

function init(args)
	local total, threads = tonumber(args[1]), tonumber(args[2])
	share = math.floor(total / threads)
	if thread_no == 0 then
		share = share + total % threads
	end
	flag_dir = args[3]
	order = wrk.format("POST", "/api/billing", { ["Content-Type"] = "application/json" },
		'{"user_id":"20","number_of_items":"2","total_amount":"19.99"}')
	filler = wrk.format("GET", args[4])
	-- wrk calls request() once on thread 0 before the run to check the script
	-- (script_verify_request in wrk 4.x); that request is never sent.
	if thread_no == 0 then
		sent = -1
	end
	if share == 0 then
		finish()
	end
end

function finish()
	local f = assert(io.open(flag_dir .. "/thread-" .. thread_no, "w"))
	f:write(accepted, " ", failed, "\n")
	f:close()
	wrk.thread:stop()
end

function request()
	if sent < share then
		sent = sent + 1
		return order
	end
	return filler
end

-- The filler answers 200 with a movie; an order answers 200 "accepted" or an error.
function response(status, headers, body)
	if status == 200 and body:find('"accepted"', 1, true) then
		accepted = accepted + 1
	elseif status ~= 200 then
		failed = failed + 1
	else
		return
	end
	if accepted + failed == share then
		finish()
	end
end
