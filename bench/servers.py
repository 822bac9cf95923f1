"""The servers under load, started as a user starts them: each its own process group on a
free port, its output in a log file, ready once every worker has started and it answers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import psutil

UVICORN_READY = "Application startup complete."  # uvicorn's line, once per worker
GRANIAN_READY = "Started worker-"  # granian's, once per worker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        workers: int,
        ready_path: str,
        ready_line: str = UVICORN_READY,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.port = free_port()
        self._command = [*command, "--port", str(self.port), "--workers", str(workers)]
        self._env = dict(env)
        self._cwd = cwd
        self.log_path = log_path
        self.workers = workers
        self._ready_path = ready_path
        self._ready_line = ready_line
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self, timeout: float = 120) -> None:
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            self._command,
            env=self._env,
            cwd=self._cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() reaches every worker
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise RuntimeError(f"{self.name} exited with {code}:\n{self.log_tail()}")
            started = self.log_path.read_text(errors="replace").count(self._ready_line)
            if started >= self.workers and self._answers():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} was not ready in {timeout:.0f}s:\n{self.log_tail()}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + self._ready_path, timeout=5) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM to the group (uvicorn shuts down gracefully), SIGKILL if it lingers."""
        if self._process is None:
            return
        group = self._process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            self._process.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # workers may outlive the supervisor a moment
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def processes(self) -> list[psutil.Process]:
        """The supervisor and every process under it."""
        if self._process is None:
            return []
        try:
            root = psutil.Process(self._process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def worker_processes(self) -> list[psutil.Process]:
        """The processes that serve requests: uvicorn's spawned workers, or with one worker
        the server process itself."""
        processes = self.processes()
        if self.workers == 1:
            return processes[:1]
        workers = []
        for process in processes[1:]:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                if "multiprocessing.spawn" in " ".join(process.cmdline()):
                    workers.append(process)
        return workers

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
