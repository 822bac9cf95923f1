"""Authentication and authorization battery (OWASP API Security Top 10, 2023).

What it proves, on every backend, against ``broadsheet serve --workers 2``:
- API1 broken object-level authorization: nobody but an article's or comment's author can
  change or delete it, whatever ids and slugs they combine, and a refused write changes nothing;
- API2 broken authentication: expired, tampered, ``alg=none``, other-key, unexpiring,
  revoked (logout, password change) and deleted-user tokens never authenticate. On a route
  that requires a token they are a 401; on one where it is optional the request is answered
  as anonymous with ``WWW-Authenticate: Token error="invalid_token"`` (the contract's
  Authentication section). Repeated failed logins, for one account or from one client
  address, get a 429 with ``Retry-After`` in the error shape;
- API3 broken object-property-level authorization: mass assignment of author, counts,
  timestamps, slug, ids or password hashes is ignored; no response and no log line carries a
  password or a hash, and profiles carry no email or token;
- no user enumeration beyond what the contract requires: an unknown email and a wrong
  password get the same answer in about the same time (measured on a second server with the
  production Argon2 cost, where skipping the hash would show).

Revocation (``POST /api/users/logout``, password change) and the login rate limit are being
built elsewhere; their tests are written against the intended behaviour and fail until then.
"""

from __future__ import annotations

import base64
import json
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from argon2 import PasswordHasher as Argon2

from tests.api.helpers import (
    INVALID_TOKEN,
    MISSING_TOKEN,
    PASSWORD,
    PROFILE_KEYS,
    Account,
    add_comment,
    auth,
    create_article,
    favorite,
    follow,
    forbidden,
    not_found,
    ok,
    register,
    taken,
)
from tests.live_server import (
    SECRET_KEY,
    Findings,
    LiveServer,
    delete_user,
    in_parallel,
    serving,
    unique,
)

INVALID_TOKEN_CHALLENGE = 'Token error="invalid_token"'
JSON = {"Content-Type": "application/json"}
# More failed logins than any sane limit allows within a minute (the limits are not in the
# contract: these only assume one account's is below 50, one address's below 120).
FAILED_LOGINS_FOR_ONE_ACCOUNT = 50
FAILED_LOGINS_FROM_ONE_ADDRESS = 120
NEW_PASSWORD = "a brand new passphrase"
ASSIGNED_PASSWORD = "the attacker's own password"


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """The security client, recording every response body and header for the secrets scan."""
    seen: list[str] = live_server.cache.setdefault("responses", [])

    async def record(response: httpx.Response) -> None:
        await response.aread()
        seen.append(
            f"{response.request.method} {response.request.url} {response.status_code} "
            f"{dict(response.headers)} {response.text}"
        )

    async with live_server.client() as client:
        client.event_hooks["response"] = [record]
        yield client


def user_id(account: Account) -> str:
    return str(jwt.decode(account.token, options={"verify_signature": False})["sub"])


def b64(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def bad_tokens(victim: Account, other: Account) -> dict[str, str]:
    """Tokens that must never authenticate, by what is wrong with them; ``victim`` is whom
    each claims to be."""
    now = datetime.now(UTC)
    claims = {"sub": user_id(victim), "iat": now, "exp": now + timedelta(hours=1)}
    header, payload, signature = victim.token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    other_header, _, other_signature = other.token.split(".")
    stolen_payload = b64({"sub": user_id(victim), "exp": int(now.timestamp()) + 3600})
    return {
        "garbage": "not-a-token",
        "expired": jwt.encode(
            {**claims, "iat": now - timedelta(hours=2), "exp": now - timedelta(minutes=1)},
            SECRET_KEY,
            algorithm="HS256",
        ),
        "tampered signature": f"{header}.{payload}.{flipped}",
        "another user's signature": f"{other_header}.{stolen_payload}.{other_signature}",
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'sub': user_id(victim)})}.",
        "alg none with exp": (
            f"{b64({'alg': 'none', 'typ': 'JWT'})}."
            f"{b64({'sub': user_id(victim), 'exp': int(now.timestamp()) + 3600})}."
        ),
        "signed with another key": jwt.encode(
            claims, "another-secret-key-that-is-long-enough-0123456789", algorithm="HS256"
        ),
        "never expires": jwt.encode({"sub": user_id(victim)}, SECRET_KEY, algorithm="HS256"),
        "no subject": jwt.encode({"exp": now + timedelta(hours=1)}, SECRET_KEY, "HS256"),
        "valid token with a suffix": victim.token + "x",
    }


