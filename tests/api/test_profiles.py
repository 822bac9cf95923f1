"""GET /api/profiles/:username and (un)following."""

from __future__ import annotations

import httpx
import pytest

from tests.api.helpers import (
    MISSING_TOKEN,
    Account,
    assert_error,
    assert_invalid,
    assert_profile,
    follow,
    not_found,
    ok,
    register,
)


async def test_show_profile_anonymously(client: httpx.AsyncClient, jake: Account) -> None:
    body = ok(await client.get("/profiles/jake"))

    assert set(body) == {"profile"}
    assert_profile(body["profile"], username="jake", following=False)
    assert body["profile"]["bio"] is None
    assert body["profile"]["image"] is None


async def test_show_profile_as_a_follower(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    assert (
        ok(await client.get("/profiles/jake", headers=jane.headers))["profile"]["following"]
        is False
    )

    await follow(client, jane, "jake")

    profile = ok(await client.get("/profiles/jake", headers=jane.headers))["profile"]
    assert_profile(profile, username="jake", following=True)
    assert ok(await client.get("/profiles/jake"))["profile"]["following"] is False
    assert (
        ok(await client.get("/profiles/jane", headers=jake.headers))["profile"]["following"]
        is False
    )


async def test_show_unknown_profile_is_404(client: httpx.AsyncClient, jake: Account) -> None:
    assert_error(await client.get("/profiles/nobody"), 404, not_found("profile"))
    assert_error(
        await client.get("/profiles/nobody", headers=jake.headers), 404, not_found("profile")
    )


async def test_follow(client: httpx.AsyncClient, jake: Account, jane: Account) -> None:
    body = ok(await client.post("/profiles/jake/follow", headers=jane.headers))

    assert set(body) == {"profile"}
    assert_profile(body["profile"], username="jake", following=True)


async def test_follow_is_one_way(client: httpx.AsyncClient, jake: Account, jane: Account) -> None:
    await follow(client, jane, "jake")

    profile = ok(await client.get("/profiles/jane", headers=jake.headers))["profile"]
    assert profile["following"] is False


async def test_follow_twice_is_idempotent(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    await follow(client, jane, "jake")

    profile = ok(await client.post("/profiles/jake/follow", headers=jane.headers))["profile"]

    assert_profile(profile, username="jake", following=True)
    assert ok(await client.get("/profiles/jake", headers=jane.headers))["profile"]["following"]


async def test_follow_ignores_a_stray_body(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    response = await client.post(
        "/profiles/jake/follow", json={"profile": {"following": False}}, headers=jane.headers
    )

    assert_profile(ok(response)["profile"], username="jake", following=True)


async def test_follow_ignores_a_stray_non_json_body(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    headers = {**jane.headers, "Content-Type": "application/json"}
    response = await client.post("/profiles/jake/follow", content=b"{not json", headers=headers)

    assert_profile(ok(response)["profile"], username="jake", following=True)


async def test_follow_yourself_is_422(client: httpx.AsyncClient, jake: Account) -> None:
    assert_invalid(await client.post("/profiles/jake/follow", headers=jake.headers))

    assert (
        ok(await client.get("/profiles/jake", headers=jake.headers))["profile"]["following"]
        is False
    )


async def test_follow_unknown_profile_is_404(client: httpx.AsyncClient, jake: Account) -> None:
    response = await client.post("/profiles/nobody/follow", headers=jake.headers)

    assert_error(response, 404, not_found("profile"))


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_follow_and_unfollow_require_a_token(
    client: httpx.AsyncClient, jake: Account, method: str
) -> None:
    response = await client.request(method, "/profiles/jake/follow")

    assert_error(response, 401, MISSING_TOKEN)


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_follow_unknown_profile_without_token_is_401(
    client: httpx.AsyncClient, method: str
) -> None:
    response = await client.request(method, "/profiles/nobody/follow")

    assert_error(response, 401, MISSING_TOKEN)


async def test_unfollow(client: httpx.AsyncClient, jake: Account, jane: Account) -> None:
    await follow(client, jane, "jake")

    body = ok(await client.delete("/profiles/jake/follow", headers=jane.headers))

    assert set(body) == {"profile"}
    assert_profile(body["profile"], username="jake", following=False)
    assert (
        ok(await client.get("/profiles/jake", headers=jane.headers))["profile"]["following"]
        is False
    )


async def test_unfollow_when_not_following_is_fine(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    body = ok(await client.delete("/profiles/jake/follow", headers=jane.headers))

    assert_profile(body["profile"], username="jake", following=False)


async def test_unfollow_unknown_profile_is_404(client: httpx.AsyncClient, jake: Account) -> None:
    response = await client.delete("/profiles/nobody/follow", headers=jake.headers)

    assert_error(response, 404, not_found("profile"))


async def test_profile_shows_bio_and_image(client: httpx.AsyncClient, jake: Account) -> None:
    user = {"bio": "I work at statefarm", "image": "https://example.com/jake.png"}
    ok(await client.put("/user", json={"user": user}, headers=jake.headers))
    jane = await register(client, "jane")

    profile = ok(await client.get("/profiles/jake", headers=jane.headers))["profile"]

    assert profile == {
        "username": "jake",
        "bio": "I work at statefarm",
        "image": "https://example.com/jake.png",
        "following": False,
    }
