"""Injection battery: hostile strings and shapes in every path, query, body and header parameter.

What it proves, on every backend, against ``broadsheet serve --workers 2``:
- SQL injection (quotes, comments, ``UNION``, stacked statements, ``LIKE`` wildcards) and
  MongoDB operator injection (``{"$ne": null}``, ``tag[$ne]=x``, ``$where``, ``$regex``) never
  change what a request means: a filter with such a string matches only that exact string, a
  path with one names nothing, a body with an operator object where a string belongs is a 422
  (login with ``{"$ne": null}`` is never a 200), and such strings, stored as data, come back
  byte for byte;
- NUL bytes (which PostgreSQL refuses in text), lone surrogates, percent-encoded and raw
  invalid UTF-8 are either stored and returned exactly or refused with a 4xx;
- every response is a 2xx with the right data or a 4xx in the error shape that reveals no
  SQL, driver or stack trace; never a 5xx; and the server logs no error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest

from tests.api.helpers import (
    INVALID_TOKEN,
    PASSWORD,
    Account,
    add_comment,
    create_article,
    favorite,
    follow,
    not_found,
    ok,
    register,
)
from tests.live_server import SECRET_KEY, Findings, LiveServer, in_parallel, unique

# Strings that would change a query if pasted into SQL or read as a MongoDB operator.
HOSTILE = [
    "' OR '1'='1",
    "' OR 1=1 --",
    '" OR ""="',
    "'; DROP TABLE article; --",
    "x'); DELETE FROM user_account; --",
    "' UNION SELECT password_hash, email FROM user_account --",
    "1; SELECT pg_sleep(2)",
    "' AND SLEEP(2) AND '1'='1",
    "%",
    "_",
    "%'--",
    "*",
    "\\",
    "\\'",
    "' OR tag LIKE '%",
    "$ne",
    "$where",
    '{"$ne": null}',
    '{"$gt": ""}',
    "this.password.match(/.*/)",
    "'; return true; var x='",
    "[$ne]",
    ".*",
]
# Text that some store cannot keep as it is: NUL (PostgreSQL text), a lone surrogate (no
# UTF-8 form at all), control characters. Stored exactly or refused, never a 500.
AWKWARD = ["a\x00b", "\x00", "\ud800", "a\udfffb", "\x1b[31m", "\u202e"]
# Already percent-encoded for URLs: NUL, invalid UTF-8, an encoded surrogate, an overlong
# slash, an encoded slash that could climb the path.
RAW_URL_TEXT = ["%00", "a%00b", "%FF", "%FF%FE", "%C0%AF", "%ED%A0%80", "..%2F..%2Fuser", "%25"]
# JSON values where a string belongs.
OPERATORS: list[Any] = [
    {"$ne": None},
    {"$gt": ""},
    {"$where": "return true"},
    {"$regex": ".*"},
    {"$exists": True},
    ["' OR 1=1 --"],
    123,
    True,
]


@dataclass(frozen=True)
class World:
    """What one server holds before the probes: an author with tagged articles, a reader who
    favorites and follows, a comment. A probe that widens a query would find these."""

    author: Account
    reader: Account
    slug: str
    other_slug: str
    comment_id: int


@pytest.fixture
async def world(live_server: LiveServer, http: httpx.AsyncClient) -> World:
    if "injection world" not in live_server.cache:
        prefix = unique()
        author = await register(http, f"{prefix}author")
        reader = await register(http, f"{prefix}reader")
        article = await create_article(http, author, f"Dragons {prefix}", tags=["dragons"])
        other = await create_article(http, author, f"Secrets {prefix}", tags=["secret"])
        await favorite(http, reader, article["slug"])
        await follow(http, reader, author.username)
        comment = await add_comment(http, reader, article["slug"])
        live_server.cache["injection world"] = World(
            author, reader, article["slug"], other["slug"], comment["id"]
        )
    world: World = live_server.cache["injection world"]
    return world


def new_user(username: str, email: str, password: str = PASSWORD) -> dict[str, Any]:
    return {"username": username, "email": email, "password": password}


def new_article(
    title: str, *, description: str = "d", body: str = "b", tags: list[str] | None = None
) -> dict[str, Any]:
    fields: dict[str, Any] = {"title": title, "description": description, "body": body}
    if tags is not None:
        fields["tagList"] = tags
    return fields


def json_bytes(value: Any) -> bytes:
    """JSON with every non-ASCII character escaped, so lone surrogates can be sent at all."""
    return json.dumps(value, ensure_ascii=True).encode("ascii")


JSON = {"Content-Type": "application/json"}


EMPTY_PAGE = {"articles": [], "articlesCount": 0}


def count_of(response: httpx.Response) -> int:
    return int(response.json()["articlesCount"])


async def test_filters_match_hostile_strings_exactly(
    http: httpx.AsyncClient, world: World, findings: Findings
) -> None:
    """``?tag=``, ``?author=``, ``?favorited=`` with hostile strings find nothing (no article
    has such a tag, no user such a name), signed in or not."""

    async def hostile(parameter: str, value: str, headers: dict[str, str]) -> None:
        what = f"?{parameter}={value!r}"
        response = await findings.send(
            http, "GET", "/articles", params={parameter: value}, headers=headers
        )
        answered = findings.expect(response, {200}, what)
        if answered is not None and answered.json() != EMPTY_PAGE:
            findings.problem(f"{what} matched {count_of(answered)} articles")

    async def encoded(parameter: str, value: str, headers: dict[str, str]) -> None:
        url = f"/articles?{parameter}={value}"
        empty_or_refused(findings, await findings.send(http, "GET", url, headers=headers), url)

    probes = []
    for headers in ({}, world.reader.headers):
        for parameter in ("tag", "author", "favorited"):
            probes += [hostile(parameter, value, headers) for value in HOSTILE]
            raw = [quote(v, errors="surrogatepass") for v in AWKWARD] + RAW_URL_TEXT
            probes += [encoded(parameter, value, headers) for value in raw]
    await in_parallel(probes)
    await findings.finish()


def empty_or_refused(findings: Findings, response: httpx.Response | None, what: str) -> None:
    if response is not None and response.status_code == 200:
        if response.json() != EMPTY_PAGE:
            findings.problem(f"{what} matched {count_of(response)} articles")
    else:
        findings.expect_error(response, {400, 422}, what)


async def test_operator_shaped_query_parameters_are_not_operators(
    http: httpx.AsyncClient, world: World, findings: Findings
) -> None:
    """``tag[$ne]=x`` and its kin are unknown parameters, not operators: beside a filter they
    widen nothing; alone they leave the list as it is (or are refused)."""
    baseline = ok(await http.get("/articles?limit=100"))["articlesCount"]
    operators = ["[$ne]=x", "[$gt]=", "[$regex]=.*", "[$where]=1", "[$exists]=true", "[]=x"]
    for parameter in ("tag", "author", "favorited"):
        for operator in operators:
            narrowed = f"/articles?{parameter}=nobody-{unique()}&{parameter}{operator}"
            response = await findings.send(http, "GET", narrowed)
            if response is not None and response.status_code == 200:
                if count_of(response):
                    findings.problem(f"{narrowed} widened the filter: {count_of(response)}")
            else:
                findings.expect_error(response, {422}, narrowed)
            alone = f"/articles?limit=100&{parameter}{operator}"
            response = await findings.send(http, "GET", alone)
            if response is not None and response.status_code == 200:
                if count_of(response) != baseline:
                    findings.problem(f"{alone} changed the list: {count_of(response)}")
            else:
                findings.expect_error(response, {422}, alone)
        # The same name twice, both hostile: an exact filter still (no match).
        twice = f"/articles?{parameter}={quote(HOSTILE[0])}&{parameter}={quote(HOSTILE[1])}"
        answered = findings.expect(await findings.send(http, "GET", twice), {200}, twice)
        if answered is not None and count_of(answered):
            findings.problem(f"{twice} matched {count_of(answered)} articles")
    await findings.finish()


async def test_paging_parameters_reject_anything_but_integers(
    http: httpx.AsyncClient, world: World, findings: Findings
) -> None:
    not_integers = ["1 OR 1=1", "1;DROP TABLE article", "1e3", "0x10", "1.5", "", "$ne", "%00",
                    "1%00", "%FF", "' OR '1'='1", "[1]", "{}", "NaN", "Infinity"]  # fmt: skip
    huge = ["99999999999999999999", str(2**63), str(2**31)]
    for path, headers in (("/articles", {}), ("/articles/feed", world.reader.headers)):
        for parameter in ("limit", "offset"):
            out_of_range = ["-1", "-99999999999999999999"]
            if parameter == "limit":
                out_of_range += ["0", "101", *huge]
            for value in not_integers + out_of_range:
                url = f"{path}?{parameter}={value}"
                response = await findings.send(http, "GET", url, headers=headers)
                findings.expect_error(response, {422}, url)
            if parameter == "offset":
                for value in huge:  # past every article: an empty page, or refused
                    url = f"{path}?offset={value}"
                    response = await findings.send(http, "GET", url, headers=headers)
                    if response is not None and response.status_code == 200:
                        if response.json()["articles"]:
                            findings.problem(f"{url}: a page past every article is not empty")
                    else:
                        findings.expect_error(response, {422}, url)
    await findings.finish()


def path_routes(world: World) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """Every route with a path parameter, as (method, template, what is not found, body);
    ``{}`` is where the hostile string goes."""
    change = {"article": {"body": "changed"}}
    return [
        ("GET", "/articles/{}", "article", None),
        ("PUT", "/articles/{}", "article", change),
        ("DELETE", "/articles/{}", "article", None),
        ("POST", "/articles/{}/favorite", "article", None),
        ("DELETE", "/articles/{}/favorite", "article", None),
        ("GET", "/articles/{}/comments", "article", None),
        ("POST", "/articles/{}/comments", "article", {"comment": {"body": "hi"}}),
        ("DELETE", "/articles/{}/comments/" + str(world.comment_id), "article", None),
        ("GET", "/profiles/{}", "profile", None),
        ("POST", "/profiles/{}/follow", "profile", None),
        ("DELETE", "/profiles/{}/follow", "profile", None),
    ]


async def test_hostile_path_parameters_name_nothing(
    http: httpx.AsyncClient, world: World, findings: Findings
) -> None:
    """A slug or username that is a hostile string is simply not found (404 in the contract's
    words); encoded NULs and invalid UTF-8 are not found or refused. The world is unchanged."""

    async def one(
        method: str, url: str, body: dict[str, Any] | None, statuses: set[int], exact: Any
    ) -> None:
        response = await findings.send(http, method, url, json=body, headers=world.author.headers)
        findings.expect_error(response, statuses, f"{method} {url}", body=exact)

    probes = []
    for method, template, what, body in path_routes(world):
        for value in [*HOSTILE, *AWKWARD]:
            url = template.format(quote(value, safe="", errors="surrogatepass"))
            if value in HOSTILE and "/" not in value:
                probes.append(one(method, url, body, {404}, not_found(what)))
            else:  # a decoded "/" changes the route: the router's 404 is as good
                probes.append(one(method, url, body, {404, 422}, None))
        for raw in RAW_URL_TEXT:
            probes.append(one(method, template.format(raw), body, {404, 405, 422}, None))
    await in_parallel(probes)
    await check_world_intact(http, world, findings)
    await findings.finish()


async def test_hostile_comment_ids(
    http: httpx.AsyncClient, world: World, findings: Findings
) -> None:
    """A comment id is an integer or a 422; one that names no comment is a 404. Sent by the
    article's author, who does not own the comment: a real id is a 403, and stays."""
    base = f"/articles/{world.slug}/comments/"
    author = world.author.headers
    for value in ["1 OR 1=1", "1;DROP TABLE comment", "' OR '1'='1", "$ne", "[$ne]", "1e3",
                  "0x1", "%00", "%FF", "{}", "true", f"{world.comment_id} OR 1=1",
                  f"{world.comment_id};"]:  # fmt: skip
        url = base + (value if value.startswith("%") else quote(value, safe=""))
        response = await findings.send(http, "DELETE", url, headers=author)
        findings.expect_error(response, {422}, f"DELETE {url}")
    for value in ["0", "-1", "99999999999999999999", str(2**31), str(2**63)]:
        url = base + value
        response = await findings.send(http, "DELETE", url, headers=author)
        findings.expect_error(response, {404, 422}, f"DELETE {url}")
    for value in [str(world.comment_id), f"{world.comment_id}.0", f"+{world.comment_id}"]:
        url = base + quote(value)
        response = await findings.send(http, "DELETE", url, headers=author)
        findings.expect_error(response, {403, 422}, f"DELETE {url} by the article's author")
    await check_world_intact(http, world, findings)
    await findings.finish()