async def test_only_authors_change_articles_and_comments(
    http: httpx.AsyncClient, findings: Findings
) -> None:
    """API1: every way another user might reach an article or comment is refused (403, or
    404 where the combination names nothing), and nothing changes."""
    prefix = unique()
    author, intruder, commenter = [await register(http, f"{prefix}{n}") for n in ("a", "i", "c")]
    article = await create_article(http, author, f"Owned {prefix}", tags=["owned"])
    own = await create_article(http, intruder, f"Intruder's own {prefix}")
    slug, comment = article["slug"], await add_comment(http, commenter, article["slug"])
    send = findings.send
    change = {"article": {"title": "Taken over", "body": "defaced", "tagList": []}}

    findings.expect_error(
        await send(http, "PUT", f"/articles/{slug}", json=change, headers=intruder.headers),
        {403},
        "PUT another's article",
        body=forbidden("article"),
    )
    findings.expect_error(
        await send(http, "DELETE", f"/articles/{slug}", headers=intruder.headers),
        {403},
        "DELETE another's article",
        body=forbidden("article"),
    )
    comment_url = f"/articles/{slug}/comments/{comment['id']}"
    for who, name in ((intruder, "a stranger"), (author, "the article's author")):
        findings.expect_error(
            await send(http, "DELETE", comment_url, headers=who.headers),
            {403},
            f"DELETE a comment by {name}",
            body=forbidden("comment"),
        )
    # The comment's id through another article's path names nothing, even for its author.
    wrong_path = f"/articles/{own['slug']}/comments/{comment['id']}"
    for who in (intruder, commenter):
        findings.expect_error(
            await send(http, "DELETE", wrong_path, headers=who.headers),
            {404},
            f"DELETE a comment through another article as {who.username}",
            body=not_found("comment"),
        )
    # A comment posted "as" someone else is still the poster's.
    posted = await send(
        http,
        "POST",
        f"/articles/{slug}/comments",
        json={"comment": {"body": "hi", "author": {"username": author.username}}},
        headers=intruder.headers,
    )
    answered = findings.expect(posted, {201}, "comment with an author field")
    if (
        answered is not None
        and answered.json()["comment"]["author"]["username"] != intruder.username
    ):
        findings.problem(f"a comment was attributed to {answered.json()['comment']['author']}")

    shown = ok(await http.get(f"/articles/{slug}"))["article"]
    if (shown["title"], shown["body"], shown["tagList"]) != (
        article["title"],
        article["body"],
        ["owned"],
    ):
        findings.problem(f"the article changed: {shown}")
    bodies = [c["id"] for c in ok(await http.get(f"/articles/{slug}/comments"))["comments"]]
    if comment["id"] not in bodies:
        findings.problem("the comment is gone")
    # Its owners can: the commenter deletes the comment, the author the article.
    findings.expect(
        await send(http, "DELETE", comment_url, headers=commenter.headers), {204}, "own comment"
    )
    findings.expect(
        await send(http, "DELETE", f"/articles/{slug}", headers=author.headers),
        {204},
        "own article",
    )
    await findings.finish()


