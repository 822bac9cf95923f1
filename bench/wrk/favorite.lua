-- Favorite, then unfavorite: each pair of requests is one writer and one of BENCH_SLUGS,
-- POST then DELETE /api/articles/<slug>/favorite (both idempotent, so overlapping pairs on
-- other connections still answer 200).
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local sent = 0

function request()
  local pair = math.floor(sent / 2)
  local method = sent % 2 == 0 and "POST" or "DELETE"
  sent = sent + 1
  local slug = bench.slugs[(bench.thread + pair) % #bench.slugs + 1]
  local path = "/api/articles/" .. slug .. "/favorite"
  return wrk.format(method, path, bench.headers(bench.token(pair)))
end
