"""``Server-Timing`` on every response (``BROADSHEET_SERVER_TIMING``): what the request cost.

``db;dur=1.234;desc="2 statements", app;dur=3.456``: the statements (MongoDB: commands) the
request sent to the database and the milliseconds spent in them, then the milliseconds from
the request reaching the application to its response starting, the database time included.
The storage adapters count into the tally this middleware opens (``broadsheet.telemetry``).
"""

from __future__ import annotations

from time import perf_counter

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broadsheet.telemetry import tallying


class ServerTiming:
    def __init__(self, app: ASGIApp, *, unit: str) -> None:
        self.app = app
        self.unit = unit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        with tallying() as tally:

            async def send_with_timing(message: Message) -> None:
                if message["type"] == "http.response.start":
                    elapsed = perf_counter() - started
                    MutableHeaders(scope=message).append(
                        "Server-Timing",
                        f'db;dur={tally.seconds * 1000:.3f};desc="{tally.queries} {self.unit}", '
                        f"app;dur={elapsed * 1000:.3f}",
                    )
                await send(message)

            await self.app(scope, receive, send_with_timing)