async def test_one_account_cannot_reach_another(
    http: httpx.AsyncClient, findings: Findings
) -> None:
    """API1/API3 on accounts: ``PUT /api/user`` changes the token's own account only, an
    ``id`` in the body is ignored, and taking another's username or email is a 409."""
    prefix = unique()
    victim, intruder = await register(http, f"{prefix}v"), await register(http, f"{prefix}i")
    send = findings.send
    for field, value in (("username", victim.username), ("email", victim.email)):
        findings.expect_error(
            await send(
                http, "PUT", "/user", json={"user": {field: value}}, headers=intruder.headers
            ),
            {409},
            f"take the victim's {field}",
            body=taken(field),
        )
    body = {"user": {"id": int(user_id(victim)), "bio": "pwned", "token": victim.token}}
    answered = findings.expect(
        await send(http, "PUT", "/user", json=body, headers=intruder.headers), {200}, "PUT with id"
    )
    if answered is not None and answered.json()["user"]["username"] != intruder.username:
        findings.problem(f"PUT /api/user with an id changed {answered.json()['user']}")
    profile = ok(await http.get(f"/profiles/{victim.username}"))["profile"]
    if profile["bio"] is not None:
        findings.problem(f"the victim's bio became {profile['bio']!r}")
    login = {"user": {"email": victim.email, "password": PASSWORD}}
    findings.expect(await send(http, "POST", "/users/login", json=login), {200}, "victim login")
    await findings.finish()


async def test_bad_tokens_on_required_routes_are_401(
    http: httpx.AsyncClient, findings: Findings
) -> None:
    """API2: each kind of bad token, on every route that needs one, is a 401 ``token is
    invalid``, and the write it asked for does not happen."""
    prefix = unique()
    victim, other = await register(http, f"{prefix}v"), await register(http, f"{prefix}o")
    article = await create_article(http, victim, f"Victim's {prefix}")
    slug = article["slug"]
    comment = await add_comment(http, victim, slug)
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/user", None),
        ("PUT", "/user", {"user": {"bio": "forged"}}),
        ("GET", "/articles/feed", None),
        ("POST", "/articles", {"article": {"title": "Forged", "description": "d", "body": "b"}}),
        ("PUT", f"/articles/{slug}", {"article": {"body": "forged"}}),
        ("DELETE", f"/articles/{slug}", None),
        ("POST", f"/articles/{slug}/favorite", None),
        ("DELETE", f"/articles/{slug}/favorite", None),
        ("POST", f"/articles/{slug}/comments", {"comment": {"body": "forged"}}),
        ("DELETE", f"/articles/{slug}/comments/{comment['id']}", None),
        ("POST", f"/profiles/{other.username}/follow", None),
        ("DELETE", f"/profiles/{other.username}/follow", None),
    ]

    async def refused(
        method: str, path: str, body: Any, headers: dict[str, str], what: str, exact: Any
    ) -> None:
        response = await findings.send(http, method, path, json=body, headers=headers)
        findings.expect_error(response, {401}, what, body=exact)

    probes = [
        refused(method, path, body, auth(token), f"{kind}: {method} {path}", INVALID_TOKEN)
        for kind, token in bad_tokens(victim, other).items()
        for method, path, body in routes
    ]
    probes += [
        refused(method, path, body, {}, f"no token: {method} {path}", MISSING_TOKEN)
        for method, path, body in routes
    ]
    await in_parallel(probes)

    shown = ok(await http.get(f"/articles/{slug}", headers=victim.headers))["article"]
    if (shown["body"], shown["favoritesCount"]) != (article["body"], 0):
        findings.problem(f"a bad token changed the article: {shown}")
    me = ok(await http.get("/user", headers=victim.headers))["user"]
    if me["bio"] is not None:
        findings.problem("a bad token changed the victim's bio")
    feed = ok(await http.get("/articles/feed", headers=victim.headers))
    mine = ok(await http.get(f"/articles?author={victim.username}"))
    if feed["articlesCount"] != 0 or mine["articlesCount"] != 1:
        findings.problem("a bad token followed someone or wrote an article")
    comments = ok(await http.get(f"/articles/{slug}/comments"))["comments"]
    if [c["id"] for c in comments] != [comment["id"]]:
        findings.problem(f"a bad token changed the comments: {comments}")
    await findings.finish()


