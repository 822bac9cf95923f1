"""API documentation: served offline from this origin in development, absent in production."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from broadsheet.settings import Settings
from broadsheet.web.app import create_app
from tests.api.helpers import error

BASE = "http://test"
DOCUMENTATION = ["/docs", "/openapi.json"]

URL_ATTRIBUTES = {"src", "href", "spec-url", "data-openapi-url"}
ClientFor = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


class References(HTMLParser):
    """Every URL a page makes the browser load: script src, link href, img src, and the like."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in URL_ATTRIBUTES and value]


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return parser.urls


@pytest.fixture
def client_for(settings: Settings) -> ClientFor:
    """A client for an app over the same database, with some settings changed."""

    @asynccontextmanager
    async def open_client(**changes: Any) -> AsyncIterator[httpx.AsyncClient]:
        application = create_app(settings.model_copy(update=changes))
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
                yield http

    return open_client


async def test_the_docs_page_loads_only_from_this_origin(client_for: ClientFor) -> None:
    page = "/docs"
    async with client_for() as client:
        response = await client.get(page)

        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/html")
        urls = references(response.text)
        assert any(url.endswith(".js") for url in urls), urls
        for url in urls:
            absolute = urljoin(BASE + page, url)
            assert urlsplit(absolute).netloc == "test", url  # same origin: no CDN
            asset = await client.get(absolute)
            assert asset.status_code == 200, (url, asset.status_code)
            assert asset.content, url
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "http" not in policy  # no other origin is allowed to serve anything


async def test_swagger_ui_starts_from_its_own_script(client_for: ClientFor) -> None:
    """The page's policy forbids inline scripts, so the start-up must be a same-origin file."""
    async with client_for() as client:
        html = (await client.get("/docs")).text
        scripts = [url for url in references(html) if url.endswith(".js")]
        starter = (await client.get(urljoin(BASE, scripts[-1]))).text

    assert "<script>" not in html
    assert "SwaggerUIBundle(" in starter
    assert "validatorUrl: null" in starter


async def test_the_schema_is_served_in_development(client_for: ClientFor) -> None:
    async with client_for(environment="development") as client:
        response = await client.get("/openapi.json")

    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Broadsheet"


@pytest.mark.parametrize(
    "changes",
    [{"environment": "production"}, {"environment": "development", "api_docs": False}],
    ids=["production", "turned off"],
)
async def test_docs_can_be_turned_off_and_are_off_in_production(
    client_for: ClientFor, changes: dict[str, Any]
) -> None:
    async with client_for(**changes) as client:
        for path in [*DOCUMENTATION, "/redoc", "/docs/static/swagger-ui-bundle.js"]:
            error(await client.get(path), 404)
        assert (await client.get("/api/tags")).status_code == 200


async def test_docs_can_be_turned_on_in_production(client_for: ClientFor) -> None:
    async with client_for(environment="production", api_docs=True) as client:
        for path in DOCUMENTATION:
            assert (await client.get(path)).status_code == 200, path


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROADSHEET_API_DOCS", "false")
    assert Settings(environment="development").serves_api_docs is False
    monkeypatch.delenv("BROADSHEET_API_DOCS")
    assert Settings(environment="development").serves_api_docs is True
    assert Settings(environment="production").serves_api_docs is False
