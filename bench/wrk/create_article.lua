-- POST /api/articles with a title unique to the run, thread and request, as the writers
-- in turn.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local sent = 0

function request()
  sent = sent + 1
  local title = string.format("Bench %s %d %d", bench.run_id, bench.thread, sent)
  local body = string.format(
    '{"article":{"title":%s,"description":"Written by the benchmark.",' ..
    '"body":"## %s\\n\\nA paragraph the benchmark wrote.","tagList":["bench",%s]}}',
    bench.json_string(title), title, bench.json_string(bench.tag)
  )
  return wrk.format("POST", "/api/articles", bench.headers(bench.token(sent), body), body)
end
