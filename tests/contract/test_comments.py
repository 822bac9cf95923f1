"""The ``Comments`` port: store-assigned ids, oldest first, viewer-relative authors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from broadsheet.domain import rules
from broadsheet.domain.errors import NotFound
from broadsheet.domain.models import Comment, CommentView, Profile
from broadsheet.domain.ports import Storage
from tests import factories


async def test_add_assigns_an_id_and_stores_the_fields(storage: Storage) -> None:
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake)
    created_at = factories.later()

    async with storage.unit_of_work() as uow:
        comment = await uow.comments.add(
            article_id=article.id, author_id=jake.id, body="Nice!", created_at=created_at
        )
        await uow.commit()

    assert isinstance(comment.id, int)
    assert comment == Comment(
        id=comment.id,
        article_id=article.id,
        author_id=jake.id,
        body="Nice!",
        created_at=created_at,
        updated_at=created_at,
    )
    async with storage.unit_of_work() as uow:
        assert await uow.comments.get(comment.id) == comment
        assert await uow.comments.get(comment.id + 1000) is None


async def test_ids_are_distinct_across_articles(storage: Storage) -> None:
    jake = await factories.user(storage)
    first = await factories.article(storage, author=jake)
    second = await factories.article(storage, author=jake)

    ids = [
        (await factories.comment(storage, article=article, author=jake)).id
        for article in (first, second, first)
    ]

    assert len(set(ids)) == 3


async def test_a_deleted_comments_id_is_never_given_again(storage: Storage) -> None:
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake)
    first = await factories.comment(storage, article=article, author=jake)
    async with storage.unit_of_work() as uow:
        await uow.comments.delete(first.id)
        await uow.commit()

    second = await factories.comment(storage, article=article, author=jake)

    assert second.id > first.id


async def test_delete(storage: Storage) -> None:
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake)
    doomed = await factories.comment(storage, article=article, author=jake)
    kept = await factories.comment(storage, article=article, author=jake)

    async with storage.unit_of_work() as uow:
        await uow.comments.delete(doomed.id)
        await uow.commit()

    async with storage.unit_of_work() as uow:
        assert await uow.comments.get(doomed.id) is None
        assert [c.id for c in await uow.comments.list_for(article.id, viewer_id=None)] == [kept.id]


async def test_list_is_oldest_first_with_ties_by_id(storage: Storage) -> None:
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake)
    same = factories.moment(500)
    late = await factories.comment(storage, article=article, author=jake, created_at=same)
    early = await factories.comment(
        storage, article=article, author=jake, created_at=factories.moment(100)
    )
    tie = await factories.comment(storage, article=article, author=jake, created_at=same)
    latest = await factories.comment(
        storage, article=article, author=jake, created_at=factories.moment(900)
    )

    async with storage.unit_of_work() as uow:
        listed = await uow.comments.list_for(article.id, viewer_id=None)

    assert [c.id for c in listed] == [early.id, late.id, tie.id, latest.id]


async def test_list_holds_only_that_articles_comments(storage: Storage) -> None:
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake)
    other = await factories.article(storage, author=jake)
    mine = await factories.comment(storage, article=article, author=jake)
    await factories.comment(storage, article=other, author=jake)
    silent = await factories.article(storage, author=jake)

    async with storage.unit_of_work() as uow:
        listed = await uow.comments.list_for(article.id, viewer_id=None)
        assert await uow.comments.list_for(silent.id, viewer_id=None) == []

    assert [c.id for c in listed] == [mine.id]


async def test_list_shows_authors_as_the_viewer_sees_them(storage: Storage) -> None:
    jake = await factories.user(storage, username="jake", bio="bio", image="jake.png")
    jane = await factories.user(storage, username="jane")
    viewer = await factories.user(storage, username="viewer")
    article = await factories.article(storage, author=jake)
    await factories.follow(storage, follower=viewer, followee=jake)
    by_jake = await factories.comment(storage, article=article, author=jake, body="first")
    by_jane = await factories.comment(storage, article=article, author=jane, body="second")

    async with storage.unit_of_work() as uow:
        seen = await uow.comments.list_for(article.id, viewer_id=viewer.id)
        anonymous = await uow.comments.list_for(article.id, viewer_id=None)

    assert seen == [
        CommentView(
            id=by_jake.id,
            body="first",
            created_at=by_jake.created_at,
            updated_at=by_jake.created_at,
            author=Profile(username="jake", bio="bio", image="jake.png", following=True),
        ),
        CommentView(
            id=by_jane.id,
            body="second",
            created_at=by_jane.created_at,
            updated_at=by_jane.created_at,
            author=Profile(username="jane", bio=None, image=None, following=False),
        ),
    ]
    assert [c.author.following for c in anonymous] == [False, False]


async def test_datetimes_come_back_aware_utc_and_equal(storage: Storage) -> None:
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake)
    created_at = rules.timestamp(datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    comment = await factories.comment(storage, article=article, author=jake, created_at=created_at)

    async with storage.unit_of_work() as uow:
        stored = await uow.comments.get(comment.id)
        listed = await uow.comments.list_for(article.id, viewer_id=None)

    assert stored is not None
    for item in (stored, listed[0]):
        assert item.created_at == item.updated_at == created_at
        assert item.created_at.microsecond == 999000
        assert item.created_at.utcoffset() == timedelta(0)
        assert item.updated_at.utcoffset() == timedelta(0)


async def test_a_comment_on_an_article_gone_meanwhile_is_not_kept(storage: Storage) -> None:
    """The article was looked up, then deleted by someone else before the comment was
    stored: the comment is refused (by this call or at commit) and nothing is left."""
    jake = await factories.user(storage)
    article = await factories.article(storage, author=jake)
    async with storage.unit_of_work() as uow:
        await uow.articles.delete(article.id)
        await uow.commit()

    async def comment_late() -> None:
        async with storage.unit_of_work() as uow:
            await uow.comments.add(
                article_id=article.id, author_id=jake.id, body="late", created_at=factories.later()
            )
            await uow.commit()

    with pytest.raises(NotFound) as refused:
        await comment_late()

    assert refused.value.what == "article"
    assert await storage.check(repair=False) == []
