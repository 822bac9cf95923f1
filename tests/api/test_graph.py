"""GET /api/user/suggestions and GET /api/profiles/{username}/path."""

from __future__ import annotations

import httpx

from broadsheet.domain import rules
from tests.api.helpers import (
    Account,
    assert_error,
    assert_invalid,
    assert_profile,
    follow,
    not_found,
    ok,
    register,
)


async def test_suggestions_are_who_the_people_you_follow_follow(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    ann = await register(client, "ann")
    await follow(client, jake, jane.username)
    await follow(client, jane, ann.username)
    await follow(client, jane, jake.username)  # jake himself: never suggested

    body = ok(await client.get("/user/suggestions", headers=jake.headers))

    [suggestion] = body["suggestions"]
    assert set(suggestion) == {"profile", "followedBy"}
    assert_profile(suggestion["profile"], username="ann", following=False)
    assert suggestion["followedBy"] == 1


async def test_suggestions_need_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/user/suggestions")).status_code == 401


async def test_a_path_of_follows_as_profiles(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    ann = await register(client, "ann")
    await follow(client, jake, jane.username)
    await follow(client, jane, ann.username)

    body = ok(await client.get(f"/profiles/{jake.username}/path", params={"to": "ann"}))
    back = ok(await client.get("/profiles/ann/path", params={"to": jake.username}))
    seen = ok(
        await client.get(
            f"/profiles/{jake.username}/path", params={"to": "ann"}, headers=jake.headers
        )
    )

    assert [p["username"] for p in body["path"]] == ["jake", "jane", "ann"]
    assert body["maxFollows"] == rules.MAX_PATH_FOLLOWS
    assert back["path"] == []  # follows have a direction
    assert [p["following"] for p in seen["path"]] == [False, True, False]


async def test_a_path_needs_both_ends(client: httpx.AsyncClient, jake: Account) -> None:
    assert_invalid(await client.get(f"/profiles/{jake.username}/path"), "to")
    assert_error(
        await client.get(f"/profiles/{jake.username}/path", params={"to": "nobody"}),
        404,
        not_found("profile"),
    )
    assert_error(
        await client.get("/profiles/nobody/path", params={"to": jake.username}),
        404,
        not_found("profile"),
    )
