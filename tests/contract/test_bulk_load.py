"""``Storage.bulk_loader``: a site written in bulk reads, through the ordinary ports and use
cases, exactly as it was generated (lists, totals, favorites, the feed, tags, follows, comments,
logging in), the integrity check finds nothing, and the API carries on with fresh ids.

The site is small but cut into chunks of a few articles, so every chunk boundary the
generator and the loaders handle (comment ids run on across chunks) is crossed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from broadsheet.domain import search
from broadsheet.domain.errors import StoreNotReady
from broadsheet.domain.models import (
    ArticleFilter,
    ArticleRecord,
    ArticleSummary,
    Comment,
    Page,
    UserRecord,
)
from broadsheet.domain.ports import Storage
from broadsheet.ratelimit import NoRateLimits
from broadsheet.security import Argon2Hasher, JwtCodec
from broadsheet.seed import DEMO_PASSWORD, Plan, Site, seed
from broadsheet.services import articles, comments, users
from broadsheet.storage.mongo import MongoStorage
from broadsheet.storage.mongo import migrations as mongo_migrations
from broadsheet.storage.sql import SqlStorage
from tests import factories
from tests.conftest import BACKENDS, empty_storage

EVERYTHING = 1000  # more than the site has: one page holds every match
NOW = datetime.now(UTC)


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture(params=[b for b in BACKENDS if b != "memory"])
async def schema_storage(
    request: pytest.FixtureRequest, database_urls: dict[str, str]
) -> AsyncIterator[Storage]:
    """An empty store of each backend that has a schema (the in-memory one has none)."""
    async with empty_storage(database_urls[str(request.param)]) as store:
        yield store


@pytest.fixture
def hasher() -> Iterator[Argon2Hasher]:
    cheap = Argon2Hasher(time_cost=1, memory_kib=1024, concurrency=1)
    yield cheap
    cheap.close()


@dataclass
class _Generated:
    """The site as the generator made it, indexed the way the checks ask."""

    users: dict[int, UserRecord] = field(default_factory=dict)
    articles: dict[int, ArticleRecord] = field(default_factory=dict)
    follows: set[tuple[int, int]] = field(default_factory=set)
    fans: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    comments: dict[int, list[Comment]] = field(default_factory=lambda: defaultdict(list))

    def slugs(self, wanted: set[int] | None = None) -> list[str]:
        """Newest first, ties by newest id, as every list orders."""
        chosen = [a for a in self.articles.values() if wanted is None or a.id in wanted]
        return [a.slug for a in sorted(chosen, key=lambda a: (a.created_at, a.id), reverse=True)]


def _generated(site: Site) -> _Generated:
    generated = _Generated()
    for users_chunk in site.users("unused"):
        generated.users.update((u.id, u) for u in users_chunk)
    for follows in site.follows():
        generated.follows.update((f.follower_id, f.followee_id) for f in follows)
    for index in range(site.chunks):
        chunk = site.chunk(index)
        generated.articles.update((a.id, a) for a in chunk.articles)
        for favorite in chunk.favorites:
            generated.fans[favorite.article_id].add(favorite.user_id)
        for comment in chunk.comments:
            generated.comments[comment.article_id].append(comment)
    return generated


@pytest.fixture
async def seeded(storage: Storage, hasher: Argon2Hasher) -> _Generated:
    site = Site(Plan.of(articles=45, users=20), seed=11, now=NOW, chunk=7, user_chunk=6)
    site.count(lambda _: None)
    async with storage.bulk_loader() as loader:
        written = await seed(loader, hasher, site, lambda _: None)
    assert 20 in written.values()  # the users, whatever the store calls them
    return _generated(site)


async def _find(storage: Storage, filters: ArticleFilter) -> Page[ArticleSummary]:
    async with storage.unit_of_work() as uow:
        return await uow.articles.find(filters, viewer_id=None, limit=EVERYTHING, offset=0)


async def test_lists_and_their_totals_are_the_generated_ones(
    storage: Storage, seeded: _Generated
) -> None:
    everything = await _find(storage, ArticleFilter())
    assert [item.slug for item in everything.items] == seeded.slugs()
    assert everything.total == len(seeded.articles) == 45
    by_slug = {a.slug: a for a in seeded.articles.values()}
    for item in everything.items:
        article = by_slug[item.slug]
        assert item.favorites_count == len(seeded.fans[article.id]), item.slug
        assert item.tags == article.tags
        assert item.created_at == article.created_at
        assert item.author.username == seeded.users[article.author_id].username

    for user in seeded.users.values():
        wrote = {a.id for a in seeded.articles.values() if a.author_id == user.id}
        page = await _find(storage, ArticleFilter(author=user.username))
        assert [i.slug for i in page.items] == seeded.slugs(wrote), user.username
        assert page.total == len(wrote) == user.articles_count
        liked = {a for a, fans in seeded.fans.items() if user.id in fans}
        page = await _find(storage, ArticleFilter(favorited_by=user.username))
        assert [i.slug for i in page.items] == seeded.slugs(liked), user.username
        assert page.total == len(liked) == user.favorites_count


async def test_tags_rank_and_filter_as_generated(storage: Storage, seeded: _Generated) -> None:
    tagged: dict[str, set[int]] = defaultdict(set)
    for article in seeded.articles.values():
        for tag in article.tags:
            tagged[tag].add(article.id)

    async with storage.unit_of_work() as uow:
        popular = await uow.tags.popular()

    assert popular == sorted(tagged, key=lambda tag: (-len(tagged[tag]), tag))
    for tag, ids in tagged.items():
        page = await _find(storage, ArticleFilter(tag=tag))
        assert [i.slug for i in page.items] == seeded.slugs(ids), tag
        assert page.total == len(ids)


async def test_every_loaded_article_is_found_by_its_words(
    storage: Storage, seeded: _Generated
) -> None:
    """The loader writes the search index too: each title's words find exactly the articles
    whose search terms match them (the domain's own reference, ``search.matches``)."""
    for article in list(seeded.articles.values())[:8]:
        query = search.parse(article.title)
        expected = {
            a.slug
            for a in seeded.articles.values()
            if search.matches(query, search.document_terms(a.title, a.description, a.body))
        }
        async with storage.unit_of_work() as uow:
            page = await uow.articles.search(query, viewer_id=None, limit=EVERYTHING, offset=0)
        assert {item.slug for item in page.items} == expected, article.title
        assert article.slug in expected
        assert page.total == len(expected)


async def test_feeds_follows_and_favorited_flags_are_each_users(
    storage: Storage, seeded: _Generated
) -> None:
    for reader in seeded.users.values():
        followed = {b for a, b in seeded.follows if a == reader.id}
        assert followed, f"{reader.username} follows no one"
        assert reader.id not in followed
        async with storage.unit_of_work() as uow:
            feed = await uow.articles.feed(viewer_id=reader.id, limit=EVERYTHING, offset=0)
            profiles = {
                u.username: await uow.users.profile(u.username, viewer_id=reader.id)
                for u in seeded.users.values()
            }
        wanted = {a.id for a in seeded.articles.values() if a.author_id in followed}
        assert wanted, f"{reader.username}'s feed is empty"
        assert [i.slug for i in feed.items] == seeded.slugs(wanted), reader.username
        assert feed.total == len(wanted)
        slugs = {a.slug: a.id for a in seeded.articles.values()}
        for item in feed.items:
            assert item.author.following
            assert item.favorited == (reader.id in seeded.fans[slugs[item.slug]])
        following = {name for name, p in profiles.items() if p is not None and p.following}
        assert following == {seeded.users[f].username for f in followed}


async def test_comments_come_back_oldest_first(storage: Storage, seeded: _Generated) -> None:
    assert sum(map(len, seeded.comments.values())) > 0
    async with storage.unit_of_work() as uow:
        for article in seeded.articles.values():
            listed = await uow.comments.list_for(article.id, viewer_id=None)
            expected = sorted(seeded.comments[article.id], key=lambda c: (c.created_at, c.id))
            assert [(c.id, c.body, c.created_at) for c in listed] == [
                (c.id, c.body, c.created_at) for c in expected
            ]
            assert [c.author.username for c in listed] == [
                seeded.users[c.author_id].username for c in expected
            ]


async def test_ada_logs_in_and_the_check_finds_nothing(
    storage: Storage, seeded: _Generated, hasher: Argon2Hasher
) -> None:
    signed_in = await users.login(
        storage.unit_of_work(),
        hasher=hasher,
        tokens=JwtCodec("a-test-secret-of-32-characters-or-more", ttl=timedelta(minutes=5)),
        limiter=NoRateLimits(),
        email="ada@example.com",
        password=DEMO_PASSWORD,
    )

    assert signed_in.user.id == 1
    assert signed_in.user.username == "ada"
    assert await storage.check(repair=False) == []


async def test_the_api_carries_on_with_fresh_ids(
    storage: Storage, seeded: _Generated, hasher: Argon2Hasher
) -> None:
    tokens = JwtCodec("a-test-secret-of-32-characters-or-more", ttl=timedelta(minutes=5))
    newcomer = await users.register(
        storage.unit_of_work(),
        hasher=hasher,
        tokens=tokens,
        username="newcomer",
        email="newcomer@example.com",
        password="a long password",
    )
    written = await articles.create(
        storage.unit_of_work(),
        clock=_Clock(),
        author_id=newcomer.user.id,
        title="Written after the seed",
        description="d",
        body="b",
        tags=["databases", "fresh"],
    )
    said = await comments.add(
        storage.unit_of_work(), clock=_Clock(), slug=written.slug, viewer_id=1, body="Welcome."
    )

    async with storage.unit_of_work() as uow:
        stored = await uow.articles.get_by_slug(written.slug)
    assert newcomer.user.id > max(seeded.users)
    assert stored is not None
    assert stored.id > max(seeded.articles)
    assert said.id > max(c.id for cs in seeded.comments.values() for c in cs)
    everything = await _find(storage, ArticleFilter())
    assert everything.total == len(seeded.articles) + 1
    assert everything.items[0].slug == written.slug
    assert await storage.check(repair=False) == []


async def test_a_store_with_users_is_refused(storage: Storage) -> None:
    await factories.user(storage)

    with pytest.raises(StoreNotReady, match="already has users"):
        async with storage.bulk_loader():
            pass


async def test_a_store_whose_schema_is_behind_is_refused(schema_storage: Storage) -> None:
    """The loader writes the newest schema's columns and counters; an older schema would
    take some rows and silently miss the rest."""
    storage = schema_storage
    if isinstance(storage, SqlStorage):
        await storage.downgrade_to("-1")
    else:
        assert isinstance(storage, MongoStorage)
        newest, _ = mongo_migrations.STEPS[-1]
        await storage.database.migrations.delete_one({"_id": newest})
    try:
        with pytest.raises(StoreNotReady, match="schema is behind"):
            async with storage.bulk_loader():
                pass
    finally:
        await storage.migrate()