async def check_anonymous_answers(
    http: httpx.AsyncClient, findings: Findings, token: str, kind: str, reader: Account, slug: str
) -> None:
    """On every auth-optional route, ``token`` gets exactly the anonymous answer plus the
    ``invalid_token`` challenge; ``GET /api/user`` stays a 401."""
    optional = [
        f"/articles/{slug}",
        f"/articles/{slug}/comments",
        f"/articles?author={reader.username}",
        f"/articles?favorited={reader.username}",
        f"/profiles/{reader.username}",
    ]

    async def anonymous_answer(path: str) -> None:
        anonymous = ok(await http.get(path))
        response = await findings.send(http, "GET", path, headers=auth(token))
        answered = findings.expect(response, {200}, f"{kind} on optional GET {path}")
        if answered is None:
            return
        if answered.json() != anonymous:
            findings.problem(
                f"{kind} on GET {path}: not the anonymous answer: {answered.text[:200]}"
            )
        challenge = answered.headers.get("WWW-Authenticate")
        if challenge != INVALID_TOKEN_CHALLENGE:
            findings.problem(f"{kind} on GET {path}: WWW-Authenticate is {challenge!r}")

    await in_parallel(anonymous_answer(path) for path in optional)
    response = await findings.send(http, "GET", "/user", headers=auth(token))
    findings.expect_error(response, {401}, f"{kind}: GET /user", body=INVALID_TOKEN)


@pytest.fixture
async def signed_in_reader(http: httpx.AsyncClient) -> tuple[Account, str]:
    """A reader who follows an author and favorites their article: an answer that treats a
    token as this reader's would show ``following`` and ``favorited``."""
    prefix = unique()
    author, reader = await register(http, f"{prefix}w"), await register(http, f"{prefix}r")
    slug = (await create_article(http, author, f"Read {prefix}"))["slug"]
    await favorite(http, reader, slug)
    await follow(http, reader, author.username)
    await add_comment(http, author, slug)
    return reader, slug


async def test_bad_tokens_on_optional_routes_are_anonymous(
    http: httpx.AsyncClient, findings: Findings, signed_in_reader: tuple[Account, str]
) -> None:
    """API2 with the contract's Authentication section: a token that does not verify is not
    a 401 on an auth-optional route but an anonymous answer with the ``invalid_token``
    challenge, and never the answer its claimed user would get. A good token still works."""
    reader, slug = signed_in_reader
    other = await register(http, f"{unique()}o")
    for kind, token in bad_tokens(reader, other).items():
        await check_anonymous_answers(http, findings, token, kind, reader, slug)
    shown = ok(await http.get(f"/articles/{slug}", headers=reader.headers))
    if not shown["article"]["favorited"] or not shown["article"]["author"]["following"]:
        findings.problem("a good token is not answered as its user")
    await findings.finish()


async def test_deleted_users_token(
    live_server: LiveServer,
    http: httpx.AsyncClient,
    findings: Findings,
    signed_in_reader: tuple[Account, str],
) -> None:
    """API2: once the account is gone its token is revoked: 401 where required, anonymous
    (with the challenge) where optional."""
    reader, slug = signed_in_reader
    doomed = await register(http, f"{unique()}gone")
    await delete_user(live_server.backend, live_server.database_url, doomed.username)
    await check_anonymous_answers(
        http, findings, doomed.token, "deleted user's token", reader, slug
    )
    for method, path in (("POST", f"/articles/{slug}/favorite"), ("GET", "/articles/feed")):
        response = await findings.send(http, method, path, headers=doomed.headers)
        findings.expect_error(response, {401}, f"deleted user: {method} {path}", body=INVALID_TOKEN)
    await findings.finish()


async def test_logout_revokes_the_presented_token(
    http: httpx.AsyncClient, findings: Findings, signed_in_reader: tuple[Account, str]
) -> None:
    """API2 (being built): ``POST /api/users/logout`` revokes the token it is sent with, in
    every worker; the same user's other tokens keep working."""
    reader, slug = signed_in_reader
    login = {"user": {"email": reader.email, "password": PASSWORD}}
    other_token = ok(await http.post("/users/login", json=login))["user"]["token"]
    logged_out = await findings.send(http, "POST", "/users/logout", headers=reader.headers)
    findings.expect(logged_out, {200, 204}, "POST /api/users/logout")
    for _ in range(4):  # several requests: the two workers must both know
        await check_anonymous_answers(
            http, findings, reader.token, "logged-out token", reader, slug
        )
    still = await findings.send(http, "GET", "/user", headers=auth(other_token))
    findings.expect(still, {200}, "another token of the same user after logout")
    findings.expect_error(
        await findings.send(http, "POST", "/users/logout"),
        {401},
        "logout without a token",
        body=MISSING_TOKEN,
    )
    await findings.finish()


