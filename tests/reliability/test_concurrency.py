"""Concurrency battery: many users at once against ``broadsheet serve --workers 2``.

What it proves, on every backend: under hundreds of concurrent favorite/unfavorite,
follow/unfollow, comment, edit and delete requests over real sockets to two worker processes,
- no request gets a 5xx or loses its connection, and the server logs no error;
- every response says what its own request did (a favorite answers ``favorited: true``);
- afterwards every counter and relation equals the ground truth built from the acknowledged
  responses: ``favoritesCount``, ``?favorited=`` lists, ``following``, the feed (0 drift);
- concurrent edits of different fields of one article all survive (no lost update), and
  ``updatedAt`` is never earlier than one an edit acknowledged;
- comments racing their article's delete leave nothing behind, visible or not;
- only an article's or comment's author changes or deletes it, whoever races them.

Each test prints its figures (requests, statuses, 5xx, drift, writes lost) in the run's
summary. Counts scale with ``BROADSHEET_BATTERY_SCALE`` (MongoDB backends run at a quarter,
see ``tests/live_server.py``), never below 50 concurrent requests on one article.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable
from typing import Any

import httpx

from tests.api.helpers import Account, add_comment, create_article, ok, register
from tests.live_server import Findings, LiveServer, scaled, unique

ON_ONE_ARTICLE = 50  # the floor of concurrent requests on one article, whatever the scale
CHECKS_AT_ONCE = 20  # reading the outcome back needs no stampede


async def register_many(http: httpx.AsyncClient, prefix: str, count: int) -> list[Account]:
    return list(await asyncio.gather(*(register(http, f"{prefix}u{n}") for n in range(count))))


def transactional(backend: str) -> bool:
    """Whether each response shows one consistent state. Without transactions
    (mongodb-standalone) a favorite and its counter are two writes, so a response may fall
    between them; the state afterwards must be right all the same."""
    return backend != "mongodb-standalone"


async def test_hot_article_favorites(
    live_server: LiveServer, http: httpx.AsyncClient, findings: Findings
) -> None:
    """N distinct users favorite one article at once, then all unfavorite it at once."""
    backend = live_server.backend
    prefix = unique()
    fans = await register_many(http, prefix, scaled(200, backend, floor=ON_ONE_ARTICLE))
    author = await register(http, f"{prefix}author")
    slug = (await create_article(http, author, f"Hot article {prefix}"))["slug"]
    url = f"/articles/{slug}/favorite"
    send, tally = findings.tally.send, findings.tally
    # Ground truth per fan from the answers: a 200 did it, an error answer did nothing (the
    # use case rolled back), no answer at all leaves it open.
    favorited: dict[str, bool | None] = {fan.username: False for fan in fans}

    for method, doing in (("POST", True), ("DELETE", False)):
        responses = await tally.race(*(send(http, method, url, headers=f.headers) for f in fans))
        for fan, response in zip(fans, responses, strict=True):
            if response is None:
                favorited[fan.username] = None
            answered = findings.expect(response, {200}, f"{method} favorite by {fan.username}")
            if answered is None:
                continue
            favorited[fan.username] = doing
            article = answered.json()["article"]
            if article["favorited"] is not doing:
                findings.problem(f"{method} by {fan.username} answered favorited={not doing}")
            if transactional(backend) and not 0 <= article["favoritesCount"] <= len(fans):
                findings.problem(f"{method} answered favoritesCount {article['favoritesCount']}")
        shown = ok(await send(http, "GET", f"/articles/{slug}"))["article"]["favoritesCount"]
        sure = sum(1 for state in favorited.values() if state)
        maybe = sum(1 for state in favorited.values() if state is None)
        if not sure <= shown <= sure + maybe:
            findings.drift += abs(shown - sure)
            findings.problem(f"after all {method}s favoritesCount is {shown}, answers say {sure}")

    await findings.finish(extra=f", {len(fans)} users on one article")


async def test_favorite_toggle_storm(
    live_server: LiveServer, http: httpx.AsyncClient, findings: Findings
) -> None:
    """Every user toggles one article's favorite at random, one request after another, all
    users at once; the count and every user's list then agree with each user's last answer."""
    backend = live_server.backend
    prefix = unique()
    users = await register_many(http, prefix, scaled(60, backend, floor=ON_ONE_ARTICLE))
    author = await register(http, f"{prefix}author")
    slug = (await create_article(http, author, f"Toggled article {prefix}"))["slug"]
    url = f"/articles/{slug}/favorite"
    rounds = 5
    last_answer: dict[str, bool | None] = {}  # None: a request failed, either state will do

    async def toggle(user: Account) -> None:
        state: bool | None = False
        for _ in range(rounds):
            favorite = random.random() < 0.5
            try:
                response = await findings.tally.send(
                    http, "POST" if favorite else "DELETE", url, headers=user.headers
                )
            except httpx.TransportError:
                response = None
            answered = findings.expect(response, {200}, f"toggle by {user.username}")
            if answered is None:
                state = None
                continue
            article = answered.json()["article"]
            if article["favorited"] is not favorite:
                findings.problem(
                    f"{'favorite' if favorite else 'unfavorite'} by {user.username} "
                    f"answered favorited={article['favorited']}"
                )
            if transactional(backend) and favorite and article["favoritesCount"] < 1:
                findings.problem("a favorite answered favoritesCount 0")
            if state is not None:
                state = favorite
        last_answer[user.username] = state

    await asyncio.gather(*(toggle(user) for user in users))

    expected = {name for name, state in last_answer.items() if state}
    uncertain = {name for name, state in last_answer.items() if state is None}
    shown = ok(await findings.tally.send(http, "GET", f"/articles/{slug}"))["article"]
    lists = await findings.tally.race(
        *(findings.tally.send(http, "GET", f"/articles?favorited={u.username}") for u in users),
        at_once=CHECKS_AT_ONCE,
    )
    listed = set()
    for user, response in zip(users, lists, strict=True):
        answered = findings.expect(response, {200}, f"favorited list of {user.username}")
        if answered is not None and slug in [a["slug"] for a in answered.json()["articles"]]:
            listed.add(user.username)
    wrong = (listed ^ expected) - uncertain
    for name in sorted(wrong):
        findings.problem(f"{name}: listed={name in listed}, last answer={name in expected}")
    if not len(expected) <= shown["favoritesCount"] <= len(expected) + len(uncertain):
        findings.problem(f"favoritesCount {shown['favoritesCount']}, expected {len(expected)}")
    if shown["favoritesCount"] != len(listed):
        findings.problem(f"favoritesCount {shown['favoritesCount']} but {len(listed)} list it")
    findings.drift = len(wrong) + abs(shown["favoritesCount"] - len(listed))

    await findings.finish(extra=f", {len(users)} users x {rounds} toggles on one article")


async def test_follow_storm(
    live_server: LiveServer, http: httpx.AsyncClient, findings: Findings
) -> None:
    """Followers follow and unfollow authors at random, every follower-author pair its own
    sequence, all pairs at once; then every profile's ``following`` and every feed match."""
    backend = live_server.backend
    prefix = unique()
    authors = [
        await register(http, f"{prefix}author{n}") for n in range(scaled(4, backend, floor=3))
    ]
    articles = {
        a.username: (await create_article(http, a, f"By {a.username}"))["slug"] for a in authors
    }
    followers = await register_many(http, prefix, scaled(20, backend, floor=12))
    rounds = 4
    following: dict[tuple[str, str], bool | None] = {}

    async def chain(follower: Account, author: Account) -> None:
        state: bool | None = False
        url = f"/profiles/{author.username}/follow"
        for _ in range(rounds):
            follow = random.random() < 0.5
            try:
                response = await findings.tally.send(
                    http, "POST" if follow else "DELETE", url, headers=follower.headers
                )
            except httpx.TransportError:
                response = None
            answered = findings.expect(
                response, {200}, f"follow {follower.username}->{author.username}"
            )
            if answered is None:
                state = None
                continue
            if answered.json()["profile"]["following"] is not follow:
                findings.problem(f"{'follow' if follow else 'unfollow'} answered the opposite")
            if state is not None:
                state = follow
        following[follower.username, author.username] = state

    await asyncio.gather(*(chain(f, a) for f in followers for a in authors))

    tally = findings.tally
    pairs = [(f, a) for f in followers for a in authors]
    profiles = await tally.race(
        *(tally.send(http, "GET", f"/profiles/{a.username}", headers=f.headers) for f, a in pairs),
        at_once=CHECKS_AT_ONCE,
    )
    for (follower, author), response in zip(pairs, profiles, strict=True):
        answered = findings.expect(response, {200}, "profile")
        truth = following[follower.username, author.username]
        if (
            answered is not None
            and truth is not None
            and answered.json()["profile"]["following"] is not truth
        ):
            findings.drift += 1
            findings.problem(f"{follower.username} follows {author.username}: not {truth}")
    feeds = await tally.race(
        *(
            tally.send(http, "GET", "/articles/feed?limit=100", headers=f.headers)
            for f in followers
        ),
        at_once=CHECKS_AT_ONCE,
    )
    for follower, response in zip(followers, feeds, strict=True):
        answered = findings.expect(response, {200}, "feed")
        if answered is None:
            continue
        feed = answered.json()
        got = {a["slug"] for a in feed["articles"]}
        sure = {articles[a.username] for a in authors if following[follower.username, a.username]}
        maybe = {
            articles[a.username]
            for a in authors
            if following[follower.username, a.username] is None
        }
        if not sure <= got <= sure | maybe or feed["articlesCount"] != len(got):
            findings.drift += 1
            findings.problem(f"feed of {follower.username}: {sorted(got)}, expected {sorted(sure)}")

    await findings.finish(
        extra=f", {len(followers)} followers x {len(authors)} authors x {rounds} rounds"
    )


