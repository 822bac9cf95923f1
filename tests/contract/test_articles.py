"""The ``Articles`` port: writes, unique slugs, views, filters, ordering, paging and the feed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from broadsheet.domain import rules
from broadsheet.domain.errors import AlreadyExists, TransientConflict
from broadsheet.domain.models import (
    Article,
    ArticleChanges,
    ArticleFilter,
    ArticleSummary,
    NewArticle,
    Page,
    Profile,
    User,
)
from broadsheet.domain.ports import Storage
from tests import factories


def _new(author: User, slug: str, *, created_at: datetime | None = None) -> NewArticle:
    return NewArticle(
        slug=slug,
        title=slug.replace("-", " ").title(),
        description="description",
        body="body",
        tags=(),
        author_id=author.id,
        created_at=created_at or factories.later(),
    )


async def _find(
    storage: Storage,
    *,
    viewer: User | None = None,
    limit: int = 20,
    offset: int = 0,
    tag: str | None = None,
    author: str | None = None,
    favorited_by: str | None = None,
) -> Page[ArticleSummary]:
    filters = ArticleFilter(tag=tag, author=author, favorited_by=favorited_by)
    async with storage.unit_of_work() as uow:
        return await uow.articles.find(
            filters, viewer_id=viewer.id if viewer else None, limit=limit, offset=offset
        )


def _slugs(page: Page[ArticleSummary]) -> list[str]:
    return [item.slug for item in page.items]


async def test_add_stores_the_article(storage: Storage) -> None:
    jake = await factories.user(storage)
    created_at = factories.later()

    async with storage.unit_of_work() as uow:
        article = await uow.articles.add(
            NewArticle(
                slug="how-to-train-your-dragon",
                title="How to train your dragon",
                description="Ever wonder how?",
                body="You have to believe",
                tags=("dragons", "training"),
                author_id=jake.id,
                created_at=created_at,
            )
        )
        await uow.commit()

    assert isinstance(article.id, int)
    assert article == Article(
        id=article.id,
        slug="how-to-train-your-dragon",
        title="How to train your dragon",
        description="Ever wonder how?",
        body="You have to believe",
        tags=("dragons", "training"),
        author_id=jake.id,
        created_at=created_at,
        updated_at=created_at,
    )
    async with storage.unit_of_work() as uow:
        assert await uow.articles.get_by_slug("how-to-train-your-dragon") == article
        assert await uow.articles.get_by_slug("how-to-train-your") is None


async def test_tags_come_back_in_the_order_the_rules_give(storage: Storage) -> None:
    jake = await factories.user(storage)
    tags = rules.tags(["b", "Zeta", "alpha", "a-b", "ab", "Alpha", "émigré", "z"])

    article = await factories.article(storage, author=jake, tags=tags)

    async with storage.unit_of_work() as uow:
        stored = await uow.articles.get_by_slug(article.slug)
        view = await uow.articles.view(article.slug, viewer_id=None)
        page = await uow.articles.find(ArticleFilter(), viewer_id=None, limit=1, offset=0)
    assert stored is not None
    assert view is not None
    assert stored.tags == view.tags == page.items[0].tags == tags


async def test_an_article_without_tags(storage: Storage) -> None:
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake, tags=())

    async with storage.unit_of_work() as uow:
        stored = await uow.articles.get_by_slug(article.slug)
    assert stored is not None
    assert stored.tags == ()


async def test_taken_slug_raises_and_leaves_the_unit_of_work_usable(storage: Storage) -> None:
    jake = await factories.user(storage)
    await factories.article(storage, author=jake, slug="taken")

    async with storage.unit_of_work() as uow:
        before = await uow.articles.add(_new(jake, "before"))
        with pytest.raises(AlreadyExists) as raised:
            await uow.articles.add(_new(jake, "taken"))
        assert raised.value.field == "slug"
        retried = await uow.articles.add(_new(jake, "taken-2"))
        await uow.commit()

    async with storage.unit_of_work() as uow:
        assert await uow.articles.get_by_slug("before") == before
        assert await uow.articles.get_by_slug("taken-2") == retried
        taken = await uow.articles.get_by_slug("taken")
    assert taken is not None
    assert taken.id not in {before.id, retried.id}


async def test_update_overwrites_fields_and_tags(storage: Storage) -> None:
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake, slug="old", tags=["a", "b"])
    later = article.created_at + timedelta(seconds=5)
    changes = ArticleChanges(
        slug="new", title="New", description="new description", body="new body", tags=("b", "c")
    )
    changed = replace(
        article,
        slug="new",
        title="New",
        description="new description",
        body="new body",
        tags=("b", "c"),
        updated_at=later,
    )

    async with storage.unit_of_work() as uow:
        assert await uow.articles.update(article, changes, updated_at=later) == changed
        await uow.commit()

    async with storage.unit_of_work() as uow:
        assert await uow.articles.get_by_slug("new") == changed
        assert await uow.articles.get_by_slug("old") is None
        assert await uow.tags.popular() == ["b", "c"]


async def test_update_can_remove_every_tag(storage: Storage) -> None:
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake, tags=["a", "b"])

    async with storage.unit_of_work() as uow:
        await uow.articles.update(article, ArticleChanges(tags=()), updated_at=factories.later())
        await uow.commit()

    async with storage.unit_of_work() as uow:
        stored = await uow.articles.get_by_slug(article.slug)
        assert await uow.tags.popular() == []
    assert stored is not None
    assert stored.tags == ()


async def test_update_keeping_its_own_slug_is_not_a_conflict(storage: Storage) -> None:
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake, slug="mine")

    async with storage.unit_of_work() as uow:
        updated = await uow.articles.update(
            article, ArticleChanges(body="new body"), updated_at=factories.later()
        )
        await uow.commit()

    assert updated.slug == "mine"
    assert updated.body == "new body"


async def test_update_to_a_taken_slug_raises_and_leaves_the_unit_of_work_usable(
    storage: Storage,
) -> None:
    jake = await factories.user(storage)
    await factories.article(storage, author=jake, slug="taken")
    article = await factories.article(storage, author=jake, slug="mine")

    later = factories.later()
    async with storage.unit_of_work() as uow:
        with pytest.raises(AlreadyExists) as raised:
            await uow.articles.update(
                article, ArticleChanges(slug="taken", title="Taken"), updated_at=later
            )
        assert raised.value.field == "slug"
        await uow.articles.update(
            article, ArticleChanges(slug="taken-2", title="Taken"), updated_at=later
        )
        await uow.commit()

    async with storage.unit_of_work() as uow:
        assert await uow.articles.get_by_slug("mine") is None
        moved = await uow.articles.get_by_slug("taken-2")
        taken = await uow.articles.get_by_slug("taken")
    assert moved == replace(article, slug="taken-2", title="Taken", updated_at=later)
    assert taken is not None
    assert taken.id != article.id


async def test_delete_takes_comments_favorites_and_tags_with_it(storage: Storage) -> None:
    jake = await factories.user(storage, username="jake")
    fan = await factories.user(storage, username="fan")
    doomed = await factories.article(storage, author=jake, tags=["doomed", "shared"])
    kept = await factories.article(storage, author=jake, tags=["shared"])
    doomed_comment = await factories.comment(storage, article=doomed, author=fan)
    kept_comment = await factories.comment(storage, article=kept, author=fan)
    await factories.favorite(storage, user=fan, article=doomed)
    await factories.favorite(storage, user=fan, article=kept)

    async with storage.unit_of_work() as uow:
        await uow.articles.delete(doomed.id)
        await uow.commit()

    async with storage.unit_of_work() as uow:
        assert await uow.articles.get_by_slug(doomed.slug) is None
        assert await uow.articles.view(doomed.slug, viewer_id=None) is None
        assert await uow.comments.get(doomed_comment.id) is None
        assert await uow.comments.get(kept_comment.id) == kept_comment
        assert await uow.tags.popular() == ["shared"]
    favorites = await _find(storage, favorited_by="fan")
    assert _slugs(favorites) == [kept.slug]
    assert favorites.total == 1


async def test_view_of_an_unknown_slug_is_none(storage: Storage) -> None:
    async with storage.unit_of_work() as uow:
        assert await uow.articles.view("nothing", viewer_id=None) is None


async def test_view_is_relative_to_the_viewer(storage: Storage) -> None:
    jake = await factories.user(storage, username="jake", bio="bio", image="jake.png")
    fan = await factories.user(storage, username="fan")
    other_fan = await factories.user(storage, username="other")
    article = await factories.article(storage, author=jake, body="the body", tags=["t"])
    await factories.follow(storage, follower=fan, followee=jake)
    await factories.favorite(storage, user=fan, article=article)
    await factories.favorite(storage, user=other_fan, article=article)

    async with storage.unit_of_work() as uow:
        as_fan = await uow.articles.view(article.slug, viewer_id=fan.id)
        as_anonymous = await uow.articles.view(article.slug, viewer_id=None)
        as_author = await uow.articles.view(article.slug, viewer_id=jake.id)

    assert as_fan is not None
    assert (as_fan.slug, as_fan.title, as_fan.description, as_fan.body, as_fan.tags) == (
        article.slug,
        article.title,
        article.description,
        "the body",
        ("t",),
    )
    assert (as_fan.created_at, as_fan.updated_at) == (article.created_at, article.updated_at)
    assert (as_fan.favorited, as_fan.favorites_count) == (True, 2)
    assert as_fan.author == Profile(username="jake", bio="bio", image="jake.png", following=True)
    assert as_anonymous is not None
    assert (as_anonymous.favorited, as_anonymous.favorites_count) == (False, 2)
    assert as_anonymous.author.following is False
    assert as_author is not None
    assert (as_author.favorited, as_author.author.following) == (False, False)


async def test_find_lists_newest_first(storage: Storage) -> None:
    jake = await factories.user(storage)
    middle = await factories.article(storage, author=jake, created_at=factories.moment(20))
    newest = await factories.article(storage, author=jake, created_at=factories.moment(30))
    oldest = await factories.article(storage, author=jake, created_at=factories.moment(10))

    page = await _find(storage)

    assert _slugs(page) == [newest.slug, middle.slug, oldest.slug]
    assert page.total == 3


async def test_find_breaks_ties_by_newest_id(storage: Storage) -> None:
    jake = await factories.user(storage)
    same = factories.later()
    first = await factories.article(storage, author=jake, created_at=same)
    second = await factories.article(storage, author=jake, created_at=same)
    third = await factories.article(storage, author=jake, created_at=same)
    assert first.id < second.id < third.id

    whole = await _find(storage)
    pages = [await _find(storage, limit=1, offset=n) for n in range(3)]

    assert _slugs(whole) == [third.slug, second.slug, first.slug]
    assert [slug for page in pages for slug in _slugs(page)] == _slugs(whole)


async def test_find_pages_with_limit_and_offset_and_counts_every_match(storage: Storage) -> None:
    jake = await factories.user(storage)
    articles = [await factories.article(storage, author=jake) for _ in range(5)]
    newest_first = [a.slug for a in reversed(articles)]

    first = await _find(storage, limit=2, offset=0)
    middle = await _find(storage, limit=2, offset=2)
    last = await _find(storage, limit=2, offset=4)
    beyond = await _find(storage, limit=2, offset=10)

    assert (_slugs(first), first.total) == (newest_first[0:2], 5)
    assert (_slugs(middle), middle.total) == (newest_first[2:4], 5)
    assert (_slugs(last), last.total) == (newest_first[4:], 5)
    assert (_slugs(beyond), beyond.total) == ([], 5)


async def test_find_by_tag_is_exact(storage: Storage) -> None:
    jake = await factories.user(storage)
    dragons = await factories.article(storage, author=jake, tags=["dragons", "other"])
    await factories.article(storage, author=jake, tags=["Dragons"])
    await factories.article(storage, author=jake, tags=["dragon"])
    await factories.article(storage, author=jake, tags=["dragonslayer"])

    page = await _find(storage, tag="dragons")

    assert (_slugs(page), page.total) == ([dragons.slug], 1)


async def test_find_by_author_ignores_case_but_is_otherwise_exact(storage: Storage) -> None:
    jake = await factories.user(storage, username="Jake")
    jakeson = await factories.user(storage, username="jakeson")
    by_jake = [await factories.article(storage, author=jake) for _ in range(2)]
    await factories.article(storage, author=jakeson)

    page = await _find(storage, author="jAKE")

    assert _slugs(page) == [by_jake[1].slug, by_jake[0].slug]
    assert page.total == 2


async def test_find_by_author_or_fan_is_compatibility_normalised(storage: Storage) -> None:
    jake = await factories.user(storage, username="jake")
    fan = await factories.user(storage, username="fan")
    article = await factories.article(storage, author=jake)
    await factories.favorite(storage, user=fan, article=article)

    by_author = await _find(storage, author="\uff2aAKE")  # fullwidth J
    by_fan = await _find(storage, favorited_by="\uff46an")  # fullwidth f

    assert (_slugs(by_author), _slugs(by_fan)) == ([article.slug], [article.slug])


async def test_find_by_favoriting_user(storage: Storage) -> None:
    jake = await factories.user(storage, username="jake")
    fan = await factories.user(storage, username="Fan")
    liked = await factories.article(storage, author=jake)
    await factories.article(storage, author=jake)
    await factories.favorite(storage, user=fan, article=liked)
    await factories.favorite(storage, user=jake, article=liked)

    page = await _find(storage, favorited_by="fan")

    assert (_slugs(page), page.total) == ([liked.slug], 1)
    assert page.items[0].favorites_count == 2


async def test_find_combines_filters(storage: Storage) -> None:
    jake = await factories.user(storage, username="jake")
    jane = await factories.user(storage, username="jane")
    wanted = await factories.article(storage, author=jake, tags=["t"])
    await factories.article(storage, author=jake, tags=["u"])
    await factories.article(storage, author=jane, tags=["t"])
    not_favorited = await factories.article(storage, author=jake, tags=["t"])
    for article in (wanted, not_favorited):
        await factories.favorite(storage, user=jake, article=article)
    await factories.favorite(storage, user=jane, article=wanted)

    page = await _find(storage, tag="t", author="jake", favorited_by="jane")

    assert (_slugs(page), page.total) == ([wanted.slug], 1)


async def test_find_with_unknown_filter_values_is_empty(storage: Storage) -> None:
    jake = await factories.user(storage, username="jake")
    await factories.article(storage, author=jake, tags=["t"])

    for page in (
        await _find(storage, tag="missing"),
        await _find(storage, author="nobody"),
        await _find(storage, favorited_by="nobody"),
        await _find(storage, favorited_by="jake"),
    ):
        assert (page.items, page.total) == ((), 0)


async def test_find_fills_viewer_relative_fields(storage: Storage) -> None:
    jake = await factories.user(storage, username="jake")
    jane = await factories.user(storage, username="jane")
    viewer = await factories.user(storage, username="viewer")
    by_jake = await factories.article(storage, author=jake)
    by_jane = await factories.article(storage, author=jane)
    await factories.follow(storage, follower=viewer, followee=jake)
    await factories.favorite(storage, user=viewer, article=by_jane)
    await factories.favorite(storage, user=jake, article=by_jane)

    seen = {item.slug: item for item in (await _find(storage, viewer=viewer)).items}
    anonymous = {item.slug: item for item in (await _find(storage)).items}

    jakes, janes = seen[by_jake.slug], seen[by_jane.slug]
    assert (jakes.author.username, jakes.author.following) == ("jake", True)
    assert (jakes.favorited, jakes.favorites_count) == (False, 0)
    assert (janes.author.username, janes.author.following) == ("jane", False)
    assert (janes.favorited, janes.favorites_count) == (True, 2)
    assert [(a.favorited, a.author.following) for a in anonymous.values()] == [(False, False)] * 2
    assert anonymous[by_jane.slug].favorites_count == 2


async def test_feed_lists_articles_by_followed_users(storage: Storage) -> None:
    viewer = await factories.user(storage)
    jake = await factories.user(storage)
    jane = await factories.user(storage)
    stranger = await factories.user(storage)
    await factories.follow(storage, follower=viewer, followee=jake)
    await factories.follow(storage, follower=viewer, followee=jane)
    await factories.follow(storage, follower=stranger, followee=viewer)
    first = await factories.article(storage, author=jake)
    await factories.article(storage, author=stranger)
    await factories.article(storage, author=viewer)
    second = await factories.article(storage, author=jane)
    third = await factories.article(storage, author=jake)
    await factories.favorite(storage, user=viewer, article=second)

    async with storage.unit_of_work() as uow:
        page = await uow.articles.feed(viewer_id=viewer.id, limit=20, offset=0)
        second_page = await uow.articles.feed(viewer_id=viewer.id, limit=2, offset=2)

    assert _slugs(page) == [third.slug, second.slug, first.slug]
    assert page.total == 3
    assert all(item.author.following for item in page.items)
    assert [item.favorited for item in page.items] == [False, True, False]
    assert (_slugs(second_page), second_page.total) == ([first.slug], 3)


async def test_every_page_of_a_feed_is_its_slice_of_the_followed_authors_articles(
    storage: Storage,
) -> None:
    """A prolific author, a quiet one and one with nothing, articles sharing timestamps: a
    store that reads each author only as deep as the page reaches must still find every
    article of the page, in order, at every offset."""
    viewer, prolific, quiet, silent, stranger = [await factories.user(storage) for _ in range(5)]
    for followee in (prolific, quiet, silent):
        await factories.follow(storage, follower=viewer, followee=followee)
    start = factories.moment()
    moments = [start + timedelta(seconds=n // 3) for n in range(24)]  # three at each second
    written: list[tuple[datetime, int, str]] = []
    for number, moment in enumerate(moments):
        author = quiet if number % 8 == 0 else stranger if number % 5 == 0 else prolific
        article = await factories.article(storage, author=author, created_at=moment)
        if author is not stranger:
            written.append((article.created_at, article.id, article.slug))
    expected = [slug for _, _, slug in sorted(written, reverse=True)]

    pages = {}
    async with storage.unit_of_work() as uow:
        for limit in (1, 2, 5, 7):
            for offset in range(len(expected) + 2):
                page = await uow.articles.feed(viewer_id=viewer.id, limit=limit, offset=offset)
                pages[limit, offset] = (_slugs(page), page.total)

    for (limit, offset), got in pages.items():
        assert got == (expected[offset : offset + limit], len(expected)), (limit, offset)


async def test_feed_of_someone_following_nobody_is_empty(storage: Storage) -> None:
    viewer = await factories.user(storage)
    jake = await factories.user(storage)
    await factories.follow(storage, follower=jake, followee=viewer)
    await factories.article(storage, author=jake)

    async with storage.unit_of_work() as uow:
        page = await uow.articles.feed(viewer_id=viewer.id, limit=20, offset=0)

    assert (page.items, page.total) == ((), 0)


async def test_datetimes_come_back_aware_utc_and_equal(storage: Storage) -> None:
    jake = await factories.user(storage)
    plus_two = timezone(timedelta(hours=2))
    created_at = rules.timestamp(datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=plus_two))
    updated_at = rules.timestamp(datetime(2024, 3, 1, 0, 0, 1, 999999, tzinfo=UTC))
    article = await factories.article(storage, author=jake, created_at=created_at)
    async with storage.unit_of_work() as uow:
        await uow.articles.update(article, ArticleChanges(body="b"), updated_at=updated_at)
        await uow.commit()

    async with storage.unit_of_work() as uow:
        stored = await uow.articles.get_by_slug(article.slug)
        view = await uow.articles.view(article.slug, viewer_id=None)
        page = await uow.articles.find(ArticleFilter(), viewer_id=None, limit=1, offset=0)
    assert stored is not None
    assert view is not None
    for item in (stored, view, page.items[0]):
        assert (item.created_at, item.updated_at) == (created_at, updated_at)
        assert item.created_at.microsecond == 123000
        assert item.updated_at.microsecond == 999000
        for moment in (item.created_at, item.updated_at):
            assert moment.utcoffset() == timedelta(0)


async def test_update_of_a_version_edited_meanwhile_is_a_transient_conflict(
    storage: Storage,
) -> None:
    """Compare-and-set on ``updated_at``: an edit based on a stale read writes nothing."""
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake, tags=["a"])
    first = factories.later()
    async with storage.unit_of_work() as uow:
        await uow.articles.update(article, ArticleChanges(body="first"), updated_at=first)
        await uow.commit()

    async with storage.unit_of_work() as uow:
        with pytest.raises(TransientConflict):
            await uow.articles.update(
                article, ArticleChanges(tags=("b",), title="Stale"), updated_at=factories.later()
            )

    async with storage.unit_of_work() as uow:
        stored = await uow.articles.get_by_slug(article.slug)
    assert stored == replace(article, body="first", updated_at=first)


async def test_update_of_a_deleted_article_is_a_transient_conflict(storage: Storage) -> None:
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake)
    async with storage.unit_of_work() as uow:
        await uow.articles.delete(article.id)
        await uow.commit()

    async with storage.unit_of_work() as uow:
        with pytest.raises(TransientConflict):
            await uow.articles.update(
                article, ArticleChanges(body="late"), updated_at=factories.later()
            )


async def test_update_writes_only_the_tags_that_change(storage: Storage) -> None:
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake, tags=["keep", "drop"])
    later = factories.later()

    async with storage.unit_of_work() as uow:
        updated = await uow.articles.update(
            article, ArticleChanges(tags=("add", "keep")), updated_at=later
        )
        await uow.commit()

    assert updated == replace(article, tags=("add", "keep"), updated_at=later)
    async with storage.unit_of_work() as uow:
        assert await uow.articles.get_by_slug(article.slug) == updated
        assert await uow.tags.popular() == ["add", "keep"]