async def test_password_change_revokes_earlier_tokens(
    http: httpx.AsyncClient, findings: Findings, signed_in_reader: tuple[Account, str]
) -> None:
    """API2: after ``PUT /api/user`` with a new password, every token issued before it is a
    401 except the one that made the change (other sessions are signed out, this one stays);
    the token the answer carries works, and only the new password logs in."""
    reader, slug = signed_in_reader
    login = {"user": {"email": reader.email, "password": PASSWORD}}
    earlier = ok(await http.post("/users/login", json=login))["user"]["token"]
    changed = await findings.send(
        http, "PUT", "/user", json={"user": {"password": NEW_PASSWORD}}, headers=reader.headers
    )
    answered = findings.expect(changed, {200}, "change the password")
    if answered is not None:
        fresh = answered.json()["user"]["token"]
        findings.expect(
            await findings.send(http, "GET", "/user", headers=auth(fresh)), {200}, "new token"
        )
    kept = await findings.send(http, "GET", "/user", headers=reader.headers)
    findings.expect(kept, {200}, "the token that changed it, after the change")
    for name, token in (("an earlier login's", earlier),):
        for _ in range(2):
            response = await findings.send(http, "GET", "/user", headers=auth(token))
            findings.expect_error(response, {401}, f"{name} after the change", body=INVALID_TOKEN)
        await check_anonymous_answers(http, findings, token, name, reader, slug)
    findings.expect(
        await findings.send(http, "POST", "/users/login", json=login), {401}, "old password"
    )
    new_login = {"user": {"email": reader.email, "password": NEW_PASSWORD}}
    findings.expect(
        await findings.send(http, "POST", "/users/login", json=new_login), {200}, "new password"
    )
    await findings.finish()