async def test_concurrent_edits_of_different_fields(
    live_server: LiveServer, http: httpx.AsyncClient, findings: Findings
) -> None:
    """The author sends three PUTs at once to one article, each changing another field (body,
    description, tagList); in every trial all three changes are there afterwards."""
    backend = live_server.backend
    prefix = unique()
    author = await register(http, f"{prefix}author")
    trials = scaled(15, backend, floor=5)
    created = [
        await create_article(http, author, f"Edited {prefix} {n}", tags=["original"])
        for n in range(trials)
    ]
    edits: list[tuple[str, dict[str, Any]]] = []
    for number, article in enumerate(created):
        edits += [
            (article["slug"], {"body": f"new body {number}"}),
            (article["slug"], {"description": f"new description {number}"}),
            (article["slug"], {"tagList": [f"new-tag-{number}", "second"]}),
        ]
    tally = findings.tally
    responses = await tally.race(
        *(
            tally.send(
                http, "PUT", f"/articles/{slug}", json={"article": change}, headers=author.headers
            )
            for slug, change in edits
        )
    )
    acknowledged: dict[str, list[tuple[dict[str, Any], str]]] = {a["slug"]: [] for a in created}
    for (slug, change), response in zip(edits, responses, strict=True):
        answered = findings.expect(response, {200}, f"PUT {slug} {sorted(change)}")
        if answered is not None:
            acknowledged[slug].append((change, answered.json()["article"]["updatedAt"]))

    for original in created:
        slug = original["slug"]
        article = ok(await tally.send(http, "GET", f"/articles/{slug}"))["article"]
        for change, updated_at in acknowledged[slug]:
            ((key, value),) = change.items()
            want = sorted(value) if key == "tagList" else value
            if article[key] != want:
                findings.lost += 1
                findings.problem(f"{slug}: acknowledged {key}={want!r} lost, now {article[key]!r}")
            if article["updatedAt"] < updated_at:
                findings.problem(
                    f"{slug}: updatedAt {article['updatedAt']} < acknowledged {updated_at}"
                )
        if article["createdAt"] != original["createdAt"]:
            findings.problem(f"{slug}: createdAt changed")

    await findings.finish(extra=f", {trials} trials x 3 concurrent PUTs")


