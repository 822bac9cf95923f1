"""The reliability batteries run against live servers (fixtures in ``tests/conftest.py``)."""

from __future__ import annotations

from tests.conftest import BACKENDS
from tests.live_server import LIVE_BACKENDS, SQL_BACKENDS

# Each battery is collected only when a backend it runs on is selected (never skipped).
collect_ignore = [
    *(["test_outage.py"] if not {"postgresql", "mariadb", "mongodb"} & set(BACKENDS) else []),
    *(["test_sqlite_lock.py"] if "sqlite" not in BACKENDS else []),
    *(["test_signing_key.py"] if not set(BACKENDS) - {"memory", "mongodb-standalone"} else []),
    *(["test_crash.py"] if not SQL_BACKENDS & set(LIVE_BACKENDS) else []),
    *(["test_concurrency.py"] if not LIVE_BACKENDS else []),
]