async def test_mass_assignment_is_ignored(http: httpx.AsyncClient, findings: Findings) -> None:
    """API3: fields a client may not set (author, counts, favorited, timestamps, slug, ids,
    tokens, password hashes) are ignored wherever they are sent."""
    prefix = unique()
    victim = await register(http, f"{prefix}v")
    # A real hash of a password the attacker knows: were it assigned, that password would work.
    known_hash = Argon2(time_cost=1, memory_cost=1024).hash(ASSIGNED_PASSWORD)
    extras = {
        "slug": f"chosen-{prefix}",
        "author": {"username": victim.username, "following": True},
        "authorId": 1,
        "author_id": 1,
        "favoritesCount": 1000,
        "favorites_count": 1000,
        "favorited": True,
        "createdAt": "2000-01-01T00:00:00.000Z",
        "updatedAt": "2000-01-01T00:00:00.000Z",
        "created_at": "2000-01-01T00:00:00.000Z",
        "id": 1,
    }
    started = datetime.now(UTC) - timedelta(minutes=5)
    writer = await register(http, f"{prefix}w")
    fields = {"title": f"Assigned {prefix}", "description": "d", "body": "b", **extras}
    created = await findings.send(
        http, "POST", "/articles", json={"article": fields}, headers=writer.headers
    )
    answered = findings.expect(created, {201}, "POST /api/articles with extras")
    if answered is not None:
        article = answered.json()["article"]
        check_article_not_assigned(findings, article, writer, started)
        changed = await findings.send(
            http,
            "PUT",
            f"/articles/{article['slug']}",
            json={"article": {"body": "edited", **extras}},
            headers=writer.headers,
        )
        edited = findings.expect(changed, {200}, "PUT /api/articles with extras")
        if edited is not None:
            after = edited.json()["article"]
            check_article_not_assigned(findings, after, writer, started)
            if (after["slug"], after["createdAt"]) != (article["slug"], article["createdAt"]):
                findings.problem(f"PUT moved slug or createdAt: {after}")
        comment = await findings.send(
            http,
            "POST",
            f"/articles/{article['slug']}/comments",
            json={"comment": {"body": "c", **extras}},
            headers=writer.headers,
        )
        posted = findings.expect(comment, {201}, "POST comment with extras")
        if posted is not None:
            c = posted.json()["comment"]
            if c["author"]["username"] != writer.username or c["createdAt"] < iso(started):
                findings.problem(f"comment fields were assigned: {c}")
    if ok(await http.get(f"/articles?author={victim.username}"))["articlesCount"]:
        findings.problem("an article was attributed to the victim")

    new = f"{prefix}n"
    registered = await findings.send(
        http,
        "POST",
        "/users",
        json={
            "user": {
                "username": new,
                "email": f"{new}@example.com",
                "password": PASSWORD,
                "bio": "set at signup",
                "image": "x",
                "token": victim.token,
                "id": 1,
                "password_hash": known_hash,
                "passwordHash": known_hash,
                "admin": True,
            }
        },
    )
    user = findings.expect(registered, {201}, "register with extras")
    if user is not None:
        body = user.json()["user"]
        if (body["bio"], body["image"]) != (None, None) or body["token"] == victim.token:
            findings.problem(f"register assigned fields: {body}")
        token = body["token"]
        updated = await findings.send(
            http,
            "PUT",
            "/user",
            json={"user": {"password_hash": known_hash, "passwordHash": known_hash, "id": 1}},
            headers=auth(token),
        )
        findings.expect(updated, {200}, "PUT /api/user with a password hash")
        for password, status in ((PASSWORD, 200), (ASSIGNED_PASSWORD, 401)):
            login = {"user": {"email": f"{new}@example.com", "password": password}}
            findings.expect(
                await findings.send(http, "POST", "/users/login", json=login),
                {status},
                f"login with {'the real' if status == 200 else 'the assigned hash'} password",
            )
    await findings.finish()


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def check_article_not_assigned(
    findings: Findings, article: dict[str, Any], writer: Account, started: datetime
) -> None:
    if article["author"]["username"] != writer.username:
        findings.problem(f"author assigned: {article['author']}")
    if article["favoritesCount"] != 0 or article["favorited"]:
        findings.problem(f"favorites assigned: {article['favoritesCount']}, {article['favorited']}")
    if article["createdAt"] < iso(started) or article["updatedAt"] < iso(started):
        findings.problem(f"timestamps assigned: {article['createdAt']}, {article['updatedAt']}")
    if article["slug"].startswith("chosen-"):
        findings.problem(f"slug assigned: {article['slug']}")


async def test_profiles_expose_no_account_data(http: httpx.AsyncClient, findings: Findings) -> None:
    """API3: a profile, wherever it appears (profile, article author, comment author, lists),
    has exactly the profile keys: no email, token, id or hash."""
    prefix = unique()
    author, reader = await register(http, f"{prefix}a"), await register(http, f"{prefix}r")
    slug = (await create_article(http, author, f"Exposed {prefix}"))["slug"]
    await add_comment(http, author, slug)
    profiles = [
        ok(await http.get(f"/profiles/{author.username}", headers=reader.headers))["profile"],
        ok(await http.get(f"/articles/{slug}", headers=reader.headers))["article"]["author"],
        ok(await http.get(f"/articles/{slug}/comments"))["comments"][0]["author"],
        ok(await http.get(f"/articles?author={author.username}"))["articles"][0]["author"],
    ]
    for profile in profiles:
        if set(profile) != PROFILE_KEYS:
            findings.problem(f"a profile has keys {sorted(profile)}")
    await findings.finish()


