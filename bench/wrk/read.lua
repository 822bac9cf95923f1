-- One fixed request, sent again and again: reads, login, and anything else whose request
-- never changes. As the first token's user when BENCH_TOKENS is set.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

wrk.method = bench.method
wrk.body = bench.body
wrk.headers = bench.headers(bench.tokens[1], bench.body)