async def test_comments_racing_article_delete(
    live_server: LiveServer, http: httpx.AsyncClient, findings: Findings
) -> None:
    """Commenters comment on two articles at once while the author deletes one of them; the
    deleted one keeps no comment anywhere, the other lists exactly the acknowledged ones."""
    backend = live_server.backend
    prefix = unique()
    commenters = await register_many(http, prefix, scaled(12, backend, floor=8))
    trials = scaled(6, backend, floor=3)
    authors = [await register(http, f"{prefix}author{n}") for n in range(trials)]
    doomed = [await create_article(http, a, f"Doomed {prefix} {n}") for n, a in enumerate(authors)]
    kept = [await create_article(http, a, f"Kept {prefix} {n}") for n, a in enumerate(authors)]
    tally = findings.tally

    def comment(user: Account, slug: str) -> Awaitable[httpx.Response]:
        body = {"comment": {"body": f"from {user.username}"}}
        return tally.send(
            http, "POST", f"/articles/{slug}/comments", json=body, headers=user.headers
        )

    async def delete_later(author: Account, slug: str) -> httpx.Response:
        await asyncio.sleep(random.uniform(0, 0.05))  # somewhere among the comments
        return await tally.send(http, "DELETE", f"/articles/{slug}", headers=author.headers)

    calls: list[Awaitable[httpx.Response]] = []
    for author, gone, stays in zip(authors, doomed, kept, strict=True):
        calls.append(delete_later(author, gone["slug"]))
        for user in commenters:
            calls += [comment(user, gone["slug"]), comment(user, stays["slug"])]
    responses = iter(await tally.race(*calls))

    posted_on_doomed: list[tuple[str, Account, int]] = []
    for gone, stays in zip(doomed, kept, strict=True):
        findings.expect(next(responses), {204}, f"DELETE {gone['slug']}")
        kept_ids = set()
        for user in commenters:
            on_gone = findings.expect(next(responses), {201, 404}, f"comment on {gone['slug']}")
            if on_gone is not None and on_gone.status_code == 201:
                posted_on_doomed.append((gone["slug"], user, on_gone.json()["comment"]["id"]))
            on_kept = findings.expect(next(responses), {201}, f"comment on {stays['slug']}")
            if on_kept is not None:
                kept_ids.add(on_kept.json()["comment"]["id"])
        listed = ok(await tally.send(http, "GET", f"/articles/{stays['slug']}/comments"))
        listed_ids = {c["id"] for c in listed["comments"]}
        if listed_ids != kept_ids:
            findings.lost += len(kept_ids - listed_ids)
            findings.problem(
                f"{stays['slug']}: missing {sorted(kept_ids - listed_ids)}, "
                f"unexpected {sorted(listed_ids - kept_ids)}"
            )
        for path in (f"/articles/{gone['slug']}", f"/articles/{gone['slug']}/comments"):
            findings.expect(await tally.send(http, "GET", path), {404}, f"GET {path} after delete")

    # The same title again gets the same slug: none of the old comments may come with it.
    for author, gone in zip(authors, doomed, strict=True):
        again = await create_article(http, author, gone["title"])
        if again["slug"] != gone["slug"]:
            findings.problem(f"re-created {gone['title']!r} got {again['slug']}")
        listed = ok(await tally.send(http, "GET", f"/articles/{again['slug']}/comments"))
        if listed["comments"]:
            findings.problem(f"re-created {again['slug']} shows old comments {listed['comments']}")
    for slug, user, comment_id in posted_on_doomed[:20]:
        response = await tally.send(
            http, "DELETE", f"/articles/{slug}/comments/{comment_id}", headers=user.headers
        )
        findings.expect(response, {404}, f"old comment {comment_id} via the re-created {slug}")

    await findings.finish(
        extra=f", {trials} deletes racing {len(commenters) * 2 * trials} comments, "
        f"{len(posted_on_doomed)} acknowledged on deleted articles"
    )


