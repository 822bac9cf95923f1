"""Request bodies are JSON; every way a body can fail to parse is a 422, never a 400 or 500.

FastAPI turns a ``json.JSONDecodeError`` into a validation error (422) but any other parse
failure into a bare 400: JSON nested deeper than the parser recurses (``RecursionError``) and
bytes that are not UTF-8 (``UnicodeDecodeError``). This route class reports those two as
decode errors too, so ``web.errors`` can name them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from broadsheet.web.errors import NESTED_TOO_DEEPLY, NOT_UTF8


class JsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = json.loads(body)
            except RecursionError:
                raise json.JSONDecodeError(NESTED_TOO_DEEPLY, "", 0) from None
            except UnicodeDecodeError as error:
                raise json.JSONDecodeError(NOT_UTF8, "", error.start) from None
        return self._json


class JsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            return await handler(JsonRequest(request.scope, request.receive))

        return handle
