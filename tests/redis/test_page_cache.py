"""The anonymous read cache (``broadsheet.pagecache`` behind ``web.cache``), with two app
instances over one database and one Redis, as two workers or two hosts would be: an answer
kept by one is served by the other, a write on either is seen by the next read on both, and
no signed-in reader's answer is ever kept or served."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest
from fastapi import FastAPI

import broadsheet.pagecache
from broadsheet.settings import Settings
from broadsheet.web.app import create_app
from tests import databases
from tests.api.helpers import Account, create_article, ok, register
from tests.conftest import with_redis
from tests.tcp_proxy import CuttableProxy

HIT = "broadsheet; hit"
STORED = "broadsheet; fwd=miss; stored"


async def _instances(
    stack: AsyncExitStack, settings: Settings, count: int
) -> list[httpx.AsyncClient]:
    clients = []
    for _ in range(count):
        app: FastAPI = create_app(settings)
        await stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=transport, base_url="http://test/api")
        clients.append(await stack.enter_async_context(client))
    return clients


@pytest.fixture
def cached_settings(settings: Settings, redis_prefix: str) -> Settings:
    return with_redis(settings, redis_prefix)


@pytest.fixture
async def workers(cached_settings: Settings) -> AsyncIterator[list[httpx.AsyncClient]]:
    await databases.empty_at(cached_settings.database_url)
    async with AsyncExitStack() as stack:
        yield await _instances(stack, cached_settings, 2)


@pytest.fixture
async def site(workers: list[httpx.AsyncClient]) -> tuple[Account, Account, str]:
    """jake wrote an article tagged "dragons"; jane follows no one."""
    first = workers[0]
    jake, jane = await register(first, "jake"), await register(first, "jane")
    article = await create_article(first, jake, tags=["dragons"])
    return jake, jane, article["slug"]


def _anonymous_reads(slug: str) -> list[str]:
    return [
        "/articles",
        "/articles?tag=dragons&limit=5",
        "/articles?author=jake",
        f"/articles/{slug}",
        f"/articles/{slug}/comments",
        "/tags",
        "/profiles/jake",
    ]


async def test_an_answer_kept_by_one_worker_is_served_by_the_other_unchanged(
    workers: list[httpx.AsyncClient], site: tuple[Account, Account, str], settings: Settings
) -> None:
    first, second = workers
    _, _, slug = site
    async with AsyncExitStack() as stack:
        (uncached,) = await _instances(stack, settings, 1)  # no Redis: straight from the store
        for path in _anonymous_reads(slug):
            stored = await first.get(path)
            served = await second.get(path)
            truth = await uncached.get(path)

            assert stored.headers["cache-status"] == STORED, path
            assert served.headers["cache-status"] == HIT, path
            assert "cache-status" not in truth.headers
            assert served.status_code == truth.status_code == 200, path
            assert served.headers["content-type"] == "application/json"
            assert served.json() == stored.json() == truth.json(), path
            # A hit passes the same outer layers: security and CORS headers included.
            assert served.headers["x-content-type-options"] == "nosniff"


async def test_a_write_on_one_worker_is_seen_by_the_next_read_on_the_other(
    workers: list[httpx.AsyncClient], site: tuple[Account, Account, str]
) -> None:
    first, second = workers
    jake, jane, slug = site
    assert ok(await first.get(f"/articles/{slug}"))["article"]["favoritesCount"] == 0
    assert (await second.get(f"/articles/{slug}")).headers["cache-status"] == HIT

    ok(await second.post(f"/articles/{slug}/favorite", headers=jane.headers))
    after_favorite = await first.get(f"/articles/{slug}")
    ok(await first.put(f"/articles/{slug}", headers=jake.headers, json={"article": {"title": "T"}}))
    listed = ok(await second.get("/articles"))["articles"]

    assert after_favorite.headers["cache-status"] == STORED
    assert ok(after_favorite)["article"]["favoritesCount"] == 1
    assert [article["title"] for article in listed] == ["T"]
    assert ok(await second.get("/articles/t"))["article"]["favoritesCount"] == 1


async def test_signed_in_readers_neither_fill_nor_read_the_cache(
    workers: list[httpx.AsyncClient], site: tuple[Account, Account, str]
) -> None:
    first, second = workers
    _, jane, slug = site
    ok(await first.post(f"/articles/{slug}/favorite", headers=jane.headers))
    ok(await first.post("/profiles/jake/follow", headers=jane.headers))
    anonymous = [await first.get(path) for path in ("/articles", "/profiles/jake")]

    as_jane = [
        await second.get(path, headers=jane.headers) for path in ("/articles", "/profiles/jake")
    ]
    anonymous_again = [await second.get(path) for path in ("/articles", "/profiles/jake")]

    assert [r.headers["cache-status"] for r in anonymous] == [STORED, STORED]
    assert all("cache-status" not in response.headers for response in as_jane)
    assert ok(as_jane[0])["articles"][0]["favorited"] is True
    assert ok(as_jane[1])["profile"]["following"] is True
    assert [r.headers["cache-status"] for r in anonymous_again] == [HIT, HIT]
    assert ok(anonymous_again[0])["articles"][0]["favorited"] is False
    assert ok(anonymous_again[1])["profile"]["following"] is False


async def test_refused_writes_sign_ins_and_subscriptions_keep_what_is_kept(
    workers: list[httpx.AsyncClient], site: tuple[Account, Account, str]
) -> None:
    first, second = workers
    jake, jane, slug = site
    ok(await first.get("/articles"))

    refused = [
        await second.post("/articles", json={"article": {"title": "no token"}}),
        await second.delete(f"/articles/{slug}", headers=jane.headers),  # not hers
        await second.post("/articles", headers=jake.headers, json={"article": {}}),
    ]
    signed_in = await second.post(
        "/users/login", json={"user": {"email": jake.email, "password": jake.password}}
    )
    subscribed = await second.post("/tags/dragons/subscription", headers=jane.headers)
    unsubscribed = await second.delete("/tags/dragons/subscription", headers=jane.headers)

    assert [response.status_code for response in refused] == [401, 403, 422]
    assert [r.status_code for r in (signed_in, subscribed, unsubscribed)] == [200, 200, 200]
    assert (await first.get("/articles")).headers["cache-status"] == HIT


async def test_only_successful_answers_are_kept(workers: list[httpx.AsyncClient]) -> None:
    first, second = workers
    missing = [await first.get("/profiles/nobody"), await second.get("/profiles/nobody")]
    await register(first, "nobody")
    found = await second.get("/profiles/nobody")

    assert [response.status_code for response in missing] == [404, 404]
    assert all("cache-status" not in response.headers for response in missing)
    assert ok(found)["profile"]["username"] == "nobody"


async def test_an_answer_over_the_size_limit_is_neither_kept_nor_said_to_be(
    workers: list[httpx.AsyncClient], site: tuple[Account, Account, str]
) -> None:
    first, second = workers
    jake, _, _ = site
    long = await create_article(first, jake, "Long", body="\U0001f409" * 200_000)  # ~800 KB
    answers = [await client.get(f"/articles/{long['slug']}") for client in (first, second)]

    assert [ok(answer)["article"]["body"] == long["body"] for answer in answers] == [True, True]
    assert len(answers[0].content) > 512 * 1024
    assert all("cache-status" not in answer.headers for answer in answers)


async def test_feeds_and_the_current_user_are_never_kept(
    workers: list[httpx.AsyncClient], site: tuple[Account, Account, str]
) -> None:
    first, _ = workers
    _, jane, _ = site
    for path in ("/articles/feed", "/user"):
        response = await first.get(path, headers=jane.headers)
        assert response.status_code == 200
        assert "cache-status" not in response.headers, path


async def test_no_read_after_an_acknowledged_write_is_stale_under_concurrent_readers(
    workers: list[httpx.AsyncClient], site: tuple[Account, Account, str]
) -> None:
    """Readers on both workers keep filling the cache while one user toggles a favorite: every
    read that starts after a toggle is acknowledged shows that toggle."""
    _, jane, slug = site
    rng = random.Random(3)
    stop = asyncio.Event()

    async def reader(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            ok(await client.get(f"/articles/{slug}"))

    readers = [asyncio.create_task(reader(workers[i % 2])) for i in range(6)]
    stale: list[tuple[int, int]] = []
    try:
        for round_number in range(30):
            writer = rng.choice(workers)
            on = round_number % 2 == 0
            send = writer.post if on else writer.delete
            ok(await send(f"/articles/{slug}/favorite", headers=jane.headers))
            for client in workers:
                count = ok(await client.get(f"/articles/{slug}"))["article"]["favoritesCount"]
                if count != int(on):
                    stale.append((round_number, count))
    finally:
        stop.set()
        await asyncio.gather(*readers)

    assert stale == []


async def test_with_redis_away_reads_come_from_the_store(
    cached_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """And writes fail closed as before (the revoked-token list is in Redis too), so none
    lands that the cache could miss."""
    monkeypatch.setattr(broadsheet.pagecache, "REDIS_RETRY_SECONDS", 0.2)
    proxy = CuttableProxy("127.0.0.1", 6379)
    await proxy.start()
    through_proxy = cached_settings.model_copy(update={"redis_url": proxy.url})
    await databases.empty_at(through_proxy.database_url)
    try:
        async with AsyncExitStack() as stack:
            (client,) = await _instances(stack, through_proxy, 1)
            jake = await register(client, "jake")
            slug = (await create_article(client, jake))["slug"]
            assert (await client.get(f"/articles/{slug}")).headers["cache-status"] == STORED

            await proxy.cut()
            reads = [await client.get(f"/articles/{slug}") for _ in range(3)]
            edit = await client.put(
                f"/articles/{slug}", headers=jake.headers, json={"article": {"body": "new"}}
            )
            await proxy.restore()
            await asyncio.sleep(0.3)  # past the pause before Redis is tried again
            back = await client.get(f"/articles/{slug}")

            assert [read.status_code for read in reads] == [200, 200, 200]
            assert all("cache-status" not in read.headers for read in reads)
            assert edit.status_code == 503
            assert back.headers["cache-status"] == HIT
            assert back.json() == reads[0].json()
    finally:
        await proxy.cut()
