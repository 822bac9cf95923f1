"""One site, loaded into every store, gives the same answers to every read beyond
RealWorld: search (the same articles and total; each engine ranks them its own way), tag
trends, trending articles, author figures, who-to-follow suggestions, follow paths, the
subscriptions and the feed with subscribed tags.

The reference is the in-memory store, a plain-Python reading of the rules: each store with a
schema is loaded with the same generated site (``broadsheet seed``'s generator, through each
store's bulk loader) and the same subscriptions, and every answer is compared with the
reference's. The other contract tests pin the answers to hand-worked examples; this one
shows the stores agree on data with the shape of a real site (Zipf-popular tags and places,
favorites spread over months, a follow graph with ties).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from broadsheet.domain import rules, search
from broadsheet.domain.models import Window
from broadsheet.domain.ports import Storage
from broadsheet.security import Argon2Hasher
from broadsheet.seed import PLACES, Plan, Site, seed, username
from broadsheet.storage.memory import MemoryStorage
from tests.conftest import BACKENDS, empty_storage

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PLAN = Plan.of(articles=160, users=40)
SEED = 5
EVERYTHING = 1000  # more than the site has: one page holds every match
READERS = range(1, 13)  # user ids that subscribe to tags and read their feeds
WINDOWS = (7, 30, 90)


@pytest.fixture(scope="module")
def hasher() -> Iterator[Argon2Hasher]:
    cheap = Argon2Hasher(time_cost=1, memory_kib=1024, concurrency=1)
    yield cheap
    cheap.close()


def _site() -> Site:
    site = Site(PLAN, seed=SEED, now=NOW, chunk=40, user_chunk=16)
    site.count(lambda _: None)
    return site


async def _load(store: Storage, hasher: Argon2Hasher) -> None:
    site = _site()
    async with store.bulk_loader() as loader:
        await seed(loader, hasher, site, lambda _: None)
    async with store.unit_of_work() as uow:
        for reader in READERS:
            # Each reader takes two tags, from the popular head and from the long tail.
            for tag in (site.tags[reader % 5], site.tags[-(reader % 7) - 1]):
                await uow.subscriptions.add(user_id=reader, tag=tag)
        await uow.commit()


def _queries() -> list[str]:
    """Words, phrases and prefixes: the seeder's places (Zipf-popular, so in many articles
    or in a few), stemmed words, word order in phrases, and queries that match nothing."""
    places = PLACES[:8]
    return [
        *places,
        f'"field notes from {places[0]}"',
        f'"from field notes {places[0]}"',
        f"{places[1][:3]}*",
        f"replicas {places[1]}",
        f"{places[2]} {places[3]}",
        "checkpoint snapshot",
        "zzzzqx",
    ]


async def _answers(store: Storage) -> dict[str, Any]:
    """Every answer, keyed by what was asked, in a form that compares across stores."""
    answers: dict[str, Any] = {}
    async with store.unit_of_work().read_only() as uow:
        for text in _queries():
            page = await uow.articles.search(
                search.parse(text), viewer_id=3, limit=EVERYTHING, offset=0
            )
            # The set, not the order: relevance is each engine's own.
            answers[f"search {text}"] = (
                page.total,
                sorted((item.slug, item.favorited, item.favorites_count) for item in page.items),
            )
        for days in WINDOWS:
            window = _window(days)
            answers[f"tag trends {days}d"] = await uow.analytics.tag_trends(window, limit=100)
            answers[f"trending {days}d"] = await uow.analytics.trending(
                window, viewer_id=2, limit=100
            )
        for number in range(0, PLAN.users, 3):
            name = username(number)
            answers[f"stats {name}"] = await uow.analytics.author_stats(
                name, viewer_id=1, top=rules.TOP_ARTICLES_OF_AUTHOR
            )
        for viewer in range(1, PLAN.users + 1, 2):
            answers[f"suggestions {viewer}"] = await uow.graph.suggestions(viewer, limit=100)
        for source, target in itertools.islice(
            itertools.permutations(range(1, PLAN.users + 1, 4), 2), 60
        ):
            for most in (1, 2, rules.MAX_PATH_FOLLOWS):
                answers[f"path {source}->{target} in {most}"] = await uow.graph.path(
                    source, target, max_follows=most
                )
        for reader in READERS:
            answers[f"subscriptions {reader}"] = await uow.subscriptions.of(reader)
            answers[f"feed with tags {reader}"] = await uow.articles.feed_with_tags(
                viewer_id=reader, limit=EVERYTHING, offset=0
            )
            answers[f"feed with tags {reader}, 2nd page"] = await uow.articles.feed_with_tags(
                viewer_id=reader, limit=7, offset=7
            )
    return answers


def _window(days: int) -> Window:
    return Window(start=NOW - timedelta(days=days), end=NOW)


@pytest.fixture
async def reference(hasher: Argon2Hasher) -> dict[str, Any]:
    store = MemoryStorage()
    await _load(store, hasher)
    return await _answers(store)


@pytest.fixture(params=[b for b in BACKENDS if b != "memory"])
def schema_url(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> str:
    return database_urls[str(request.param)]  # created here, outside any running event loop


@pytest.fixture
async def loaded(schema_url: str, hasher: Argon2Hasher) -> AsyncIterator[Storage]:
    async with empty_storage(schema_url) as store:
        await _load(store, hasher)
        yield store


async def test_every_store_answers_as_the_reference(
    loaded: Storage, reference: dict[str, Any]
) -> None:
    answers = await _answers(loaded)

    assert answers.keys() == reference.keys()
    differing = [key for key in reference if answers[key] != reference[key]]
    assert differing == [], f"first: {differing[0]}: {answers[differing[0]]!r}"


async def test_the_reference_is_not_trivial(reference: dict[str, Any]) -> None:
    """Each kind of answer has something in it, so the comparison above compares something."""

    def filled(prefix: str) -> int:
        return sum(1 for key, value in reference.items() if key.startswith(prefix) and value)

    searches = [v for k, v in reference.items() if k.startswith("search ")]
    assert sum(1 for total, _ in searches if total > 1) >= 5
    assert any(total == 0 for total, _ in searches)
    assert filled("tag trends") == len(WINDOWS)
    assert filled("trending") == len(WINDOWS)
    assert any(t.previous and t.articles for t in reference["tag trends 30d"])
    assert filled("suggestions") >= 10
    assert any(len(path) > 2 for k, path in reference.items() if k.startswith("path ") and path)
    assert any(path is None for k, path in reference.items() if k.startswith("path "))
    assert all(reference[f"feed with tags {r}"].total > 0 for r in READERS)
