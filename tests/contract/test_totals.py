"""Totals stay exact through every write: each list's ``total``, each article's
``favorites_count`` and the tag ranking agree with the rows themselves.

Stores may keep these as counters beside the data (so a list never counts its matches);
these tests change the data every way the ports allow and then compare each total with what
paging through the whole list actually finds.
"""

from __future__ import annotations

from broadsheet.domain.models import (
    ArticleChanges,
    ArticleFilter,
    ArticleSummary,
    NewArticle,
    Page,
    User,
)
from broadsheet.domain.ports import Storage
from tests import factories

EVERYTHING = 1000  # larger than any list here: one page holds every match


async def _find(storage: Storage, filters: ArticleFilter, *, limit: int = EVERYTHING,
                offset: int = 0) -> Page[ArticleSummary]:  # fmt: skip
    async with storage.unit_of_work() as uow:
        return await uow.articles.find(filters, viewer_id=None, limit=limit, offset=offset)


async def _feed(storage: Storage, reader: User, *, limit: int = EVERYTHING) -> Page[ArticleSummary]:
    async with storage.unit_of_work() as uow:
        return await uow.articles.feed(viewer_id=reader.id, limit=limit, offset=0)


async def _assert_totals(
    storage: Storage, expected: dict[ArticleFilter, list[str]], readers: dict[str, User]
) -> None:
    """Every filter's total equals its matches (also on a short page and past the end)."""
    for filters, slugs in expected.items():
        whole = await _find(storage, filters)
        assert sorted(item.slug for item in whole.items) == sorted(slugs), filters
        assert whole.total == len(slugs), filters
        assert (await _find(storage, filters, limit=1)).total == len(slugs), filters
        assert (await _find(storage, filters, limit=1, offset=len(slugs) + 5)).total == len(
            slugs
        ), filters
    for name, reader in readers.items():
        feed = await _feed(storage, reader)
        assert feed.total == len(feed.items), name
        assert (await _feed(storage, reader, limit=1)).total == len(feed.items), name


async def test_totals_follow_creates_tag_edits_favorites_and_deletes(storage: Storage) -> None:
    ann = await factories.user(storage, username="ann")
    bob = await factories.user(storage, username="bob")
    cy = await factories.user(storage, username="cy")
    first = await factories.article(storage, author=ann, tags=["a", "b"])
    second = await factories.article(storage, author=ann, tags=["b"])
    third = await factories.article(storage, author=bob, tags=["c"])
    await factories.follow(storage, follower=cy, followee=ann)
    await factories.follow(storage, follower=cy, followee=bob)
    await factories.follow(storage, follower=bob, followee=ann)
    for fan, article in [(cy, first), (cy, third), (bob, first), (ann, third)]:
        await factories.favorite(storage, user=fan, article=article)
    readers = {"ann": ann, "bob": bob, "cy": cy}

    await _assert_totals(
        storage,
        {
            ArticleFilter(): [first.slug, second.slug, third.slug],
            ArticleFilter(tag="a"): [first.slug],
            ArticleFilter(tag="b"): [first.slug, second.slug],
            ArticleFilter(tag="c"): [third.slug],
            ArticleFilter(author="ann"): [first.slug, second.slug],
            ArticleFilter(author="bob"): [third.slug],
            ArticleFilter(author="cy"): [],
            ArticleFilter(favorited_by="cy"): [first.slug, third.slug],
            ArticleFilter(favorited_by="bob"): [first.slug],
            ArticleFilter(favorited_by="ann"): [third.slug],
            ArticleFilter(tag="b", author="ann"): [first.slug, second.slug],
            ArticleFilter(tag="a", favorited_by="bob"): [first.slug],
        },
        readers,
    )
    assert (await _feed(storage, cy)).total == 3
    assert (await _feed(storage, bob)).total == 2

    async with storage.unit_of_work() as uow:
        await uow.articles.update(
            second, ArticleChanges(tags=("a", "c")), updated_at=factories.later()
        )
        await uow.articles.delete(first.id)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        await uow.favorites.remove(user_id=ann.id, article_id=third.id)
        await uow.favorites.remove(user_id=ann.id, article_id=third.id)  # idempotent: once
        await uow.favorites.add(user_id=bob.id, article_id=second.id, at=factories.later())
        await uow.favorites.add(
            user_id=bob.id, article_id=second.id, at=factories.later()
        )  # idempotent: once
        await uow.commit()

    await _assert_totals(
        storage,
        {
            ArticleFilter(): [second.slug, third.slug],
            ArticleFilter(tag="a"): [second.slug],
            ArticleFilter(tag="b"): [],
            ArticleFilter(tag="c"): [second.slug, third.slug],
            ArticleFilter(author="ann"): [second.slug],
            ArticleFilter(author="bob"): [third.slug],
            ArticleFilter(favorited_by="cy"): [third.slug],
            ArticleFilter(favorited_by="bob"): [second.slug],
            ArticleFilter(favorited_by="ann"): [],
        },
        readers,
    )
    assert (await _feed(storage, cy)).total == 2
    assert (await _feed(storage, bob)).total == 1
    async with storage.unit_of_work() as uow:
        assert await uow.tags.popular() == ["c", "a"]
        counts = {
            slug: view.favorites_count
            for slug in (second.slug, third.slug)
            if (view := await uow.articles.view(slug, viewer_id=None)) is not None
        }
    assert counts == {second.slug: 1, third.slug: 1}


async def test_a_rolled_back_write_changes_no_total(transactional_storage: Storage) -> None:
    storage = transactional_storage
    ann = await factories.user(storage, username="ann")
    fan = await factories.user(storage, username="fan")
    kept = await factories.article(storage, author=ann, tags=["t"])

    async with storage.unit_of_work() as uow:
        await uow.articles.add(
            NewArticle(
                slug="never-kept",
                title="Never kept",
                description="description",
                body="body",
                tags=("t", "u"),
                author_id=ann.id,
                created_at=factories.later(),
            )
        )
        await uow.favorites.add(user_id=fan.id, article_id=kept.id, at=factories.later())
        await uow.articles.delete(kept.id)
        # no commit: everything above is undone

    await _assert_totals(
        storage,
        {
            ArticleFilter(): [kept.slug],
            ArticleFilter(tag="t"): [kept.slug],
            ArticleFilter(tag="u"): [],
            ArticleFilter(author="ann"): [kept.slug],
            ArticleFilter(favorited_by="fan"): [],
        },
        {"fan": fan},
    )
    async with storage.unit_of_work() as uow:
        assert await uow.tags.popular() == ["t"]


async def test_the_feed_total_follows_follows_and_unfollows(storage: Storage) -> None:
    reader = await factories.user(storage, username="reader")
    ann = await factories.user(storage, username="ann")
    bob = await factories.user(storage, username="bob")
    for _ in range(3):
        await factories.article(storage, author=ann)
    await factories.article(storage, author=bob)

    await factories.follow(storage, follower=reader, followee=ann)
    assert (await _feed(storage, reader, limit=1)).total == 3
    await factories.follow(storage, follower=reader, followee=bob)
    assert (await _feed(storage, reader, limit=1)).total == 4
    async with storage.unit_of_work() as uow:
        await uow.follows.remove(follower_id=reader.id, followee_id=ann.id)
        await uow.commit()
    assert (await _feed(storage, reader, limit=1)).total == 1