def string_fields(world: World) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Every body field that takes a string: (method, path, wrapper, the other fields)."""
    fresh = unique()
    return [
        ("POST", "/users", "user", new_user(f"{fresh}u", f"{fresh}@example.com")),
        ("POST", "/users/login", "user", {"email": world.author.email, "password": PASSWORD}),
        ("PUT", "/user", "user", {}),
        ("POST", "/articles", "article", new_article(f"T {fresh}")),
        ("PUT", f"/articles/{world.other_slug}", "article", {}),
        ("POST", f"/articles/{world.slug}/comments", "comment", {}),
    ]


FIELDS = {
    "/users": ("username", "email", "password"),
    "/users/login": ("email", "password"),
    "/user": ("email", "username", "password", "bio", "image"),
    "/articles": ("title", "description", "body"),
    "/comments": ("body",),
}


def fields_of(path: str) -> tuple[str, ...]:
    if path.endswith("/comments"):
        return FIELDS["/comments"]
    if path.startswith("/articles"):
        return FIELDS["/articles"]
    return FIELDS[path]


async def test_operator_objects_in_bodies_are_refused(
    http: httpx.AsyncClient, world: World, findings: Findings
) -> None:
    """An object, array, number or boolean where the contract has a string is a 422 on every
    body field, and writes nothing; login with ``{"$ne": null}`` is never a 200."""
    headers = world.author.headers

    async def one(method: str, path: str, body: dict[str, Any], what: str) -> None:
        response = await findings.send(http, method, path, json=body, headers=headers)
        findings.expect_error(response, {422}, what)

    async def no_change(method: str, path: str, body: dict[str, Any], what: str) -> None:
        """Every field of an update is optional: an object of unknown keys changes nothing
        (the world check below sees that), or is refused."""
        response = await findings.send(http, method, path, json=body, headers=headers)
        if response is None or response.status_code != 200:
            findings.expect_error(response, {422}, what)

    probes = []
    for method, path, wrapper, others in string_fields(world):
        for name in fields_of(path):
            for value in OPERATORS:
                body = {wrapper: {**others, name: value}}
                probes.append(one(method, path, body, f"{method} {path} {name}={value!r}"))
        for value in OPERATORS:  # the wrapper object itself
            check = no_change if method == "PUT" and isinstance(value, dict) else one
            probes.append(check(method, path, {wrapper: value}, f"{method} {path} {value!r}"))
    for value in OPERATORS:
        tags: list[Any] = ["fine", value]
        # A list of strings is a good tagList; anything else, or inside it, is not.
        for tag_list in [tags] if isinstance(value, list) else [value, tags]:
            fields = {**new_article(f"Tags {unique()}"), "tagList": tag_list}
            probes.append(one("POST", "/articles", {"article": fields}, f"tagList={tag_list!r}"))
    logins: list[dict[str, Any]] = [
        {"email": {"$ne": None}, "password": {"$ne": None}},
        {"email": world.author.email, "password": {"$ne": None}},
        {"email": {"$regex": ".*"}, "password": PASSWORD},
        {"email": {"$gt": ""}, "password": {"$gt": ""}},
    ]
    probes += [one("POST", "/users/login", {"user": login}, f"login {login!r}") for login in logins]
    await in_parallel(probes)
    me = ok(await http.get("/user", headers=headers))["user"]
    if (me["username"], me["email"], me["bio"], me["image"]) != (
        world.author.username,
        world.author.email,
        None,
        None,
    ):
        findings.problem(f"the author's account changed: {me}")
    await check_world_intact(http, world, findings)
    await findings.finish()


async def test_hostile_strings_are_stored_as_data(
    http: httpx.AsyncClient, world: World, findings: Findings
) -> None:
    """Titles, descriptions, bodies, tags, comments, bios and usernames made of hostile
    strings are stored and returned exactly, and an exact filter finds exactly them."""
    send = findings.send
    authors = [await register(http, f"{unique()}writer") for _ in HOSTILE]

    async def as_data(number: int, value: str, author: Account) -> None:
        title, tag = f"{value} {number}", f"{value[:50]} {unique()}"  # tags: 64 at most
        fields = {"title": title, "description": value, "body": value, "tagList": [tag]}
        created = await send(
            http, "POST", "/articles", json={"article": fields}, headers=author.headers
        )
        answered = findings.expect(created, {201}, f"article made of {value!r}")
        if answered is None:
            return
        slug = answered.json()["article"]["slug"]
        shown = ok(await http.get(f"/articles/{quote(slug)}"))["article"]
        for key, sent in (
            ("title", title),
            ("description", value),
            ("body", value),
            ("tagList", [tag]),
        ):
            if shown[key] != sent:
                findings.problem(f"{key} {sent!r} came back as {shown[key]!r}")
        tagged = ok(await http.get("/articles", params={"tag": tag}))
        if [a["slug"] for a in tagged["articles"]] != [slug]:
            findings.problem(f"?tag={tag!r} found {[a['slug'] for a in tagged['articles']]}")
        comment = {"comment": {"body": value}}
        posted = await send(
            http, "POST", f"/articles/{slug}/comments", json=comment, headers=author.headers
        )
        if findings.expect(posted, {201}, f"comment {value!r}") is not None:
            listed = ok(await http.get(f"/articles/{slug}/comments"))["comments"]
            if [c["body"] for c in listed] != [value]:
                findings.problem(f"comment {value!r} listed as {[c['body'] for c in listed]}")
        bio = {"user": {"bio": value}}
        updated = await send(http, "PUT", "/user", json=bio, headers=author.headers)
        if findings.expect(updated, {200}, f"bio {value!r}") is not None:
            stored = ok(await http.get(f"/profiles/{author.username}"))["profile"]["bio"]
            if stored != value:
                findings.problem(f"bio {value!r} came back as {stored!r}")

    async def as_username(value: str) -> None:
        name = f"{unique()}{value}"
        if any(ch.isspace() for ch in name) or "/" in name:
            return  # not a username by the contract's rules
        fields = new_user(name, f"{unique()}@example.com")
        registered = await send(http, "POST", "/users", json={"user": fields})
        if findings.expect(registered, {201}, f"username {name!r}") is None:
            return
        assert registered is not None
        if registered.json()["user"]["username"] != name:
            findings.problem(f"username {name!r} came back as {registered.json()['user']}")
        profile = await send(http, "GET", f"/profiles/{quote(name, safe='')}")
        shown_profile = findings.expect(profile, {200}, f"profile of {name!r}")
        if shown_profile is not None and shown_profile.json()["profile"]["username"] != name:
            findings.problem(f"profile {name!r} is {shown_profile.json()['profile']}")
        by = ok(await http.get("/articles", params={"author": name}))
        if by["articlesCount"] != 0:
            findings.problem(f"?author={name!r} found {by['articlesCount']} articles")

    await in_parallel(
        as_data(n, v, a) for n, (v, a) in enumerate(zip(HOSTILE, authors, strict=True))
    )
    await in_parallel(as_username(value) for value in HOSTILE)
    await check_world_intact(http, world, findings)
    await findings.finish()


async def test_awkward_text_is_stored_exactly_or_refused(
    http: httpx.AsyncClient, world: World, findings: Findings
) -> None:
    """NUL bytes, lone surrogates and control characters in every string field: a 2xx that
    returns the text exactly, or a 4xx in the error shape. Never a 500."""
    # Registered before any probe: a probe that breaks a connection cannot break these.
    writers = [await register(http, f"{unique()}awk") for _ in AWKWARD]

    async def one_value(value: str, writer: Account) -> None:
        fresh = unique()
        login, comments = "/users/login", f"/articles/{world.slug}/comments"
        email = world.author.email
        cases: list[tuple[str, str, dict[str, Any], str]] = [
            ("POST", "/users", {"user": new_user(f"{fresh}{value}", f"{fresh}x@example.com")},
             "username"),
            ("POST", "/users", {"user": new_user(f"{fresh}e", f"{fresh}{value}@example.com")},
             "email"),
            ("POST", "/users",
             {"user": new_user(f"{fresh}p", f"{fresh}p@example.com", f"{PASSWORD}{value}")},
             "password"),
            ("POST", login, {"user": {"email": f"{value}{email}", "password": PASSWORD}},
             "login email"),
            ("POST", login, {"user": {"email": email, "password": f"{PASSWORD}{value}"}},
             "login password"),
            ("PUT", "/user", {"user": {"bio": f"bio {value}"}}, "bio"),
            ("PUT", "/user", {"user": {"image": f"https://example.com/{value}.png"}}, "image"),
            ("POST", "/articles", {"article": new_article(f"T {fresh} {value}")}, "title"),
            ("POST", "/articles", {"article": new_article(f"D {fresh}", description=value)},
             "description"),
            ("POST", "/articles", {"article": new_article(f"B {fresh}", body=f"b {value}")},
             "body"),
            ("POST", "/articles", {"article": new_article(f"G {fresh}", tags=[f"t{value}"])},
             "tag"),
            ("POST", comments, {"comment": {"body": f"c {value}"}}, "comment"),
        ]  # fmt: skip
        for method, path, body, field in cases:
            what = f"{field} with {value!r}"
            response = await findings.send(
                http, method, path, content=json_bytes(body), headers={**JSON, **writer.headers}
            )
            if field.startswith("login"):  # no such account, or refused
                findings.expect_error(response, {401, 422}, what)
            elif response is None or response.status_code >= 300:
                findings.expect_error(response, {400, 422}, what)
            else:
                await check_round_trip(http, findings, field, path, body, response, writer)

    await in_parallel(one_value(v, w) for v, w in zip(AWKWARD, writers, strict=True))
    await findings.finish()


async def check_round_trip(
    http: httpx.AsyncClient,
    findings: Findings,
    field: str,
    path: str,
    sent: dict[str, Any],
    response: httpx.Response,
    writer: Account,
) -> None:
    """A stored awkward value must read back exactly as sent."""
    ((_, fields),) = sent.items()
    what = f"{field} {fields!r}"
    if field in {"username", "email", "password"}:
        login = {"user": {"email": fields["email"].lower(), "password": fields["password"]}}
        logged_in = await findings.send(
            http, "POST", "/users/login", content=json_bytes(login), headers=JSON
        )
        if findings.expect(logged_in, {200}, f"{what}: stored, logging in") is None:
            return
        assert logged_in is not None
        got = logged_in.json()["user"]
        if (got["username"], got["email"]) != (fields["username"], login["user"]["email"]):
            findings.problem(f"{what}: stored, but logging in gives {got}")
        return
    if field in {"bio", "image"}:
        url, headers = "/user", writer.headers
    elif field == "comment":
        url, headers = path, {}
    else:
        url, headers = f"/articles/{quote(response.json()['article']['slug'])}", {}
    shown = findings.expect(
        await findings.send(http, "GET", url, headers=headers), {200}, f"{what}: reading back"
    )
    if shown is None:
        return
    if field in {"bio", "image"}:
        stored = shown.json()["user"][field]
    elif field == "comment":
        comment_id = response.json()["comment"]["id"]
        stored = [c["body"] for c in shown.json()["comments"] if c["id"] == comment_id]
        stored = stored[0] if len(stored) == 1 else stored
    else:
        stored = shown.json()["article"]["tagList" if field == "tag" else field]
    if stored != fields[{"tag": "tagList", "comment": "body"}.get(field, field)]:
        findings.problem(f"{what}: stored as {stored!r}")


async def test_invalid_json_text_is_refused(
    http: httpx.AsyncClient, world: World, findings: Findings
) -> None:
    """Bodies that are not JSON text (invalid UTF-8 bytes, an overlong encoding, an encoded
    surrogate, NUL outside a string, truncated) are malformed JSON: a 422, on every route."""
    bodies = [
        b'{"W": {"A": "\xff\xfe@example.com", "B": "x"}}',
        b'{"W": {"A": "\xc0\xafa@example.com", "B": "x"}}',
        b'{"W": {"A": "a@example.com", "B": "\xed\xa0\x80"}}',
        b'{"W": {"A": "a@example.com"\x00, "B": "x"}}',
        b'{"W": {"A": "a@example.com", "B": ',
        b"\xff\xfe{\x00}\x00",
    ]
    routes = [
        ("POST", "/users/login", "user", "email", "password"),
        ("POST", "/users", "user", "email", "password"),
        ("PUT", "/user", "user", "bio", "password"),
        ("POST", "/articles", "article", "title", "description"),
        ("PUT", f"/articles/{world.other_slug}", "article", "title", "body"),
        ("POST", f"/articles/{world.slug}/comments", "comment", "body", "body"),
    ]
    for method, path, wrapper, first, second in routes:
        for body in bodies:
            content = (
                body.replace(b'"W"', f'"{wrapper}"'.encode())
                .replace(b'"A"', f'"{first}"'.encode())
                .replace(b'"B"', f'"{second}"'.encode())
            )
            response = await findings.send(
                http, method, path, content=content, headers={**JSON, **world.author.headers}
            )
            findings.expect_error(response, {422}, f"{method} {path} {content!r:.70}")
    await check_world_intact(http, world, findings)
    await findings.finish()


def _refused_as_invalid_http(response: httpx.Response | None) -> bool:
    """uvicorn's own 400 for a request that is not valid HTTP, sent before the app runs.

    A control character such as DEL is no field-value character (RFC 9110, 5.5); httptools'
    parser refuses the request (h11's let it through to the app, which refused it itself).
    """
    return (
        response is not None
        and response.status_code == 400
        and response.text == "Invalid HTTP request received."
    )


async def test_hostile_headers(http: httpx.AsyncClient, world: World, findings: Findings) -> None:
    """Hostile ``Authorization`` values are a 401 ``token is invalid`` where a token is
    required; hostile values in other headers change nothing."""
    authorizations: list[str | bytes] = [f"Token {value}" for value in HOSTILE]
    authorizations += [
        f"Bearer {HOSTILE[0]}",
        "Token a.b.c",
        "Token e30.e30.",
        "Token " + "A" * 4000,
        b"Token \xff\xfe\xfd",
        f"Token {world.author.token}' OR '1'='1",
        f"Token {world.author.token} {world.reader.token}",
    ]
    required = [
        ("GET", "/user"),
        ("GET", "/articles/feed"),
        ("POST", f"/articles/{world.slug}/favorite"),
    ]

    async def refused(method: str, path: str, value: str | bytes, what: str) -> None:
        response = await findings.send(http, method, path, headers={"Authorization": value})
        findings.expect_error(response, {401}, what, body=INVALID_TOKEN)

    probes = [
        refused(method, path, value, f"{method} {path} Authorization: {value!r:.60}")
        for value in authorizations
        for method, path in required
    ]
    # Claims signed with the server's own key whose subject is no user id.
    subjects: list[Any] = ["1 OR 1=1", "' OR '1'='1", "$ne", "0", "-1", "99999999999999999999",
                           "1e3", "", {"$ne": None}, ["1"], None]  # fmt: skip
    for subject in subjects:
        claims: dict[str, Any] = {"sub": subject, "exp": 2**31}
        token = jwt.encode(claims, SECRET_KEY, algorithm="HS256")
        probes.append(refused("GET", "/user", f"Token {token}", f"token with sub {subject!r}"))
    await in_parallel(probes)
    others = {
        "X-Forwarded-For": HOSTILE[0],
        "X-Real-IP": "'; DROP TABLE article; --",
        "Origin": "http://x' OR '1'='1",
        "Cookie": "session=' OR 1=1 --",
        "Accept": "' OR 1=1 --",
        "Accept-Language": "$where",
        "User-Agent": "' UNION SELECT password_hash FROM user_account --",
        "Referer": "javascript:alert(1)",
    }
    for name, value in others.items():
        response = await findings.send(http, "GET", "/articles?tag=dragons", headers={name: value})
        answered = findings.expect(response, {200}, f"{name}: {value!r}")
        if answered is not None and [a["slug"] for a in answered.json()["articles"]] != [
            world.slug
        ]:
            findings.problem(f"{name}: {value!r} changed the answer")
    content_types = [
        "application/json; charset=' OR 1=1",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/json\x7f",
    ]
    for content_type in content_types:
        body = json_bytes({"user": {"email": world.author.email, "password": "wrong password!"}})
        response = await findings.send(
            http, "POST", "/users/login", content=body, headers={"Content-Type": content_type}
        )
        if "\x7f" in content_type and _refused_as_invalid_http(response):
            continue
        findings.expect_error(response, {401, 415, 422}, f"Content-Type: {content_type!r}")
    await check_world_intact(http, world, findings)
    await findings.finish()


async def check_world_intact(http: httpx.AsyncClient, world: World, findings: Findings) -> None:
    """No probe may have changed, deleted or widened anything."""
    shown = ok(await http.get(f"/articles/{world.slug}", headers=world.reader.headers))
    article = shown["article"]
    if (article["body"], article["favorited"], article["favoritesCount"]) != (
        "You have to believe",
        True,
        1,
    ):
        findings.problem(f"the world's article changed: {article}")
    if not article["author"]["following"]:
        findings.problem("the reader no longer follows the author")
    comments = ok(await http.get(f"/articles/{world.slug}/comments"))["comments"]
    if world.comment_id not in [c["id"] for c in comments]:
        findings.problem("the world's comment is gone")
    other = ok(await http.get(f"/articles/{world.other_slug}"))["article"]
    if (other["body"], other["tagList"]) != ("You have to believe", ["secret"]):
        findings.problem(f"the world's second article changed: {other}")
    login = {"user": {"email": world.author.email, "password": PASSWORD}}
    if (await http.post("/users/login", json=login)).status_code != 200:
        findings.problem("the author can no longer log in")


async def test_server_log_is_clean(
    live_server: LiveServer, world: World, findings: Findings
) -> None:
    """After every probe above: no error, trace or SQL in the server's log, and no password or
    password hash (a failed INSERT logged with its parameters would show the hash)."""
    log = live_server.log_since()
    errors = live_server.log_errors()
    if errors:
        findings.problem(f"server log: {len(errors)} error lines, first: {errors[0][:200]}")
    for word in ("$argon2", PASSWORD, "[SQL:", "[parameters:", "sqlalchemy.exc",
                 "asyncpg.exceptions", "pymongo.errors"):  # fmt: skip
        if lines := [line for line in log.splitlines() if word in line]:
            findings.problem(f"server log: {len(lines)} lines hold {word!r}: {lines[0][:240]}")
    await findings.finish()
