"""Crash battery: ``kill -9`` the server under a stream of writes, restart, and audit.

What it proves, on SQLite, PostgreSQL and MariaDB: writers create articles with tags, retag
and delete them, comment, favorite and unfavorite, all at once, while the whole server process
group (supervisor and both workers) is SIGKILLed at a random moment, several rounds running;
after each restart on the same database
- every acknowledged write is there: each acknowledged article with exactly its acknowledged
  tags, each acknowledged comment, favorite and unfavorite;
- nothing is half-written: an article exists with all of one write's tags or not at all
  (never without its tags, never half-retagged), a write whose answer was lost by the crash
  either happened whole or not at all, nothing appears that nobody wrote;
- counters equal the ground truth (``favoritesCount`` is the users who list it as favorited),
  no row points at nothing, and the server logs no error.

Figures (writes acknowledged, found, lost, in doubt) are printed in the run's summary.
MongoDB is not in this battery: a crash of the *application* leaves a replica set's
transactions atomic, and a standalone server's documented crash window (a favorite written
before its counter) is by design.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
import pytest

from tests.api.helpers import Account, ok, register
from tests.live_server import (
    LIVE_BACKENDS,
    SQL_BACKENDS,
    LiveServer,
    Tally,
    integrity_problems,
    report,
    scaled,
    serving,
    unique,
)

CRASH_BACKENDS = [b for b in LIVE_BACKENDS if b in SQL_BACKENDS]

Tags = tuple[str, ...]
GONE: Tags | None = None  # the state of an article that does not exist
T = TypeVar("T")


@pytest.fixture(scope="module", params=CRASH_BACKENDS)
def live_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    database_urls: dict[str, str],
) -> Iterator[LiveServer]:
    with serving(str(request.param), tmp_path_factory.mktemp("crash")) as server:
        yield server


@dataclass
class Fact(Generic[T]):
    """One thing the client knows: the value its last acknowledged write left, and the value
    of a write whose answer the crash swallowed (either may be true after the restart)."""

    known: T
    pending: list[T] = field(default_factory=list)

    @property
    def allowed(self) -> list[T]:
        return [self.known, *self.pending]

    @property
    def settled(self) -> bool:
        return not self.pending

    def sending(self, value: T) -> None:
        self.pending = [value]

    def acknowledged(self, value: T) -> None:
        self.known, self.pending = value, []

    def refused(self) -> None:
        self.pending = []


@dataclass
class ArticleRecord:
    slug: str
    author: str
    tags: Fact[Tags | None]  # GONE when it does not exist
    comments: dict[str, Fact[bool]] = field(default_factory=dict)  # by body: stored or not


@dataclass
class Ledger:
    """Ground truth from the client's side of every write."""

    articles: dict[str, ArticleRecord] = field(default_factory=dict)  # by title
    favorites: dict[tuple[str, str], Fact[bool]] = field(default_factory=dict)  # (user, slug)
    acknowledged: int = 0
    in_doubt: int = 0
    problems: list[str] = field(default_factory=list)


