"""The fixed scenario list, and the seeded data each one is pointed at.

Broadsheet's scenarios run in this order (reads before writes, so every read sees the seeded
database as it was), with the ceiling's scenarios after the reads and the write ceiling last.
Each Broadsheet scenario names the ceiling it is compared with.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from bench import api
from broadsheet.seed import PLACES

READER = "ada"  # the seeded first user: favoriter and feed reader
READER_EMAIL = "ada@example.com"
DEMO_PASSWORD = "broadsheet-demo"
WRITERS = 4  # bench users registered for the write scenarios
# What the search scenario looks for: a place the seeder names in about 1% of the articles.
SEARCHED = PLACES[10]

Auth = Literal["none", "reader", "writers"]
# "cached": a second ``broadsheet serve`` with Redis, so the anonymous read cache is on.
# "granian": the same app on granian instead of uvicorn (bench/run --granian).
Server = Literal["broadsheet", "cached", "granian", "ceiling"]


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    title: str
    method: str
    path: str  # formatted with the targets: {tag} {author} {slug} {comment_slug} {reader} {place}
    script: str = "read"  # bench/wrk/<script>.lua
    auth: Auth = "none"
    body: str | None = None
    server: Server = "broadsheet"
    ceiling: str | None = None  # the ceiling scenario's key
    versus_static: bool = False  # a hot anonymous read: also compared with static JSON
    write: bool = False
    status: int = 200  # what the probe request must answer


_LOGIN = json.dumps({"user": {"email": READER_EMAIL, "password": DEMO_PASSWORD}})

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("list", "list, anonymous", "GET", "/api/articles", ceiling="ceiling-list",
             versus_static=True),
    Scenario("list-signed-in", "list, signed in", "GET", "/api/articles", auth="reader",
             ceiling="ceiling-list"),
    Scenario("by-tag", "list by tag", "GET", "/api/articles?tag={tag}", ceiling="ceiling-list",
             versus_static=True),
    Scenario("by-author", "list by author", "GET", "/api/articles?author={author}",
             ceiling="ceiling-list", versus_static=True),
    Scenario("by-favorited", "list by favorited", "GET", "/api/articles?favorited={reader}",
             ceiling="ceiling-list", versus_static=True),
    Scenario("feed", "feed", "GET", "/api/articles/feed", auth="reader", ceiling="ceiling-list"),
    Scenario("article", "one article", "GET", "/api/articles/{slug}", ceiling="ceiling-article",
             versus_static=True),
    Scenario("comments", "its comments", "GET", "/api/articles/{slug}/comments",
             ceiling="ceiling-list", versus_static=True),
    Scenario("tags", "tags", "GET", "/api/tags", ceiling="ceiling-tags", versus_static=True),
    Scenario("profile", "a profile", "GET", "/api/profiles/{author}",
             ceiling="ceiling-article", versus_static=True),
    Scenario("current-user", "the current user", "GET", "/api/user", auth="reader",
             ceiling="ceiling-article"),
    # Beyond RealWorld (docs/api.md): search, analytics and the follow graph.
    Scenario("search", "search", "GET", "/api/search?q={place}", ceiling="ceiling-list"),
    Scenario("tag-trends", "tag trends", "GET", "/api/analytics/tags", ceiling="ceiling-tags"),
    Scenario("trending", "trending articles", "GET", "/api/analytics/trending",
             ceiling="ceiling-list"),
    Scenario("author-stats", "an author's stats", "GET", "/api/profiles/{author}/stats",
             ceiling="ceiling-article"),
    Scenario("suggestions", "whom to follow", "GET", "/api/user/suggestions", auth="reader",
             ceiling="ceiling-article"),
    Scenario("path", "a follow path", "GET", "/api/profiles/{reader}/path?to={author}",
             ceiling="ceiling-article"),
    # The hot anonymous reads again, on the server with the cache (bench/run --redis URL).
    Scenario("list-cached", "list, anonymous, cached", "GET", "/api/articles", server="cached",
             ceiling="ceiling-list", versus_static=True),
    Scenario("article-cached", "one article, cached", "GET", "/api/articles/{slug}",
             server="cached", ceiling="ceiling-article", versus_static=True),
    Scenario("tags-cached", "tags, cached", "GET", "/api/tags", server="cached",
             ceiling="ceiling-tags", versus_static=True),
    Scenario("profile-cached", "a profile, cached", "GET", "/api/profiles/{author}",
             server="cached", ceiling="ceiling-article", versus_static=True),
    # A few reads and a write again, on granian: the server comparison.
    Scenario("list-granian", "list, anonymous, granian", "GET", "/api/articles",
             server="granian", ceiling="list"),
    Scenario("article-granian", "one article, granian", "GET", "/api/articles/{slug}",
             server="granian", ceiling="article"),
    Scenario("tags-granian", "tags, granian", "GET", "/api/tags", server="granian",
             ceiling="tags"),
    Scenario("current-user-granian", "the current user, granian", "GET", "/api/user",
             auth="reader", server="granian", ceiling="current-user"),
    Scenario("ceiling-list", "ceiling: list", "GET", "/api/articles", server="ceiling"),
    Scenario("ceiling-article", "ceiling: one article", "GET", "/api/articles/{slug}",
             server="ceiling"),
    Scenario("ceiling-tags", "ceiling: tags", "GET", "/api/tags", server="ceiling"),
    Scenario("ceiling-static", "ceiling: static JSON", "GET", "/static", server="ceiling"),
    # Login verifies an Argon2id hash by design: slow on purpose, compared with nothing.
    Scenario("login", "login", "POST", "/api/users/login", body=_LOGIN),
    Scenario("create-article", "create article", "POST", "/api/articles",
             script="create_article", auth="writers", ceiling="ceiling-write", write=True,
             status=201),
    Scenario("favorite", "favorite, unfavorite", "POST", "/api/articles/{slug}/favorite",
             script="favorite", auth="writers", ceiling="ceiling-write", write=True),
    Scenario("add-comment", "add comment", "POST", "/api/articles/{comment_slug}/comments",
             script="comment", auth="writers", ceiling="ceiling-write", write=True, status=201),
    Scenario("ceiling-write", "ceiling: one INSERT", "POST",
             "/api/articles/{comment_slug}/comments", script="comment", server="ceiling",
             write=True, status=201),
)  # fmt: skip
BY_KEY = {scenario.key: scenario for scenario in SCENARIOS}


def selected(
    keys: list[str] | None, *, cached: bool = False, granian: bool = False
) -> list[Scenario]:
    """The scenarios asked for (all by default; those of the cached server only with
    ``cached``, of granian only with ``granian``) and what they are compared with, in the
    fixed order. A granian scenario is compared with the same scenario on uvicorn."""
    servers = {"broadsheet", "ceiling"} | ({"cached"} if cached else set())
    servers |= {"granian"} if granian else set()
    if not keys:
        return [s for s in SCENARIOS if s.server in servers]
    unknown = sorted(set(keys) - set(BY_KEY))
    if unknown:
        raise ValueError(f"unknown scenarios {unknown}; known: {', '.join(BY_KEY)}")
    if not cached and any(BY_KEY[key].server == "cached" for key in keys):
        raise ValueError("the cached scenarios need --redis URL")
    if not granian and any(BY_KEY[key].server == "granian" for key in keys):
        raise ValueError("the granian scenarios need --granian")
    wanted: set[str] = set()
    adding = set(keys)
    while adding:  # a granian scenario's comparison has its own ceiling
        scenario = BY_KEY[adding.pop()]
        wanted.add(scenario.key)
        if scenario.ceiling is not None and scenario.ceiling not in wanted:
            adding.add(scenario.ceiling)
        if scenario.versus_static:
            wanted.add("ceiling-static")
    return [scenario for scenario in SCENARIOS if scenario.key in wanted]


@dataclass(frozen=True, slots=True)
class Targets:
    """What the scenarios point at, picked from the seeded data through the API."""

    tag: str  # the most used tag
    author: str  # the author of the newest article
    slug: str  # the newest article: one article, its comments, favorites
    comment_slug: str  # the second newest: comments are added here
    favorite_slugs: list[str]  # the first page: favorite, unfavorite
    reader: str = READER
    reader_token: str = field(default="", repr=False)
    writer_tokens: list[str] = field(default_factory=list, repr=False)
    run_id: str = ""

    def path(self, scenario: Scenario) -> str:
        return scenario.path.format(
            place=quote(SEARCHED, safe=""),
            tag=quote(self.tag, safe=""),
            author=quote(self.author, safe=""),
            slug=self.slug,
            comment_slug=self.comment_slug,
            reader=quote(self.reader, safe=""),
        )

    def tokens(self, scenario: Scenario) -> list[str]:
        if scenario.server == "ceiling" or scenario.auth == "none":
            return []
        return [self.reader_token] if scenario.auth == "reader" else self.writer_tokens

    def summary(self) -> dict[str, object]:
        return {
            "tag": self.tag,
            "author": self.author,
            "slug": self.slug,
            "comment_slug": self.comment_slug,
            "favorite_slugs": len(self.favorite_slugs),
            "reader": self.reader,
            "writers": len(self.writer_tokens),
        }


def pick_targets(base_url: str) -> Targets:
    """Log in as the reader, register the writers, and pick the tag, author and articles."""
    run_id = uuid.uuid4().hex[:8]
    tags = api.expect(api.request(base_url, "GET", "/api/tags"), "tags")["tags"]
    page = api.expect(api.request(base_url, "GET", "/api/articles?limit=20"), "first page")
    articles = page["articles"]
    if not tags or len(articles) < 2:
        raise api.ApiError("the seeded database needs at least 2 articles and a tag")
    login = api.request(base_url, "POST", "/api/users/login", body=_LOGIN)
    reader_token = api.expect(login, f"login as {READER_EMAIL}")["user"]["token"]
    writer_tokens = []
    for number in range(WRITERS):
        name = f"bench{run_id}w{number}"
        user = {"username": name, "email": f"{name}@example.com", "password": DEMO_PASSWORD}
        registered = api.request(base_url, "POST", "/api/users", body=json.dumps({"user": user}))
        writer_tokens.append(api.expect(registered, f"register {name}", 201)["user"]["token"])
    return Targets(
        tag=tags[0],
        author=articles[0]["author"]["username"],
        slug=articles[0]["slug"],
        comment_slug=articles[1]["slug"],
        favorite_slugs=[article["slug"] for article in articles],
        reader_token=reader_token,
        writer_tokens=writer_tokens,
        run_id=run_id,
    )


def probe_body(scenario: Scenario, targets: Targets) -> str | None:
    """The body of the one probe request, shaped like the scenario's own."""
    if scenario.script == "create_article":
        article = {
            "title": f"Bench probe {targets.run_id} {uuid.uuid4().hex[:6]}",
            "description": "Written by the benchmark.",
            "body": "A paragraph the benchmark wrote.",
            "tagList": ["bench", targets.tag],
        }
        return json.dumps({"article": article})
    if scenario.script == "comment":
        return json.dumps({"comment": {"body": f"Bench probe {targets.run_id}."}})
    return scenario.body
