from tests.conftest import BACKENDS

# PostgreSQL's plans at scale: collected only when PostgreSQL is among the tested backends.
collect_ignore_glob = [] if "postgresql" in BACKENDS else ["test_*.py"]