async def test_login_does_not_enumerate_accounts(
    http: httpx.AsyncClient, findings: Findings
) -> None:
    """An unknown email and a wrong password get the same status, body and headers; a taken
    username or email at registration is the contract's 409 and says nothing more."""
    account = await register(http, f"{unique()}known")
    answers = []
    for email, password in (
        (f"nobody-{unique()}@example.com", PASSWORD),
        (account.email, "wrong password!"),
    ):
        response = await findings.send(
            http, "POST", "/users/login", json={"user": {"email": email, "password": password}}
        )
        findings.expect_error(
            response, {401}, f"login as {email}", body={"errors": {"credentials": ["invalid"]}}
        )
        if response is not None:
            answers.append(
                (response.status_code, response.text, sorted(set(response.headers) - {"date"}))
            )
    if len(answers) == 2 and answers[0] != answers[1]:
        findings.problem(f"unknown email and wrong password differ: {answers}")
    for field, value in (("username", account.username.upper()), ("email", account.email.upper())):
        fields = {
            "username": f"{unique()}x",
            "email": f"{unique()}@example.com",
            "password": PASSWORD,
            field: value,
        }
        response = await findings.send(http, "POST", "/users", json={"user": fields})
        findings.expect_error(response, {409}, f"register a taken {field}", body=taken(field))
    await findings.finish()


