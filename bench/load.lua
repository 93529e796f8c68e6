-- load.lua: the one wrk script of the benchmarks, configured by the environment.
--
--   BENCH_METHOD   GET (default) or POST
--   BENCH_HEADERS  extra request headers, "Name: value" lines separated by "\n"
--   BENCH_BODY     the request body; "%s" in it (or in BENCH_TARGET, or in a header's
--                  value) is replaced by the next line of BENCH_LINES
--   BENCH_TARGET   the path and query (default: the path of the URL given to wrk)
--   BENCH_LINES    a file of one-use values (codes, device codes, DPoP proofs), one per line;
--                  thread i of BENCH_THREADS takes lines i, i+n, i+2n ... and counts
--                  every request after it runs out and starts again as reused
--   BENCH_THREADS  wrk's -t (default 1)
-- done() prints one machine-readable line that bench/run.sh parses:
--   BENCH requests=N duration_us=N p50_us=N p99_us=N status=N socket=N reused=N

local method = os.getenv("BENCH_METHOD") or "GET"
local body_t = os.getenv("BENCH_BODY")
local target_t = os.getenv("BENCH_TARGET")
local lines_file = os.getenv("BENCH_LINES")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")

local headers = {}
local templated = {} -- the headers whose value takes the next line (a DPoP proof)
for h in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^\n]+") do
	local k, v = string.match(h, "^([^:]+):%s*(.*)$")
	if k then
		headers[k] = v
		if lines_file and string.find(v, "%s", 1, true) then templated[k] = v end
	end
end

local threads = {}
local next_id = 0
function setup(thread)
	thread:set("tid", next_id)
	next_id = next_id + 1
	table.insert(threads, thread)
end

local values, pos, fixed, wrapped = nil, 0, nil, false
reused = 0

function init(args)
	if lines_file then
		values = {}
		local i = 0
		for l in io.lines(lines_file) do
			if i % nthreads == tid then table.insert(values, l) end
			i = i + 1
		end
		if #values == 0 then error("load.lua: no lines for thread " .. tid .. " in " .. lines_file) end
	else
		-- the same request every time: format it once
		fixed = wrk.format(method, target_t, headers, body_t)
	end
end

function request()
	if fixed then return fixed end
	pos = pos + 1
	if pos > #values then pos = 1; wrapped = true end
	if wrapped then reused = reused + 1 end
	local v = values[pos]
	local target = target_t and string.gsub(target_t, "%%s", v) or nil
	local body = body_t and string.gsub(body_t, "%%s", v) or nil
	for k, t in pairs(templated) do headers[k] = string.gsub(t, "%%s", v) end
	return wrk.format(method, target, headers, body)
end

function done(summary, latency, requests)
	local r = 0
	for _, t in ipairs(threads) do r = r + (t:get("reused") or 0) end
	local e = summary.errors
	io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d status=%d socket=%d reused=%d\n",
		summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
		e.status, e.connect + e.read + e.write + e.timeout, r))
end
