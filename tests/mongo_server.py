"""A MongoDB-compatible server for the test run: SecantusDB over the real wire protocol.

No MongoDB server can be installed here, and in-process mocks do not speak PyMongo's
asyncio API or run real transactions. SecantusDB (WiredTiger storage, replica-set ``hello``,
transactions, validators, unique indexes) runs as its own process on a free port, like the
SQL servers. With ``BROADSHEET_TEST_MONGODB_URL`` set, that server is used instead.

The ``mongodb-standalone`` backend gets a second server started with ``--standalone``: its
``hello`` advertises no replica set, so drivers (and Broadsheet) see a standalone server, as
a real MongoDB started without ``--replSet`` is (``BROADSHEET_TEST_MONGODB_STANDALONE_URL``
names an existing one instead).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import pymongo
from pymongo.errors import PyMongoError


class MongoServer:
    def __init__(self, *, standalone: bool = False) -> None:
        self.standalone = standalone
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._url: str | None = None

    def url(self, workdir: Path) -> str:
        if self._url is None:
            variable = "BROADSHEET_TEST_MONGODB_" + ("STANDALONE_URL" if self.standalone else "URL")
            self._url = os.environ.get(variable) or self._start(workdir)
        return self._url

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _start(self, workdir: Path) -> str:
        executable = shutil.which("secantusd-py", path=str(Path(sys.executable).parent))
        if executable is None:
            raise RuntimeError(
                "secantusd-py not found: install the test extra (pip install -e '.[test]')"
            )
        port = _free_port()
        name = "secantus-standalone" if self.standalone else "secantus"
        storage = workdir / name
        storage.mkdir()
        self._log = log = (workdir / f"{name}.log").open("wb")
        self._process = subprocess.Popen(
            [
                executable,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--storage-path",
                str(storage),
                *(["--standalone"] if self.standalone else []),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"mongodb://127.0.0.1:{port}/"
        _wait_until_up(url, self._process)
        return url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"SecantusDB exited with {process.returncode} at start")
        try:
            client: pymongo.MongoClient[dict[str, Any]]
            with pymongo.MongoClient(url, serverSelectionTimeoutMS=500) as client:
                client.admin.command("ping")
                return
        except PyMongoError:
            time.sleep(0.2)
    raise RuntimeError(f"SecantusDB did not answer at {url} within {timeout}s")


mongo_server = MongoServer()
standalone_mongo_server = MongoServer(standalone=True)
