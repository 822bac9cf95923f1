"""The security batteries run against live servers (fixtures in ``tests/conftest.py``)."""

from tests.live_server import LIVE_BACKENDS

# Nothing to run against (only the in-memory store selected): not collected, not skipped.
collect_ignore_glob = [] if LIVE_BACKENDS else ["test_*.py"]