@pytest.fixture(scope="module")
def production_cost_server(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A second server with Broadsheet's default (production) Argon2 cost, where a login that
    skipped hashing for an unknown email would be measurably faster."""
    production_cost = {"BROADSHEET_ARGON2_TIME_COST": "3", "BROADSHEET_ARGON2_MEMORY_KIB": "65536"}
    workdir = tmp_path_factory.mktemp("argon2")
    with serving(live_server.backend, workdir, name="argon2", settings=production_cost) as server:
        yield server


async def test_login_timing_does_not_enumerate_accounts(
    production_cost_server: LiveServer, findings: Findings
) -> None:
    """With the production Argon2 cost, a login for an unknown email takes about as long as
    one with a wrong password (within half of the slower median)."""
    async with production_cost_server.client(connections=4) as http:
        account = await register(http, f"{unique()}timed")
        samples: dict[str, list[float]] = {"unknown email": [], "wrong password": []}
        for attempt in range(16):
            kind = "unknown email" if attempt % 2 else "wrong password"
            email = f"nobody-{unique()}@example.com" if attempt % 2 else account.email
            started = time.perf_counter()
            response = await http.post(
                "/users/login", json={"user": {"email": email, "password": "not it at all"}}
            )
            samples[kind].append(time.perf_counter() - started)
            findings.expect(response, {401}, f"login, {kind}")
    unknown, wrong = (statistics.median(samples[k]) for k in ("unknown email", "wrong password"))
    figures = (
        f"median login: unknown email {unknown * 1000:.0f} ms, wrong password {wrong * 1000:.0f} ms"
    )
    if abs(unknown - wrong) > 0.5 * max(unknown, wrong):
        findings.problem(f"login medians differ: {figures}")
    await findings.finish(extra=f", {figures}")


@pytest.fixture(scope="module")
def rate_limited_server(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server with the default rate limits on, behind a trusted proxy on this host, so
    ``X-Forwarded-For`` names the client (the other batteries' servers have limits off)."""
    limits_on = {"BROADSHEET_RATE_LIMITS": "on", "BROADSHEET_TRUSTED_PROXIES": "127.0.0.1"}
    workdir = tmp_path_factory.mktemp("limits")
    with serving(live_server.backend, workdir, name="limits", settings=limits_on) as server:
        yield server


def check_too_many(findings: Findings, response: httpx.Response | None, what: str) -> None:
    if response is None:
        findings.problem(f"{what}: never a 429")
        return
    findings.expect_error(response, {429}, what)
    if response.status_code == 429:
        retry_after = response.headers.get("Retry-After", "")
        if not retry_after.isdigit() or int(retry_after) < 1:
            findings.problem(f"{what}: Retry-After is {retry_after!r}")


async def test_brute_force_on_one_account_gets_429(
    rate_limited_server: LiveServer, findings: Findings
) -> None:
    """API2/API4: failed logins for one account, even from many addresses, are answered 429
    with ``Retry-After`` once past the limit, and then so is the right password."""
    async with rate_limited_server.client() as http:
        await _brute_force_one_account(http, findings)


async def _brute_force_one_account(http: httpx.AsyncClient, findings: Findings) -> None:
    account = await register(http, f"{unique()}target")
    limited: list[httpx.Response] = []

    async def guess(attempt: int) -> None:
        headers = {"X-Forwarded-For": f"198.51.100.{attempt % 250 + 1}"}
        login = {"user": {"email": account.email, "password": f"guess number {attempt}"}}
        response = await findings.send(http, "POST", "/users/login", json=login, headers=headers)
        if response is not None and response.status_code == 429:
            limited.append(response)
        else:
            findings.expect_error(response, {401}, f"failed login {attempt}")

    await in_parallel(guess(attempt) for attempt in range(FAILED_LOGINS_FOR_ONE_ACCOUNT))
    check_too_many(
        findings,
        limited[0] if limited else None,
        f"{FAILED_LOGINS_FOR_ONE_ACCOUNT} failed logins for one account",
    )
    if limited:
        right = {"user": {"email": account.email, "password": PASSWORD}}
        response = await findings.send(
            http, "POST", "/users/login", json=right, headers={"X-Forwarded-For": "198.51.100.254"}
        )
        check_too_many(findings, response, "the right password while locked out")
    await findings.finish()


async def test_brute_force_from_one_address_gets_429(
    rate_limited_server: LiveServer, findings: Findings
) -> None:
    """API2/API4: failed logins from one client address, each for another account, are
    answered 429 with ``Retry-After`` once past the limit."""
    async with rate_limited_server.client() as http:
        await _spray_from_one_address(http, findings)


async def _spray_from_one_address(http: httpx.AsyncClient, findings: Findings) -> None:
    address = {"X-Forwarded-For": "203.0.113.77"}
    limited: list[httpx.Response] = []

    async def spray(attempt: int) -> None:
        login = {"user": {"email": f"spray-{attempt}-{unique()}@example.com", "password": PASSWORD}}
        response = await findings.send(http, "POST", "/users/login", json=login, headers=address)
        if response is not None and response.status_code == 429:
            limited.append(response)
        else:
            findings.expect_error(response, {401}, f"failed login {attempt}")

    await in_parallel(spray(attempt) for attempt in range(FAILED_LOGINS_FROM_ONE_ADDRESS))
    check_too_many(
        findings,
        limited[0] if limited else None,
        f"{FAILED_LOGINS_FROM_ONE_ADDRESS} failed logins from one address",
    )
    await findings.finish()


async def test_no_password_or_hash_in_any_response_or_log(
    live_server: LiveServer, http: httpx.AsyncClient, findings: Findings
) -> None:
    """After every test above, and after account writes that fail inside the database (text
    it cannot store), where a logged statement would carry its parameters: no response this
    battery received, and no line of the server's log, holds a password it used or an Argon2
    hash."""
    account = await register(http, f"{unique()}log")
    escaped = {**JSON, **account.headers}

    def new_user(username: str) -> dict[str, Any]:
        return {
            "user": {"username": username, "email": f"{unique()}@example.com", "password": PASSWORD}
        }

    failing = [
        ("POST", "/users", new_user(f"{unique()}\x00")),
        ("POST", "/users", new_user(f"{unique()}\ud800")),
        ("PUT", "/user", {"user": {"password": NEW_PASSWORD, "bio": "\x00"}}),
        ("PUT", "/user", {"user": {"password": NEW_PASSWORD, "image": "\ud800"}}),
    ]
    for method, path, body in failing:
        content = json.dumps(body, ensure_ascii=True).encode()
        await findings.send(http, method, path, content=content, headers=escaped)
    secrets = (
        "$argon2",
        PASSWORD,
        NEW_PASSWORD,
        ASSIGNED_PASSWORD,
        "wrong password!",
        "guess number 1",
    )
    responses: list[str] = live_server.cache.get("responses", [])
    for secret in secrets:
        leaking = [r for r in responses if secret in r]
        if leaking:
            findings.problem(
                f"{len(leaking)} responses contain {secret!r}, e.g. {leaking[0][:300]}"
            )
    log = live_server.log_since().splitlines()
    for secret in secrets:
        if lines := [line for line in log if secret in line]:
            findings.problem(f"server log: {len(lines)} lines hold {secret!r}: {lines[0][:240]}")
    for line in live_server.log_errors()[:5]:
        findings.problem(f"server log: {line}")
    await findings.finish(extra=f", {len(responses)} responses scanned")