async def test_author_and_intruders_race(
    live_server: LiveServer, http: httpx.AsyncClient, findings: Findings
) -> None:
    """At once: the author edits (and in half the trials deletes) the article, other users try
    to edit and delete it and its comment, the commenter deletes the comment. Only authors'
    writes take effect; nobody else ever gets a 2xx for a write."""
    backend = live_server.backend
    prefix = unique()
    intruders = await register_many(http, prefix, 3)
    commenter = await register(http, f"{prefix}commenter")
    trials = scaled(10, backend, floor=4)
    authors = [await register(http, f"{prefix}author{n}") for n in range(trials)]
    tally = findings.tally
    intruder_body = "written by an intruder"

    async def trial(number: int, author: Account) -> None:
        article = await create_article(http, author, f"Contested {prefix} {number}")
        slug = article["slug"]
        comment_id = (await add_comment(http, commenter, slug))["id"]
        deleting = number % 2 == 0

        def edit(who: Account, body: str) -> Awaitable[httpx.Response]:
            change = {"article": {"body": body}}
            return tally.send(http, "PUT", f"/articles/{slug}", json=change, headers=who.headers)

        comment_url = f"/articles/{slug}/comments/{comment_id}"
        calls: list[tuple[str, Awaitable[httpx.Response], set[int]]] = []
        gone = {404} if deleting else set()
        for n in range(2):
            calls.append((f"author edit {n}", edit(author, f"author body {n}"), {200} | gone))
        for intruder in intruders:
            calls += [
                ("intruder edit", edit(intruder, intruder_body), {403} | gone),
                (
                    "intruder delete",
                    tally.send(http, "DELETE", f"/articles/{slug}", headers=intruder.headers),
                    {403} | gone,
                ),
                (
                    "intruder deletes comment",
                    tally.send(http, "DELETE", comment_url, headers=intruder.headers),
                    {403, 404},
                ),
            ]
        calls.append(
            (
                "article author deletes the comment",
                tally.send(http, "DELETE", comment_url, headers=author.headers),
                {403, 404},
            )
        )
        calls.append(
            (
                "commenter deletes comment",
                tally.send(http, "DELETE", comment_url, headers=commenter.headers),
                {204} | gone,
            )
        )
        if deleting:
            calls.append(
                (
                    "author delete",
                    tally.send(http, "DELETE", f"/articles/{slug}", headers=author.headers),
                    {204},
                )
            )
        responses = await tally.race(*(call for _, call, _ in calls))
        author_bodies = set()
        for (what, _, statuses), response in zip(calls, responses, strict=True):
            answered = findings.expect(response, statuses, f"{slug}: {what}")
            if (
                answered is not None
                and what.startswith("author edit")
                and answered.status_code == 200
            ):
                author_bodies.add(answered.json()["article"]["body"])
        shown = await tally.send(http, "GET", f"/articles/{slug}")
        if deleting:
            findings.expect(shown, {404}, f"{slug} after its author deleted it")
            return
        body = ok(shown)["article"]["body"]
        if body not in author_bodies:
            findings.problem(f"{slug}: body {body!r} is none of the author's {author_bodies}")
        comments = ok(await tally.send(http, "GET", f"/articles/{slug}/comments"))["comments"]
        if comments:
            findings.problem(f"{slug}: the commenter deleted the comment, still listed")

    await asyncio.gather(*(trial(n, a) for n, a in enumerate(authors)))
    await findings.finish(extra=f", {trials} contested articles, {len(intruders)} intruders")
