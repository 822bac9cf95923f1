"""Input rules over HTTP: text every store keeps, usernames that cannot pass for another,
bounds on every input, and one 422 naming every bad field.

Where a check runs over many fields or parameters, one test loops over them and reports every
miss at once: the suite runs on every backend, and a fresh database per case would cost more
than the cases themselves.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.api.helpers import (
    PASSWORD,
    Account,
    assert_error,
    assert_invalid,
    assert_no_leak,
    create_article,
    error,
    ok,
    register,
    taken,
)

UNSTORABLE = "may not contain NUL or unpaired surrogate characters"
MIXED_SCRIPTS = "may not mix scripts (such as Latin with Cyrillic or Greek)"
INVISIBLE = "may not contain control, formatting, private-use or unassigned characters"
NUL = "\u0000"
LONE_SURROGATE = "\ud800"

FULLWIDTH_A = "\uff41"
CYRILLIC_A = "\u0430"
GREEK_OMICRON = "\u03bf"


def unstorable(field: str) -> dict[str, Any]:
    return {"errors": {field: [UNSTORABLE]}}


async def send(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    payload: Any,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """JSON with ``\\u`` escapes: a lone surrogate travels as ``"\\ud800"``, which UTF-8 (and
    so httpx's own encoder) could not carry raw."""
    return await client.request(
        method,
        path,
        content=json.dumps(payload),
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def mismatch(response: httpx.Response, status: int, expected: dict[str, Any]) -> str | None:
    """Why ``response`` is not ``status`` with body ``expected`` (None when it is)."""
    if response.status_code != status:
        return f"{response.status_code} {response.text[:200]}"
    if response.json() != expected:
        return response.text[:200]
    if status >= 400:
        error(response, status)
    return None


# --- text the stores cannot keep ----------------------------------------------------------

USER = {"username": "newbie", "email": "newbie@example.com", "password": PASSWORD}
ARTICLE = {"title": "A title", "description": "A description", "body": "A body"}


def body_field_cases(slug: str) -> list[tuple[str, str, str, dict[str, Any], str]]:
    """(method, path, wrapper, fields, field under test): every text field of every request."""
    return [
        *[("POST", "/users", "user", USER, field) for field in ("username", "email", "password")],
        *[
            ("POST", "/users/login", "user", {"email": "jake@example.com", "password": PASSWORD}, f)
            for f in ("email", "password")
        ],
        *[
            ("PUT", "/user", "user", {}, field)
            for field in ("username", "email", "password", "bio", "image")
        ],
        *[
            ("POST", "/articles", "article", ARTICLE, field)
            for field in ("title", "description", "body", "tagList")
        ],
        *[
            ("PUT", f"/articles/{slug}", "article", {}, field)
            for field in ("title", "description", "body", "tagList")
        ],
        ("POST", f"/articles/{slug}/comments", "comment", {}, "body"),
    ]


@pytest.mark.parametrize("character", [NUL, LONE_SURROGATE], ids=["NUL", "lone-surrogate"])
async def test_unstorable_text_in_any_body_field_is_422(
    client: httpx.AsyncClient, jake: Account, character: str
) -> None:
    article = await create_article(client, jake, tags=["dragons"])
    text = f"a{character}b"
    misses = []

    for method, path, wrapper, fields, field in body_field_cases(article["slug"]):
        value: Any = [text] if field == "tagList" else text
        payload = {wrapper: {**fields, field: value}}
        response = await send(client, method, path, payload, jake.headers)
        miss = mismatch(response, 422, unstorable(field))
        if miss:
            misses.append(f"{method} {path} {field}: {miss}")

    assert misses == []
    # Nothing was written on the way.
    me = ok(await client.get("/user", headers=jake.headers))["user"]
    assert (me["username"], me["email"], me["bio"], me["image"]) == ("jake", jake.email, None, None)
    assert ok(await client.get("/articles"))["articlesCount"] == 1
    shown = ok(await client.get(f"/articles/{article['slug']}"))["article"]
    assert {k: shown[k] for k in ("title", "body", "tagList")} == {
        "title": article["title"],
        "body": article["body"],
        "tagList": ["dragons"],
    }
    assert ok(await client.get(f"/articles/{article['slug']}/comments")) == {"comments": []}
    ok(
        await send(
            client, "POST", "/users/login", {"user": {"email": jake.email, "password": PASSWORD}}
        )
    )


def parameter_cases(slug: str, bad: str) -> list[tuple[str, str, dict[str, Any] | None, str]]:
    """(method, URL, body, parameter named in the error): every path and query value that
    reaches a lookup, with ``bad`` (already percent-encoded) inside it."""
    return [
        ("GET", f"/articles/a{bad}b", None, "slug"),
        ("PUT", f"/articles/a{bad}b", {"article": {"title": "New"}}, "slug"),
        ("DELETE", f"/articles/a{bad}b", None, "slug"),
        ("POST", f"/articles/a{bad}b/favorite", None, "slug"),
        ("DELETE", f"/articles/a{bad}b/favorite", None, "slug"),
        ("GET", f"/articles/a{bad}b/comments", None, "slug"),
        ("POST", f"/articles/a{bad}b/comments", {"comment": {"body": "Hi"}}, "slug"),
        ("DELETE", f"/articles/a{bad}b/comments/1", None, "slug"),
        ("GET", f"/profiles/a{bad}b", None, "username"),
        ("POST", f"/profiles/a{bad}b/follow", None, "username"),
        ("DELETE", f"/profiles/a{bad}b/follow", None, "username"),
        ("GET", f"/articles?tag=a{bad}b", None, "tag"),
        ("GET", f"/articles?author=a{bad}b", None, "author"),
        ("GET", f"/articles?favorited=a{bad}b", None, "favorited"),
        ("GET", f"/articles?tag=dragons&author=a{bad}b&limit=0", None, "author"),
    ]


async def test_nul_in_a_path_or_query_parameter_is_422(
    client: httpx.AsyncClient, jake: Account
) -> None:
    article = await create_article(client, jake)
    misses = []

    for method, url, payload, parameter in parameter_cases(article["slug"], "%00"):
        response = await client.request(method, url, json=payload, headers=jake.headers)
        expected = unstorable(parameter)
        if "limit=0" in url:  # every bad parameter is named
            expected = {"errors": {parameter: [UNSTORABLE], "limit": ["must be between 1 and 100"]}}
        miss = mismatch(response, 422, expected)
        if miss:
            misses.append(f"{method} {url}: {miss}")

    assert misses == []


@pytest.mark.parametrize("bad", ["%ED%A0%80", "%FF", "%C0%80"])
async def test_undecodable_bytes_in_a_url_are_never_a_500(
    client: httpx.AsyncClient, jake: Account, bad: str
) -> None:
    """A lone surrogate cannot reach a URL as such: its UTF-8 form (like any invalid UTF-8, or
    an overlong NUL) is decoded to U+FFFD, which is ordinary text: not found, or no matches."""
    article = await create_article(client, jake)
    misses = []

    for method, url, payload, _ in parameter_cases(article["slug"], bad):
        response = await client.request(method, url, json=payload, headers=jake.headers)
        assert_no_leak(response)
        if "limit=0" in url:
            expected: tuple[int, dict[str, Any]] = (
                422,
                {"errors": {"limit": ["must be between 1 and 100"]}},
            )
        elif url.startswith("/articles?"):
            expected = (200, {"articles": [], "articlesCount": 0})
        else:
            what = "profile" if url.startswith("/profiles") else "article"
            expected = (404, {"errors": {what: ["not found"]}})
        miss = mismatch(response, *expected)
        if miss:
            misses.append(f"{method} {url}: {miss}")

    assert misses == []


# --- usernames that look alike ------------------------------------------------------------


async def new_user(
    client: httpx.AsyncClient, username: str, email: str = "other@example.com"
) -> httpx.Response:
    user = {"username": username, "email": email, "password": PASSWORD}
    return await client.post("/users", json={"user": user})


@pytest.mark.parametrize(
    "lookalike",
    [
        f"{FULLWIDTH_A}lice",
        "\uff41\uff4c\uff49\uff43\uff45",  # all fullwidth
        "\uff21LICE",  # fullwidth capital A
        "ALICE",
    ],
    ids=["fullwidth-a", "all-fullwidth", "fullwidth-capital", "case"],
)
async def test_a_compatibility_lookalike_of_a_username_is_taken(
    client: httpx.AsyncClient, lookalike: str
) -> None:
    await register(client, "alice")

    assert_error(await new_user(client, lookalike), 409, taken("username"))

    jane = await register(client, "jane")
    response = await client.put(
        "/user", json={"user": {"username": lookalike}}, headers=jane.headers
    )
    assert_error(response, 409, taken("username"))


async def test_usernames_are_stored_and_looked_up_in_nfkc_form(
    client: httpx.AsyncClient,
) -> None:
    user = ok(await new_user(client, f"{FULLWIDTH_A}lice"), 201)["user"]
    assert user["username"] == "alice"
    decomposed = ok(await new_user(client, "Jose\u0301", "jose@example.com"), 201)["user"]
    assert decomposed["username"] == "Jos\u00e9"  # composed
    alice = Account("alice", "other@example.com", PASSWORD, user["token"])
    await create_article(client, alice)

    profile = ok(await client.get(f"/profiles/{FULLWIDTH_A}lice"))["profile"]
    assert profile["username"] == "alice"
    assert ok(await client.get("/profiles/Jos\u00e9"))["profile"]["username"] == "Jos\u00e9"
    assert ok(await client.get("/profiles/Jose\u0301"))["profile"]["username"] == "Jos\u00e9"
    listed = ok(await client.get("/articles", params={"author": "\uff21LICE"}))
    assert listed["articlesCount"] == 1
    assert_error(await new_user(client, "JOSE\u0301", "jose2@example.com"), 409, taken("username"))


@pytest.mark.parametrize(
    "username",
    [
        f"{CYRILLIC_A}lice",  # Cyrillic a among Latin letters
        f"b{GREEK_OMICRON}b",  # Greek omicron among Latin letters
        f"{CYRILLIC_A}\u03b1",  # Cyrillic with Greek
        "paypa\u04cf",  # Cyrillic palochka for l
        "abc\u0967",  # a Devanagari digit among Latin letters
    ],
)
async def test_a_username_that_mixes_scripts_is_422(
    client: httpx.AsyncClient, jake: Account, username: str
) -> None:
    expected = {"errors": {"username": [MIXED_SCRIPTS]}}

    assert_error(await new_user(client, username), 422, expected)
    response = await client.put(
        "/user", json={"user": {"username": username}}, headers=jake.headers
    )
    assert_error(response, 422, expected)


@pytest.mark.parametrize(
    "username",
    [
        "ali\u202ece",  # right-to-left override
        "al\u200dice",  # zero-width joiner
        "al\u200bice",  # zero-width space
        "\ufeffalice",  # byte-order mark
        "ali\u2066ce",  # left-to-right isolate
        "ali\u0007ce",  # bell
        "ali\u009bce",  # C1 control
        "ali\ue000ce",  # private use
    ],
)
async def test_a_username_with_invisible_characters_is_422(
    client: httpx.AsyncClient, jake: Account, username: str
) -> None:
    expected = {"errors": {"username": [INVISIBLE]}}

    assert_error(await new_user(client, username), 422, expected)
    response = await client.put(
        "/user", json={"user": {"username": username}}, headers=jake.headers
    )
    assert_error(response, 422, expected)


@pytest.mark.parametrize(
    "username",
    [
        "\u0430\u043b\u0438\u0441\u0430",  # all Cyrillic
        "\u03b1\u03bb\u03af\u03ba\u03b7",  # all Greek
        "\u5c71\u7530\u305f\u308d\u3046",  # Han with Hiragana: one Japanese name
        "\u7530\u4e2dtanaka",  # Han with Latin
        "jake_99.x-y",  # digits and _ . - go with any script
        "\u0430\u043b\u0438\u0441\u0430_2",
        "Jos\u00e9",
    ],
)
async def test_a_username_in_one_script_is_fine(client: httpx.AsyncClient, username: str) -> None:
    user = ok(await new_user(client, username), 201)["user"]

    assert user["username"] == username
    assert ok(await client.get(f"/profiles/{username}"))["profile"]["username"] == username


async def test_a_username_is_bounded_after_case_folding(client: httpx.AsyncClient) -> None:
    """``ß`` folds to ``ss``: 64 of them would make a 128-character identity."""
    too_long = {"errors": {"username": ["is too long (maximum is 64 characters)"]}}

    assert_error(await new_user(client, "\u00df" * 33), 422, too_long)
    ok(await new_user(client, "\u00df" * 32), 201)


# --- bounds -------------------------------------------------------------------------------


async def test_an_article_has_at_most_32_tags(client: httpx.AsyncClient, jake: Account) -> None:
    too_many = {"errors": {"tagList": ["has too many tags (maximum is 32)"]}}
    tags = [f"tag{n:02d}" for n in range(33)]
    fields = {"title": "Tags", "description": "d", "body": "b"}

    response = await client.post(
        "/articles", json={"article": {**fields, "tagList": tags}}, headers=jake.headers
    )
    assert_error(response, 422, too_many)
    # Counted after trimming and dropping duplicates.
    article = await create_article(client, jake, tags=[*tags[:32], f" {tags[0]} ", ""])
    assert len(article["tagList"]) == 32
    response = await client.put(
        f"/articles/{article['slug']}", json={"article": {"tagList": tags}}, headers=jake.headers
    )
    assert_error(response, 422, too_many)
    assert ok(await client.get("/tags"))["tags"] == sorted(tags[:32])


@pytest.mark.parametrize("tag", ["a\tb", "a\nb", "\u001b[31mred", "a\u007fb", "a\u0085b"])
async def test_a_tag_with_control_characters_is_422(
    client: httpx.AsyncClient, jake: Account, tag: str
) -> None:
    fields = {"title": "Tags", "description": "d", "body": "b", "tagList": ["fine", tag]}

    response = await client.post("/articles", json={"article": fields}, headers=jake.headers)

    assert_error(response, 422, {"errors": {"tagList": ["has a tag with control characters"]}})


LONG_EMAIL = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 58 + ".com"


async def test_an_email_is_at_most_254_characters_everywhere(
    client: httpx.AsyncClient, jake: Account
) -> None:
    assert len(LONG_EMAIL) == 255
    too_long = {"errors": {"email": ["is too long (maximum is 254 characters)"]}}

    assert_error(await new_user(client, "newbie", LONG_EMAIL), 422, too_long)
    response = await client.put("/user", json={"user": {"email": LONG_EMAIL}}, headers=jake.headers)
    assert_error(response, 422, too_long)
    for address in (LONG_EMAIL, "x" * 100_000 + "@example.com"):
        login = {"user": {"email": address, "password": PASSWORD}}
        assert_error(await client.post("/users/login", json=login), 422, too_long)


async def test_a_password_is_at_most_4096_characters_everywhere(
    client: httpx.AsyncClient, jake: Account
) -> None:
    too_long = {"errors": {"password": ["is too long (maximum is 4096 characters)"]}}
    longest = "p" * 4096

    user = {"username": "newbie", "email": "newbie@example.com", "password": longest + "p"}
    assert_error(await client.post("/users", json={"user": user}), 422, too_long)
    response = await client.put(
        "/user", json={"user": {"password": longest + "p"}}, headers=jake.headers
    )
    assert_error(response, 422, too_long)
    login = {"user": {"email": jake.email, "password": "p" * 100_000}}
    assert_error(await client.post("/users/login", json=login), 422, too_long)

    ok(await client.post("/users", json={"user": {**user, "password": longest}}), 201)
    login = {"user": {"email": "newbie@example.com", "password": longest}}
    ok(await client.post("/users/login", json=login))


async def test_a_comment_is_at_most_20000_characters(
    client: httpx.AsyncClient, jake: Account
) -> None:
    slug = (await create_article(client, jake))["slug"]
    path = f"/articles/{slug}/comments"

    response = await client.post(
        path, json={"comment": {"body": "c" * 20_001}}, headers=jake.headers
    )
    assert_error(response, 422, {"errors": {"body": ["is too long (maximum is 20000 characters)"]}})
    ok(await client.post(path, json={"comment": {"body": "c" * 20_000}}, headers=jake.headers), 201)


# --- every bad field, named once ----------------------------------------------------------


async def test_register_names_every_blank_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/users", json={"user": {"username": "", "email": " "}})

    assert_error(
        response,
        422,
        {
            "errors": {
                "username": ["can't be blank"],
                "email": ["can't be blank"],
                "password": ["can't be blank"],
            }
        },
    )


async def test_register_names_every_invalid_field(client: httpx.AsyncClient) -> None:
    user = {"username": f"{CYRILLIC_A}lice", "email": "not-an-email", "password": "short"}

    response = await client.post("/users", json={"user": user})

    assert_error(
        response,
        422,
        {
            "errors": {
                "username": [MIXED_SCRIPTS],
                "email": ["is invalid"],
                "password": ["is too short (minimum is 8 characters)"],
            }
        },
    )


async def test_login_names_both_blank_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/users/login", json={"user": {}})

    assert_error(
        response, 422, {"errors": {"email": ["can't be blank"], "password": ["can't be blank"]}}
    )


async def test_update_user_names_every_bad_field(client: httpx.AsyncClient, jake: Account) -> None:
    fields = {"username": "", "email": "nope", "password": "short", "bio": "x" * 5001}

    response = await client.put("/user", json={"user": fields}, headers=jake.headers)

    assert_error(
        response,
        422,
        {
            "errors": {
                "username": ["can't be blank"],
                "email": ["is invalid"],
                "password": ["is too short (minimum is 8 characters)"],
                "bio": ["is too long (maximum is 5000 characters)"],
            }
        },
    )
    me = ok(await client.get("/user", headers=jake.headers))["user"]
    assert (me["username"], me["email"], me["bio"]) == ("jake", jake.email, None)


async def test_create_article_names_every_bad_field(
    client: httpx.AsyncClient, jake: Account
) -> None:
    tags = [f"tag{n:02d}" for n in range(40)]

    response = await client.post(
        "/articles", json={"article": {"tagList": tags}}, headers=jake.headers
    )

    assert_error(
        response,
        422,
        {
            "errors": {
                "title": ["can't be blank"],
                "description": ["can't be blank"],
                "body": ["can't be blank"],
                "tagList": ["has too many tags (maximum is 32)"],
            }
        },
    )
    assert ok(await client.get("/articles"))["articlesCount"] == 0


async def test_update_article_names_every_bad_field(
    client: httpx.AsyncClient, jake: Account
) -> None:
    slug = (await create_article(client, jake))["slug"]
    fields = {"title": " ", "description": "d" * 1001, "body": None}

    response = await client.put(f"/articles/{slug}", json={"article": fields}, headers=jake.headers)
    assert_error(
        response,
        422,
        {
            "errors": {
                "title": ["can't be blank"],
                "description": ["is too long (maximum is 1000 characters)"],
                "body": ["can't be blank"],
            }
        },
    )
    # The path counts as input too.
    response = await client.put(
        "/articles/a%00b", json={"article": {"title": ""}}, headers=jake.headers
    )
    assert_error(response, 422, {"errors": {"slug": [UNSTORABLE], "title": ["can't be blank"]}})


async def test_add_comment_names_the_path_and_the_body(
    client: httpx.AsyncClient, jake: Account
) -> None:
    response = await client.post(
        "/articles/a%00b/comments", json={"comment": {"body": ""}}, headers=jake.headers
    )

    assert_error(response, 422, {"errors": {"slug": [UNSTORABLE], "body": ["can't be blank"]}})


async def test_list_filters_name_limit_and_offset_together(client: httpx.AsyncClient) -> None:
    response = await client.get("/articles", params={"limit": 0, "offset": -1})

    errors = assert_invalid(response)
    assert errors == {"limit": ["must be between 1 and 100"], "offset": ["must be 0 or more"]}