class Writer:
    """One user writing in a loop, one request after another, until the server dies. Each
    write is entered in the ledger as pending before it is sent."""

    def __init__(self, account: Account, ledger: Ledger, tally: Tally, prefix: str) -> None:
        self.account = account
        self.ledger = ledger
        self.tally = tally
        self.prefix = prefix
        self.made = 0
        self.http: httpx.AsyncClient | None = None  # this round's client, set by run()

    async def run(self, http: httpx.AsyncClient, stop: asyncio.Event) -> None:
        self.http = http
        while not stop.is_set():
            try:
                await self.step()
            except httpx.TransportError:
                self.ledger.in_doubt += 1  # left pending: the audit finds out
                return

    async def step(self) -> None:
        articles = list(self.ledger.articles.values())
        mine = [r for r in articles if r.author == self.account.username and r.tags.known]
        live = [r for r in articles if r.slug and r.tags.known is not GONE]
        roll = random.random()
        if roll < 0.3 or not live:
            await self.create()
        elif roll < 0.45 and mine:
            await self.retag(random.choice(mine))
        elif roll < 0.5 and mine:
            await self.delete(random.choice(mine))
        elif roll < 0.75:
            await self.comment(random.choice(live))
        else:
            await self.favorite(random.choice(live), on=random.random() < 0.7)

    async def _send(
        self, fact: Fact[T], value: T, statuses: set[int], method: str, url: str, **options: Any
    ) -> httpx.Response | None:
        """Send one write; acknowledged (the first of ``statuses``) sets ``fact`` to ``value``,
        another expected status leaves it as it was. None when it was not acknowledged."""
        assert self.http is not None
        fact.sending(value)
        response = await self.tally.send(
            self.http, method, url, headers=self.account.headers, **options
        )
        if response.status_code not in statuses:
            self.ledger.problems.append(
                f"{method} {url}: {response.status_code} {response.text[:200]}"
            )
        if response.status_code == min(statuses):
            fact.acknowledged(value)
            self.ledger.acknowledged += 1
            return response
        fact.refused()
        return None

    async def create(self) -> None:
        self.made += 1
        title = f"Crash {self.prefix} {self.account.username} {self.made}"
        tags = tuple(sorted({f"{self.made}-a", f"{self.made}-b", f"w-{self.account.username}"}))
        record = ArticleRecord(slug="", author=self.account.username, tags=Fact(GONE))
        self.ledger.articles[title] = record
        fields = {"title": title, "description": "d", "body": "b", "tagList": list(tags)}
        response = await self._send(
            record.tags, tags, {201}, "POST", "/articles", json={"article": fields}
        )
        if response is not None:
            record.slug = response.json()["article"]["slug"]

    async def retag(self, record: ArticleRecord) -> None:
        self.made += 1
        tags = tuple(sorted({f"{self.made}-x", f"{self.made}-y", f"{self.made}-z"}))
        change = {"article": {"tagList": list(tags)}}
        await self._send(record.tags, tags, {200}, "PUT", f"/articles/{record.slug}", json=change)

    async def delete(self, record: ArticleRecord) -> None:
        await self._send(record.tags, GONE, {204}, "DELETE", f"/articles/{record.slug}")

    async def comment(self, record: ArticleRecord) -> None:
        self.made += 1
        body = f"comment {self.account.username} {self.made}"
        fact = record.comments[body] = Fact(False)
        # 404: its author deleted the article meanwhile
        await self._send(
            fact,
            True,
            {201, 404},
            "POST",
            f"/articles/{record.slug}/comments",
            json={"comment": {"body": body}},
        )

    async def favorite(self, record: ArticleRecord, *, on: bool) -> None:
        fact = self.ledger.favorites.setdefault((self.account.username, record.slug), Fact(False))
        method = "POST" if on else "DELETE"
        await self._send(fact, on, {200, 404}, method, f"/articles/{record.slug}/favorite")


