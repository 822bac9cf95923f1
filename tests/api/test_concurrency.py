"""Simultaneous identical requests: idempotent operations stay idempotent under a race."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from typing import Any

import argon2
import httpx
import pytest
from fastapi import FastAPI

from tests import factories
from tests.api.helpers import Account, create_article, ok, register
from tests.conftest import TRANSACTIONAL_BACKENDS

COPIES = 10


@pytest.fixture
def isolated(backend: str) -> bool:
    """Whether every response shows one consistent state. Without transactions (the
    mongodb-standalone backend) a favorite and its counter are two writes, so a response
    may fall between them; the state after the race must be right all the same."""
    return backend in TRANSACTIONAL_BACKENDS


async def test_simultaneous_follows(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    responses = await asyncio.gather(
        *(client.post("/profiles/jake/follow", headers=jane.headers) for _ in range(COPIES))
    )

    for response in responses:
        assert ok(response)["profile"]["following"] is True
    profile = ok(await client.get("/profiles/jake", headers=jane.headers))["profile"]
    assert profile["following"] is True
    article = await create_article(client, jake)
    feed = ok(await client.get("/articles/feed", headers=jane.headers))
    assert feed["articlesCount"] == 1
    assert [a["slug"] for a in feed["articles"]] == [article["slug"]]


async def test_simultaneous_unfollows(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    ok(await client.post("/profiles/jake/follow", headers=jane.headers))

    responses = await asyncio.gather(
        *(client.delete("/profiles/jake/follow", headers=jane.headers) for _ in range(COPIES))
    )

    for response in responses:
        assert ok(response)["profile"]["following"] is False
    assert (
        ok(await client.get("/profiles/jake", headers=jane.headers))["profile"]["following"]
        is False
    )


async def test_simultaneous_favorites(
    client: httpx.AsyncClient, jake: Account, jane: Account, isolated: bool
) -> None:
    article = await create_article(client, jake)
    url = f"/articles/{article['slug']}/favorite"

    responses = await asyncio.gather(
        *(client.post(url, headers=jane.headers) for _ in range(COPIES))
    )

    for response in responses:
        body = ok(response)["article"]
        assert body["favorited"] is True
        if isolated:
            assert body["favoritesCount"] == 1
    shown = ok(await client.get(f"/articles/{article['slug']}", headers=jane.headers))["article"]
    assert shown["favorited"] is True
    assert shown["favoritesCount"] == 1


async def test_simultaneous_unfavorites(
    client: httpx.AsyncClient, jake: Account, jane: Account, isolated: bool
) -> None:
    article = await create_article(client, jake)
    url = f"/articles/{article['slug']}/favorite"
    ok(await client.post(url, headers=jane.headers))

    responses = await asyncio.gather(
        *(client.delete(url, headers=jane.headers) for _ in range(COPIES))
    )

    for response in responses:
        body = ok(response)["article"]
        assert body["favorited"] is False
        if isolated:
            assert body["favoritesCount"] == 0
    shown = ok(await client.get(f"/articles/{article['slug']}", headers=jane.headers))["article"]
    assert shown["favorited"] is False
    assert shown["favoritesCount"] == 0


async def test_simultaneous_favorites_by_many_users(
    client: httpx.AsyncClient, jake: Account
) -> None:
    article = await create_article(client, jake)
    fans = [await register(client, f"fan{n}") for n in range(5)]
    url = f"/articles/{article['slug']}/favorite"

    responses = await asyncio.gather(*(client.post(url, headers=fan.headers) for fan in fans))

    for response in responses:
        ok(response)
    assert ok(await client.get(f"/articles/{article['slug']}"))["article"]["favoritesCount"] == 5


async def test_simultaneous_same_title_articles_get_distinct_slugs(
    client: httpx.AsyncClient, jake: Account
) -> None:
    created = await asyncio.gather(*(create_article(client, jake, "Race") for _ in range(COPIES)))

    slugs = {a["slug"] for a in created}
    assert len(slugs) == COPIES
    assert ok(await client.get("/articles"))["articlesCount"] == COPIES


async def test_simultaneous_registrations_of_one_name(client: httpx.AsyncClient) -> None:
    fields = [
        {
            "username": "racer" if n % 2 else "RACER",
            "email": f"racer{n}@example.com",
            "password": "password123",
        }
        for n in range(COPIES)
    ]

    responses = await asyncio.gather(*(client.post("/users", json={"user": f}) for f in fields))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (COPIES - 1), [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert response.json() == {"errors": {"username": ["has already been taken"]}}


# --- races between different requests ----------------------------------------------------

TRIALS = 6


async def test_concurrent_edits_of_different_fields_both_land(
    client: httpx.AsyncClient, jake: Account, isolated: bool
) -> None:
    """Concurrent PUTs of one article changing different fields: no change is lost, and an
    ``updatedAt`` acknowledged to a client never goes backwards. (Without transactions a
    response may already show a later edit, and so its ``updatedAt``.)"""
    for trial in range(TRIALS):
        article = await create_article(client, jake, f"Edited {trial}")
        url = f"/articles/{article['slug']}"
        edits = [
            {"body": f"new body {trial}"},
            {"tagList": ["fresh", f"t{trial}"]},
            {"description": f"new description {trial}"},
        ]
        responses = await asyncio.gather(
            *(client.put(url, json={"article": edit}, headers=jake.headers) for edit in edits)
        )

        acknowledged = [ok(response)["article"]["updatedAt"] for response in responses]
        final = ok(await client.get(url))["article"]
        assert final["body"] == f"new body {trial}", final
        assert final["tagList"] == sorted(["fresh", f"t{trial}"]), final
        assert final["description"] == f"new description {trial}", final
        assert final["title"] == f"Edited {trial}"
        if isolated:
            assert len(set(acknowledged)) == len(edits), acknowledged  # each edit moved it
        assert final["updatedAt"] == max(acknowledged), (final["updatedAt"], acknowledged)


async def test_a_title_edit_and_a_description_edit_both_land(
    client: httpx.AsyncClient, jake: Account
) -> None:
    for trial in range(TRIALS):
        article = await create_article(client, jake, f"Before {trial}")
        url = f"/articles/{article['slug']}"
        renamed, described = await asyncio.gather(
            client.put(url, json={"article": {"title": f"After {trial}"}}, headers=jake.headers),
            client.put(url, json={"article": {"description": "described"}}, headers=jake.headers),
        )

        assert renamed.status_code == 200, renamed.text
        # The description edit either ran before the rename (200) or found the old slug gone.
        assert described.status_code in {200, 404}, described.text
        final = ok(await client.get(f"/articles/{ok(renamed)['article']['slug']}"))["article"]
        assert final["title"] == f"After {trial}"
        if described.status_code == 200:
            assert final["description"] == "described", final
            assert final["updatedAt"] >= ok(described)["article"]["updatedAt"]
        assert final["updatedAt"] >= ok(renamed)["article"]["updatedAt"]


async def test_concurrent_account_edits_of_different_fields_both_land(
    client: httpx.AsyncClient, jake: Account
) -> None:
    for trial in range(TRIALS):
        bio, image = await asyncio.gather(
            client.put("/user", json={"user": {"bio": f"bio {trial}"}}, headers=jake.headers),
            client.put("/user", json={"user": {"image": f"img{trial}"}}, headers=jake.headers),
        )

        assert ok(bio)["user"]["bio"] == f"bio {trial}"
        assert ok(image)["user"]["image"] == f"img{trial}"
        user = ok(await client.get("/user", headers=jake.headers))["user"]
        assert (user["bio"], user["image"]) == (f"bio {trial}", f"img{trial}"), user


async def test_comments_racing_the_articles_delete_leave_no_orphans(
    app: FastAPI, client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    """A comment is acknowledged only if its article still exists when it is stored; none
    outlives the article."""
    storage = app.state.broadsheet.storage
    for trial in range(3):
        article = await create_article(client, jake, f"Doomed {trial}")
        url = f"/articles/{article['slug']}"

        async def comment(url: str, n: int) -> httpx.Response:
            await asyncio.sleep(0.002 * n)
            body = {"comment": {"body": f"c{n}"}}
            return await client.post(f"{url}/comments", json=body, headers=jane.headers)

        async def delete(url: str) -> httpx.Response:
            await asyncio.sleep(0.01)
            return await client.delete(url, headers=jake.headers)

        deleted, *commented = await asyncio.gather(
            delete(url), *(comment(url, n) for n in range(12))
        )

        assert deleted.status_code == 204, deleted.text
        assert {r.status_code for r in commented} <= {201, 404}, [r.text for r in commented]
        assert (await client.get(f"{url}/comments")).status_code == 404
        assert await storage.check(repair=False) == []


async def test_favorites_racing_the_articles_delete_leave_no_orphans(
    app: FastAPI, client: httpx.AsyncClient, jake: Account
) -> None:
    storage = app.state.broadsheet.storage
    fans = await _fans(app, 12)
    article = await create_article(client, jake, "Doomed")
    url = f"/articles/{article['slug']}"

    async def favorite(n: int, fan: Account) -> httpx.Response:
        await asyncio.sleep(0.002 * n)
        return await client.post(f"{url}/favorite", headers=fan.headers)

    deleted, *favorited = await asyncio.gather(
        client.delete(url, headers=jake.headers), *(favorite(n, f) for n, f in enumerate(fans))
    )

    assert deleted.status_code == 204, deleted.text
    assert {r.status_code for r in favorited} <= {200, 404}, [r.text for r in favorited]
    assert await storage.check(repair=False) == []


HOT = 200


async def _fans(app: FastAPI, count: int) -> list[Account]:
    """Accounts made straight through the store (registering hundreds over HTTP is slow)."""
    broadsheet = app.state.broadsheet
    accounts = []
    for _ in range(count):
        user = await factories.user(broadsheet.storage)
        token = broadsheet.tokens.issue(user.id)
        accounts.append(Account(user.username, user.email, "", token))
    return accounts


async def test_a_hot_article_takes_hundreds_of_simultaneous_favorites(
    app: FastAPI, client: httpx.AsyncClient, jake: Account
) -> None:
    article = await create_article(client, jake)
    url = f"/articles/{article['slug']}/favorite"
    fans = await _fans(app, HOT)

    favorited = await asyncio.gather(*(client.post(url, headers=f.headers) for f in fans))

    assert [r.status_code for r in favorited] == [200] * HOT, _failures(favorited)
    for response in favorited:
        body = ok(response)["article"]
        assert body["favorited"] is True
        assert 1 <= body["favoritesCount"] <= HOT
    shown = ok(await client.get(f"/articles/{article['slug']}"))["article"]
    assert shown["favoritesCount"] == HOT

    unfavorited = await asyncio.gather(*(client.delete(url, headers=f.headers) for f in fans))

    assert [r.status_code for r in unfavorited] == [200] * HOT, _failures(unfavorited)
    for response in unfavorited:
        body = ok(response)["article"]
        assert body["favorited"] is False
        assert 0 <= body["favoritesCount"] < HOT
    shown = ok(await client.get(f"/articles/{article['slug']}"))["article"]
    assert shown["favoritesCount"] == 0


def _failures(responses: list[httpx.Response]) -> list[str]:
    return [f"{r.status_code} {r.text}" for r in responses if r.status_code != 200][:5]


async def test_a_toggle_storm_leaves_the_count_equal_to_the_favorites(
    app: FastAPI, client: httpx.AsyncClient, jake: Account
) -> None:
    """Several users favorite and unfavorite one article at once, many times over: each
    response shows the state its own request left, and the count ends equal to the truth."""
    article = await create_article(client, jake)
    slug = article["slug"]
    fans = await _fans(app, 6)
    rng = random.Random(9)
    requests = [(fan, rng.random() < 0.5) for _ in range(12) for fan in fans]
    rng.shuffle(requests)

    async def toggle(fan: Account, on: bool) -> tuple[bool, httpx.Response]:
        send = client.post if on else client.delete
        return on, await send(f"/articles/{slug}/favorite", headers=fan.headers)

    results = await asyncio.gather(*(toggle(fan, on) for fan, on in requests))

    for on, response in results:
        assert ok(response)["article"]["favorited"] is on, response.text
    states = [
        ok(await client.get(f"/articles/{slug}", headers=fan.headers))["article"] for fan in fans
    ]
    favorites = sum(state["favorited"] for state in states)
    assert {state["favoritesCount"] for state in states} == {favorites}
    assert await app.state.broadsheet.storage.check(repair=False) == []


async def test_a_follow_storm_answers_each_request_with_its_own_state(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    rng = random.Random(4)
    requests = [rng.random() < 0.5 for _ in range(40)]

    async def toggle(on: bool) -> tuple[bool, httpx.Response]:
        send = client.post if on else client.delete
        return on, await send("/profiles/jake/follow", headers=jane.headers)

    for on, response in await asyncio.gather(*(toggle(on) for on in requests)):
        assert ok(response)["profile"]["following"] is on, response.text


# --- password hashing and the event loop -------------------------------------------------
# Checked by what runs where and when, not by timings: each Argon2 call is held inside its
# thread until the test has read the API several times, so those reads can only be answered
# if the hashing is off the event loop (on it, the loop itself would be held).

LOGINS = 4
HELD_FOR_AT_MOST = 10.0  # seconds; on the loop, a held hash would stall the test this long


class HeldArgon2:
    """argon2-cffi's hash and verify, counted, their threads noted, held until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.in_flight = 0
        self.calls = 0
        self.threads: set[str] = set()
        self.released = threading.Event()
        self._lock = threading.Lock()
        for name in ("hash", "verify"):
            original = getattr(argon2.PasswordHasher, name)
            monkeypatch.setattr(argon2.PasswordHasher, name, self._held(original))

    def _held(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def held(hasher: argon2.PasswordHasher, *args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.in_flight += 1
                self.calls += 1
                self.threads.add(threading.current_thread().name)
            try:
                self.released.wait(HELD_FOR_AT_MOST)
                return original(hasher, *args, **kwargs)
            finally:
                with self._lock:
                    self.in_flight -= 1

        return held


async def test_password_hashing_runs_off_the_event_loop(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Logins whose hashes are in flight leave the loop free: reads are answered meanwhile,
    and every hash runs on the hasher's own threads."""
    account = await register(client, "hasher")
    credentials = {"user": {"email": account.email, "password": account.password}}
    argon = HeldArgon2(monkeypatch)

    logins = asyncio.gather(*(client.post("/users/login", json=credentials) for _ in range(LOGINS)))
    for _ in range(500):  # until the first hash is in flight
        if argon.in_flight:
            break
        await asyncio.sleep(0.01)
    reads = []
    for _ in range(5):
        response = await client.get("/tags")
        reads.append((response.status_code, argon.in_flight > 0))
    argon.released.set()

    assert reads == [(200, True)] * 5
    assert [ok(response)["user"]["username"] for response in await logins] == ["hasher"] * LOGINS
    assert argon.threads
    assert all(name.startswith("argon2") for name in argon.threads)
    assert threading.current_thread().name not in argon.threads


async def test_a_login_with_an_unknown_email_costs_a_hash_too(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No account enumeration by timing: the answer waits for a hash either way."""
    argon = HeldArgon2(monkeypatch)
    argon.released.set()
    unknown = {"user": {"email": "nobody@example.com", "password": "correct horse battery"}}

    refused = await client.post("/users/login", json=unknown)

    assert refused.status_code == 401
    assert argon.calls == 1
