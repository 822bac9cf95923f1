"""Fuzzing the API from its own OpenAPI schema with schemathesis, on every selected backend.

A real server (uvicorn in a thread, over the backend's database) answers what schemathesis
generates in all its phases: the coverage phase (boundary and schema-breaking values of every
parameter and field), fuzzing (random valid and invalid requests to each operation) and
stateful scenarios that follow the schema's links and the ones it infers (sign up -> profile,
article -> comments -> delete the comment, ...). Requests carry a signed-in user's token;
schemathesis also sends them without it and with broken ones.

Every response must pass: no 5xx; a documented status; a documented content type; a body
and headers that match the schema; and, for an undocumented method, a 405 whose ``Allow``
lists exactly the documented ones. Not checked: whether every schema-valid request succeeds
(business rules such as "you cannot follow yourself" are documented 422s, not schema).

``BROADSHEET_FUZZ_CASES`` (default 1,000) is the rough number of requests per backend, which
CI runs; the figures are printed in the run's summary. The long run:

    BROADSHEET_FUZZ_CASES=10000 BROADSHEET_TEST_BACKENDS=sqlite,postgresql \\
        .venv/bin/pytest tests/security/test_fuzz.py

``BROADSHEET_FUZZ_SEED`` picks the seed (default fixed, so CI generates the same cases).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from broadsheet.settings import Settings
from broadsheet.web.app import create_app
from tests import databases
from tests.conftest import BACKENDS
from tests.live_server import report
from tests.thread_server import serving

CASES = int(os.environ.get("BROADSHEET_FUZZ_CASES", "1000"))
SEED = os.environ.get("BROADSHEET_FUZZ_SEED", "20261201")
# Measured: each example per operation becomes ~50 requests over the 20 operations and phases;
# past ~100 a round finds few new cases, so a long run is several rounds.
MAX_EXAMPLES = min(100, max(1, CASES // 50))
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "unsupported_method",
    "allow_header_conformance",
]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def served(backend_name: str, database_urls: dict[str, str]) -> Iterator[str]:
    url = database_urls[backend_name]
    asyncio.run(databases.empty_at(url))
    settings = Settings(
        database_url=url,
        secret_key="test-secret-key-0123456789abcdef",
        auto_migrate=False,
        environment="development",  # the schema is served
        rate_limits=False,  # 429s are documented, but would keep the fuzzer from the logic
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    with serving(create_app(settings)) as base:
        yield base


def signed_up(base: str) -> str:
    user = {"username": "fuzzer", "email": "fuzzer@example.com", "password": "fuzzing-password"}
    response = httpx.post(f"{base}/api/users", json={"user": user})
    assert response.status_code == 201, response.text
    token: str = response.json()["user"]["token"]
    return token


@dataclass(frozen=True)
class Round:
    generated: int
    summary: str


def run_schemathesis(base: str, workdir: Path, *options: str) -> Round:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{base}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--request-timeout",
        "30",
        "--workers",
        "1",
        "--no-color",
        *options,
    ]
    run = subprocess.run(
        command,
        cwd=workdir,  # no schemathesis.toml of ours, nothing written to the repository
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    summary = re.search(r"Test cases:\s*\n\s*(.+)", run.stdout)
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
    assert summary is not None, run.stdout
    return Round(generated=int(summary.group(1).split()[0]), summary=summary.group(1))


def test_every_response_is_as_documented(served: str, backend_name: str, tmp_path: Path) -> None:
    """Rounds with successive seeds until about CASES requests were made: one round finds
    only so many distinct cases. The first round also runs the (deterministic) coverage
    phase. Logout is fuzzed last, on its own: it would revoke the token every round uses."""
    signed_in = f"Authorization: Token {signed_up(served)}"
    rounds: list[Round] = []
    seed = int(SEED)
    while sum(r.generated for r in rounds) < CASES and len(rounds) < 50:
        phases = "fuzzing,stateful" if rounds else "coverage,fuzzing,stateful"
        rounds.append(
            run_schemathesis(
                served,
                tmp_path,
                *("--phases", phases, "--max-examples", str(MAX_EXAMPLES)),
                *("--seed", str(seed + len(rounds)), "--header", signed_in),
                *("--exclude-operation-id", "Logout"),
            )
        )
    rounds.append(
        run_schemathesis(
            served,
            tmp_path,
            *("--phases", "coverage,fuzzing", "--max-examples", "5"),
            *("--seed", SEED, "--header", signed_in, "--include-operation-id", "Logout"),
        )
    )

    total = sum(r.generated for r in rounds)
    report(
        "security",
        f"schemathesis {backend_name}: {total} requests in {len(rounds)} rounds "
        f"(seeds from {SEED}), no failure; " + "; ".join(r.summary for r in rounds),
    )
    assert total >= CASES
