-- Shared by every scenario script (loaded with dofile): the settings the benchmark passes
-- in the environment, tokens for the Authorization header, and the JSON summary it parses.
--
--   BENCH_METHOD, BENCH_PATH, BENCH_BODY   the request (a fixed one, or a template's parts)
--   BENCH_TOKENS                           space-separated tokens ("" for anonymous)
--   BENCH_SLUGS                            space-separated article slugs (favorite.lua)
--   BENCH_TAG                              a tag for created articles
--   BENCH_RUN_ID                           makes titles and comment bodies unique per run

bench = {}

local function words(text)
  local found = {}
  for word in string.gmatch(text or "", "%S+") do
    found[#found + 1] = word
  end
  return found
end

bench.method = os.getenv("BENCH_METHOD") or "GET"
bench.path = os.getenv("BENCH_PATH") or "/"
bench.body = os.getenv("BENCH_BODY")
if bench.body == "" then
  bench.body = nil
end
bench.tokens = words(os.getenv("BENCH_TOKENS"))
bench.slugs = words(os.getenv("BENCH_SLUGS"))
bench.tag = os.getenv("BENCH_TAG") or "bench"
bench.run_id = os.getenv("BENCH_RUN_ID") or "run"

-- A JSON string literal (titles and bodies are ASCII, but a tag may hold anything).
function bench.json_string(text)
  return '"' .. text:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

-- Headers for a request as the given token's user (none for nil: anonymous), with a
-- Content-Type when it carries a body.
function bench.headers(token, body)
  local headers = {}
  if body ~= nil then
    headers["Content-Type"] = "application/json"
  end
  if token ~= nil then
    headers["Authorization"] = "Token " .. token
  end
  return headers
end

-- The n-th request's token: threads start at different tokens, then take turns.
function bench.token(n)
  if #bench.tokens == 0 then
    return nil
  end
  return bench.tokens[(bench.thread + n) % #bench.tokens + 1]
end

-- Each thread learns its number, so titles stay unique across threads.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  bench.thread = thread_number or 1
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout
  ))
end