async def audit(http: httpx.AsyncClient, ledger: Ledger, writers: list[Writer]) -> Counter[str]:
    """Compare the restarted server's answers with the ledger, then settle every fact to what
    was found, so the next round starts from known ground truth. Returns figures:
    acknowledged facts found and lost, writes in doubt found applied or not."""
    figures: Counter[str] = Counter()
    problems = ledger.problems

    def check(what: str, fact: Fact[T], found: T) -> None:
        if found not in fact.allowed:
            figures["acknowledged, lost"] += 1
            problems.append(f"{what}: found {found}, acknowledged {fact.known}")
        elif fact.settled:
            figures["acknowledged, found"] += 1
        else:
            applied = found == fact.pending[0]
            figures["in doubt, applied" if applied else "in doubt, not applied"] += 1
        fact.acknowledged(found)

    # What the server holds: every writer's articles (with tags and counts) and favorites,
    # then the comments of each article that exists; fetched a few at a time.
    gate = asyncio.Semaphore(10)

    async def listing(query: str) -> list[dict[str, Any]]:
        async with gate:
            return await all_articles(http, query)

    async def comment_bodies(slug: str) -> list[str]:
        async with gate:
            comments = ok(await http.get(f"/articles/{slug}/comments"))["comments"]
            return [c["body"] for c in comments]

    names = [w.account.username for w in writers]
    by_author = await asyncio.gather(*(listing(f"author={n}") for n in names))
    by_fan = await asyncio.gather(*(listing(f"favorited={n}") for n in names))
    stored = {a["title"]: a for articles in by_author for a in articles}
    bodies_of = dict(
        zip(
            stored,
            await asyncio.gather(*(comment_bodies(a["slug"]) for a in stored.values())),
            strict=True,
        )
    )

    for title in stored.keys() - ledger.articles.keys():
        problems.append(f"{stored[title]['slug']}: exists, nobody wrote it")
    for title, record in ledger.articles.items():
        article = stored.get(title)
        if article is not None:
            record.slug = article["slug"]
        check(
            f"article {title!r}",
            record.tags,
            GONE if article is None else tuple(article["tagList"]),
        )
        bodies = bodies_of.get(title, [])
        for body in bodies:
            if body not in record.comments:
                problems.append(f"{record.slug}: comment {body!r} nobody wrote")
        if len(bodies) != len(set(bodies)):
            problems.append(f"{record.slug}: a comment stored twice")
        for body, fact in record.comments.items():
            if article is None:
                fact.acknowledged(False)  # gone with it (the database check counts leftovers)
            else:
                check(f"comment {body!r} on {record.slug}", fact, body in bodies)

    existing = {a["slug"]: a for a in stored.values()}
    favorited_by: Counter[str] = Counter()
    for name, articles in zip(names, by_fan, strict=True):
        favorited_by.update(a["slug"] for a in articles)
        listed = {a["slug"] for a in articles}
        for (user, slug), fact in ledger.favorites.items():
            if user != name:
                continue
            if slug in existing:
                check(f"{user} favorited {slug}", fact, slug in listed)
            else:
                fact.acknowledged(False)
    for slug, article in existing.items():
        if article["favoritesCount"] != favorited_by[slug]:
            problems.append(
                f"{slug}: favoritesCount {article['favoritesCount']}, "
                f"{favorited_by[slug]} users list it"
            )
    return figures


async def all_articles(http: httpx.AsyncClient, query: str) -> list[dict[str, Any]]:
    articles: list[dict[str, Any]] = []
    while True:
        page = ok(await http.get(f"/articles?{query}&limit=100&offset={len(articles)}"))
        articles += page["articles"]
        if not page["articles"] or len(articles) >= page["articlesCount"]:
            return articles


async def test_kill_9_under_writes(live_server: LiveServer) -> None:
    backend = live_server.backend
    rounds = scaled(2, backend, floor=2)
    prefix = unique()
    ledger = Ledger()
    tally = Tally()
    mark = live_server.log_mark()
    async with live_server.client() as http:
        accounts = [await register(http, f"{prefix}w{n}") for n in range(scaled(8, backend))]
    writers = [Writer(account, ledger, tally, prefix) for account in accounts]
    lost = doubt_applied = doubt_not_applied = 0
    last: Counter[str] = Counter()

    for _ in range(rounds):
        stop = asyncio.Event()
        async with live_server.client() as http:
            running = [asyncio.create_task(w.run(http, stop)) for w in writers]
            await asyncio.sleep(random.uniform(1.0, 2.5))  # writes in flight, all the time
            await asyncio.to_thread(live_server.kill)
            stop.set()
            await asyncio.gather(*running)
        await asyncio.to_thread(live_server.start)
        async with live_server.client(connections=10) as http:
            last = await audit(http, ledger, writers)
        lost += last["acknowledged, lost"]
        doubt_applied += last["in doubt, applied"]
        doubt_not_applied += last["in doubt, not applied"]
        for kind, count in (await integrity_problems(backend, live_server.database_url)).items():
            ledger.problems.append(f"database after restart: {count} {kind}")

    for line in live_server.log_errors(mark)[:10]:
        ledger.problems.append(f"server log: {line}")
    if tally.server_errors:
        ledger.problems.append(f"{tally.server_errors} responses were 5xx")
    summary = (
        f"test_kill_9_under_writes[{backend}]: {rounds} kills, {tally.summary()}; "
        f"writes acknowledged {ledger.acknowledged}; after the last restart "
        f"{last['acknowledged, found']} acknowledged facts found; lost {lost}; "
        f"in doubt {ledger.in_doubt} (applied {doubt_applied}, not applied {doubt_not_applied}); "
        f"problems {len(ledger.problems)}"
    )
    report("reliability", summary)
    assert not ledger.problems, summary + "\n" + "\n".join(ledger.problems[:25])
