"""``broadsheet serve`` as a real subprocess on a free port, for whole-server tests.

    with LiveServer({"DATABASE_URL": url}, workers=2) as server:
        httpx.get(server.url + "/healthz")

The server's environment is this process's plus ``env`` (cheap Argon2 unless overridden; a
``None`` value unsets a variable);
it is stopped with SIGTERM (then SIGKILL) on exit, and its output is kept in ``log`` so a
failing test can show it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import IO

import httpx

CHEAP_ARGON2 = {"BROADSHEET_ARGON2_TIME_COST": "1", "BROADSHEET_ARGON2_MEMORY_KIB": "1024"}


class LiveServer:
    def __init__(
        self, env: dict[str, str | None], *, workers: int = 1, start_timeout: float = 60
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        merged = {**os.environ, **CHEAP_ARGON2, **env}  # None: unset it
        self._env = {name: value for name, value in merged.items() if value is not None}
        self._start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._earlier_logs = ""

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start (or start again, on the same port) and wait until every worker is up."""
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        command = [sys.executable, "-m", "broadsheet", "serve", "--port", str(self.port)]
        self._process = subprocess.Popen(
            [*command, "--workers", str(self.workers)],
            env=self._env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers are stopped with it
        )
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"broadsheet serve exited at start:\n{self.log}")
            try:
                httpx.get(self.url + "/healthz", timeout=5)
                if self._current_log().count("Application startup complete") >= self.workers:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"broadsheet serve did not answer within {self._start_timeout}s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._log is not None:
            self._earlier_logs += self._current_log()
            self._log.close()
            self._log = None

    @property
    def pid(self) -> int:
        """The server's process (with one worker, the one that serves)."""
        assert self._process is not None, "not started"
        return self._process.pid

    @property
    def log(self) -> str:
        """Everything the server printed, over every start."""
        return self._earlier_logs + self._current_log()

    def _current_log(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
