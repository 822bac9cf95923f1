"""A TCP proxy between Broadsheet and a database server that fails on command.

Outages are made here, never by stopping the shared servers: ``refuse`` stops listening
(new connections get ECONNREFUSED) and resets open ones, as a stopped server does; ``drop``
accepts and resets at once; ``stall`` accepts and holds every byte, as a frozen (SIGSTOP)
server does; ``forward`` heals it. Works for any protocol (PostgreSQL, MariaDB, MongoDB).
The proxy runs its own event loop in a thread, so tests and servers of any kind can use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

Mode = Literal["forward", "refuse", "drop", "stall"]
T = TypeVar("T")
CHUNK = 65536


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = _free_port()
        self.mode: Mode = "forward"
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._flowing: asyncio.Event | None = None
        self._open: set[asyncio.StreamWriter] = set()

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        self._call(self._setup())
        return self

    def __exit__(self, *_: object) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def set_mode(self, mode: Mode) -> None:
        self._call(self._switch(mode))

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _setup(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        await self._listen()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )

    async def _switch(self, mode: Mode) -> None:
        assert self._flowing is not None
        previous, self.mode = self.mode, mode
        if mode in {"refuse", "drop"}:
            self._reset_all()
        if mode == "refuse" and self._server is not None:
            self._server.close()
            self._server = None
        if mode != "refuse" and previous == "refuse":
            await self._listen()
        if mode == "stall":
            self._flowing.clear()
        else:
            self._flowing.set()

    async def _shutdown(self) -> None:
        self._reset_all()
        if self._server is not None:
            self._server.close()

    def _reset_all(self) -> None:
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        self.connections += 1
        if self.mode in {"drop", "refuse"}:
            writer.transport.abort()
            return
        self._open.add(writer)
        try:
            await self._flowing.wait()  # a stalled server accepts, then says nothing
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            self._open.discard(writer)
            writer.transport.abort()
            return
        self._open.add(up_writer)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self._open.difference_update({writer, up_writer})

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        try:
            while data := await reader.read(CHUNK):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                writer.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
