"""The benchmark's parsers, on the text its sources print."""

from __future__ import annotations

import pytest

from bench import load, timing

ServerTiming = timing.ServerTiming


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            'db;dur=1.25;desc="3 statements", app;dur=4.5',
            ServerTiming(statements=3, unit="statements", db_ms=1.25, app_ms=4.5),
        ),
        (
            'app;dur=2, db;desc="1 commands";dur=0.75',
            ServerTiming(statements=1, unit="commands", db_ms=0.75, app_ms=2.0),
        ),
        ('db;desc="2 statement, cached";dur=1', ServerTiming(2, "statements", 1.0, None)),
        ("app;dur=3", ServerTiming(app_ms=3.0)),
        ('db;dur=fast;desc="many statements"', ServerTiming()),
        ("garbage;;,,=", ServerTiming()),
        ("", ServerTiming()),
        (None, ServerTiming()),
    ],
)
def test_server_timing_is_read_defensively(header: str | None, expected: ServerTiming) -> None:
    assert timing.parse_server_timing(header) == expected


def test_the_wrk_summary_line_is_parsed() -> None:
    output = (
        "Running 1s test @ http://127.0.0.1:1/api/tags\n"
        'BENCH_RESULT {"requests":200,"duration_us":2000000,"bytes":1,'
        '"latency_us":{"p50":1500,"p90":2500,"p99":9000,"max":12000,"mean":1700.5},'
        '"errors":{"connect":0,"read":1,"write":0,"status":3,"timeout":0}}\n'
    )
    result = load.parse(output)
    assert (result.requests_per_second, result.p50_ms, result.p99_ms) == (100.0, 1.5, 9.0)
    assert (result.errors, result.non_2xx, result.error_detail) == (4, 3, {"read": 1, "status": 3})


def test_wrk_output_without_a_summary_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="BENCH_RESULT"):
        load.parse("unable to connect to 127.0.0.1:1 Connection refused\n")
