"""What else the machine did during a scenario, and how much memory the workers held.

Unrelated CPU is the machine's busy CPU time less the CPU time of the processes the run
itself needs: both servers (every process of their groups), the database server's processes
that serve this database (PostgreSQL: its backends for this database and its shared
background processes; MariaDB: the whole server), wrk and the benchmark itself. A scenario
whose unrelated CPU is over the threshold is run again, and the quietest run is kept.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import psutil

SAMPLE_SECONDS = 0.25
ProcessKey = tuple[int, float]  # pid and start time: a reused pid is another process


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _busy_seconds() -> float:
    """CPU time the processes of the whole machine spent working, over every core.

    Interrupts are left out: most of them are the run's own loopback traffic (the kernel's
    TCP work for every request and every statement), which belongs to no process, and
    counting them as unrelated made every PostgreSQL scenario look noisy (about a fifth of
    the machine) while SQLite's, with no database traffic, did not. Steal is nobody's here.
    """
    times = psutil.cpu_times()
    return float(times.user + times.nice + times.system)


def database_processes(backend: str, database: str) -> list[psutil.Process]:
    """The database server's processes that work for this run."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        name = process.info["name"] or ""
        title = " ".join(process.info["cmdline"] or [])
        if backend == "postgresql" and name in {"postgres", "postmaster"}:
            # Backends title themselves "postgres: <cluster>: <user> <database> <client> ...";
            # the shared background processes (writer, checkpointer, ...) name no database.
            serves_a_client = "(" in title or "[local]" in title or "autovacuum worker" in title
            if f" {database} " in title or not serves_a_client:
                found.append(process)
        elif backend == "mariadb" and name in {"mariadbd", "mysqld"}:
            found.append(process)  # one process for every database: all of it counts
    return found


def redis_processes() -> list[psutil.Process]:
    """Redis, when the cached server uses it: its work for the cache hits is the run's."""
    return [
        process
        for process in psutil.process_iter(["name"])
        if (process.info["name"] or "").startswith("redis-server")
    ]


@dataclass
class Usage:
    """One scenario's CPU (seconds) and memory (bytes)."""

    seconds: float = 0.0
    cores: int = 1
    busy: float = 0.0
    ours: float = 0.0
    by_group: dict[str, float] = field(default_factory=dict)
    worker_rss: dict[int, int] = field(default_factory=dict)  # worker pid -> max RSS

    @property
    def unrelated(self) -> float:
        return max(0.0, self.busy - self.ours)

    @property
    def unrelated_percent(self) -> float:
        """Unrelated CPU as a share of the whole machine (every core) over the scenario."""
        capacity = self.seconds * self.cores
        return 100 * self.unrelated / capacity if capacity > 0 else 0.0

    def cores_used(self, group: str) -> float:
        return self.by_group.get(group, 0.0) / self.seconds if self.seconds > 0 else 0.0


Groups = Callable[[], Mapping[str, Sequence[psutil.Process]]]


class Monitor:
    """Samples our processes' CPU and the workers' RSS in a thread while a scenario runs.

    ``groups`` names the processes of the run by group (e.g. "server", "database", "wrk");
    ``workers`` lists the processes whose RSS is reported. Both are called at every sample,
    so processes that start during the scenario (a database backend) are counted too.
    """

    def __init__(self, groups: Groups, workers: Callable[[], Iterable[psutil.Process]]) -> None:
        self._groups = groups
        self._workers = workers
        self._first: dict[ProcessKey, float] = {}
        self._last: dict[ProcessKey, float] = {}
        self._group_of: dict[ProcessKey, str] = {}
        self._rss: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-monitor", daemon=True)
        self._started = 0.0
        self._started_at = 0.0
        self._busy = 0.0
        self.usage = Usage()  # filled in when the scenario ends

    def __enter__(self) -> Monitor:
        self._started = time.monotonic()
        self._started_at = time.time()
        self._busy = _busy_seconds()
        self._sample(first=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.usage = Usage(
            seconds=time.monotonic() - self._started,
            cores=psutil.cpu_count() or 1,
            busy=_busy_seconds() - self._busy,
        )
        for key, last in self._last.items():
            spent = max(0.0, last - self._first.get(key, 0.0))
            group = self._group_of[key]
            self.usage.by_group[group] = self.usage.by_group.get(group, 0.0) + spent
            self.usage.ours += spent
        self.usage.worker_rss = dict(self._rss)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()

    def _sample(self, *, first: bool = False) -> None:
        groups = {"bench": [psutil.Process(os.getpid())], **self._groups()}
        for group, processes in groups.items():
            for process in processes:
                try:
                    key = (process.pid, process.create_time())
                    spent = _cpu_seconds(process)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                if key not in self._first:
                    # Started during the scenario: all its CPU is the scenario's. Seen late
                    # but older: count from now.
                    started_before = first or key[1] < self._started_at
                    self._first[key] = spent if started_before else 0.0
                self._last[key] = spent
                self._group_of.setdefault(key, group)
        for worker in self._workers():
            try:
                rss = int(worker.memory_info().rss)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            self._rss[worker.pid] = max(rss, self._rss.get(worker.pid, 0))
