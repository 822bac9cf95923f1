-- POST a comment with a body unique to the run, thread and request to BENCH_PATH, as the
-- writers in turn (the ceiling ignores the token).
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local sent = 0

function request()
  sent = sent + 1
  local body = string.format(
    '{"comment":{"body":"Bench comment %s %d %d."}}', bench.run_id, bench.thread, sent
  )
  return wrk.format("POST", bench.path, bench.headers(bench.token(sent), body), body)
end
