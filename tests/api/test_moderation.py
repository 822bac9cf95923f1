"""Roles and moderation over HTTP: staff delete anyone's content and suspend users, a
suspension stops the user's tokens at once, and admins read the audit log."""

from __future__ import annotations

import httpx
import pytest

from broadsheet.bootstrap import SystemClock
from broadsheet.services import moderation
from broadsheet.settings import Settings
from broadsheet.storage import open_storage
from tests.api.helpers import (
    PASSWORD,
    Account,
    add_comment,
    assert_error,
    assert_no_content,
    create_article,
    ok,
    register,
)


async def _grant(settings: Settings, username: str, role: str) -> None:
    storage = open_storage(settings.database_url)
    try:
        await moderation.grant(
            storage.unit_of_work(), clock=SystemClock(), username=username, role=role
        )
    finally:
        await storage.close()


@pytest.fixture
async def mod(client: httpx.AsyncClient, settings: Settings) -> Account:
    account = await register(client, "mod")
    await _grant(settings, "mod", "moderator")
    return account


@pytest.fixture
async def admin(client: httpx.AsyncClient, settings: Settings) -> Account:
    account = await register(client, "boss")
    await _grant(settings, "boss", "admin")
    return account


async def _audit(client: httpx.AsyncClient, admin: Account) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = ok(await client.get("/audit", headers=admin.headers))[
        "entries"
    ]
    return entries


async def test_a_moderator_deletes_anyones_article_and_comment_on_the_record(
    client: httpx.AsyncClient, jake: Account, jane: Account, mod: Account, admin: Account
) -> None:
    article = await create_article(client, jake, "Spam")
    other = await create_article(client, jake, "Fine")
    comment = await add_comment(client, jane, other["slug"], "more spam")

    deleted = await client.delete(
        f"/articles/{article['slug']}", params={"reason": "spam"}, headers=mod.headers
    )
    removed = await client.delete(
        f"/articles/{other['slug']}/comments/{comment['id']}", headers=mod.headers
    )

    assert_no_content(deleted)
    assert_no_content(removed)
    assert (await client.get(f"/articles/{article['slug']}")).status_code == 404
    assert ok(await client.get(f"/articles/{other['slug']}/comments"))["comments"] == []
    entries = await _audit(client, admin)
    assert [(e["actor"], e["action"], e["target"], e["reason"]) for e in entries[:2]] == [
        ("mod", "comment.delete", f"{other['slug']}#{comment['id']}", None),
        ("mod", "article.delete", article["slug"], "spam"),
    ]


async def test_readers_still_get_the_exact_403s(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    article = await create_article(client, jake, "Mine")
    comment = await add_comment(client, jake, article["slug"], "mine too")

    assert_error(
        await client.delete(f"/articles/{article['slug']}", headers=jane.headers),
        403,
        {"errors": {"article": ["forbidden"]}},
    )
    assert_error(
        await client.delete(
            f"/articles/{article['slug']}/comments/{comment['id']}", headers=jane.headers
        ),
        403,
        {"errors": {"comment": ["forbidden"]}},
    )


async def test_a_suspension_stops_every_token_at_once_and_refuses_sign_in(
    client: httpx.AsyncClient, jake: Account, mod: Account, admin: Account
) -> None:
    second = ok(
        await client.post(
            "/users/login", json={"user": {"email": jake.email, "password": PASSWORD}}
        )
    )["user"]["token"]

    suspended = await client.post(
        f"/profiles/{jake.username}/suspension", params={"reason": "abuse"}, headers=mod.headers
    )

    assert ok(suspended) == {"suspension": {"username": "jake", "suspended": True}}
    for token in (jake.token, second):
        response = await client.get("/user", headers={"Authorization": f"Token {token}"})
        assert response.status_code == 401
    login = {"user": {"email": jake.email, "password": PASSWORD}}
    assert_error(
        await client.post("/users/login", json=login),
        403,
        {"errors": {"account": ["is suspended"]}},
    )
    assert (await client.get(f"/profiles/{jake.username}")).status_code == 200  # content stays

    lifted = await client.delete(f"/profiles/{jake.username}/suspension", headers=mod.headers)
    assert ok(lifted)["suspension"]["suspended"] is False
    assert ok(await client.post("/users/login", json=login))["user"]["username"] == "jake"
    assert (await client.get("/user", headers=jake.headers)).status_code == 401  # still revoked
    actions = [(e["action"], e["target"], e["reason"]) for e in await _audit(client, admin)]
    assert actions[:2] == [("user.reinstate", "jake", None), ("user.suspend", "jake", "abuse")]


async def test_who_may_suspend_whom(
    client: httpx.AsyncClient, jake: Account, jane: Account, mod: Account, admin: Account
) -> None:
    forbidden = {"errors": {"profile": ["forbidden"]}}
    for actor, target in [(jane, "jake"), (mod, "boss"), (mod, "mod"), (admin, "boss")]:
        response = await client.post(f"/profiles/{target}/suspension", headers=actor.headers)
        assert_error(response, 403, forbidden)
    assert ok(await client.post("/profiles/mod/suspension", headers=admin.headers))
    assert_error(
        await client.post("/profiles/nobody/suspension", headers=admin.headers),
        404,
        {"errors": {"profile": ["not found"]}},
    )


async def test_only_admins_read_the_audit_log(
    client: httpx.AsyncClient, jake: Account, mod: Account, admin: Account, settings: Settings
) -> None:
    for reader in (jake, mod):
        assert_error(
            await client.get("/audit", headers=reader.headers),
            403,
            {"errors": {"audit": ["forbidden"]}},
        )
    body = ok(await client.get("/audit", params={"limit": 1}, headers=admin.headers))
    assert body["entriesCount"] == 2  # the two grants, by the command line
    [entry] = body["entries"]
    assert (entry["actor"], entry["action"], entry["target"]) == (
        None,
        "user.grant",
        "boss as admin",
    )
    assert (await client.get("/audit")).status_code == 401
