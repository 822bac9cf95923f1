"""The ``UnitOfWork`` and ``Storage`` ports: one atomic transaction per unit of work."""

from __future__ import annotations

import asyncio

import pytest

from broadsheet.domain.models import ArticleChanges, ArticleFilter, NewArticle, NewUser, UserChanges
from broadsheet.domain.ports import Storage
from tests import factories


class Boom(Exception):
    """Raised by a test to leave a unit of work with an error."""


def _new_user(name: str) -> NewUser:
    return NewUser(username=name, email=f"{name}@example.com", password_hash="hash")


async def test_ping_answers_and_migrate_is_idempotent(storage: Storage) -> None:
    await storage.ping()
    await storage.migrate()
    await factories.user(storage, username="survivor")
    await storage.migrate()

    async with storage.unit_of_work() as uow:
        assert await uow.users.get_by_username("survivor") is not None


async def test_commit_makes_changes_visible_to_later_units_of_work(storage: Storage) -> None:
    async with storage.unit_of_work() as uow:
        jake = await uow.users.add(_new_user("jake"))
        await uow.commit()

    async with storage.unit_of_work() as uow:
        assert await uow.users.get(jake.id) == jake


async def test_changes_are_visible_inside_the_unit_of_work_before_commit(
    storage: Storage,
) -> None:
    async with storage.unit_of_work() as uow:
        jake = await uow.users.add(_new_user("jake"))
        article = await uow.articles.add(
            NewArticle(
                slug="draft",
                title="Draft",
                description="d",
                body="b",
                tags=("t",),
                author_id=jake.id,
                created_at=factories.later(),
            )
        )
        await uow.favorites.add(user_id=jake.id, article_id=article.id, at=factories.later())

        assert await uow.users.get_by_username("jake") == jake
        assert await uow.articles.get_by_slug("draft") == article
        view = await uow.articles.view("draft", viewer_id=jake.id)
        assert view is not None
        assert (view.favorited, view.favorites_count) == (True, 1)
        assert await uow.tags.popular() == ["t"]


async def test_leaving_without_commit_discards_every_change(transactional_storage: Storage) -> None:
    jake = await factories.user(transactional_storage, username="jake")
    jane = await factories.user(transactional_storage, username="jane")
    article = await factories.article(transactional_storage, author=jake, tags=["kept"])

    async with transactional_storage.unit_of_work() as uow:
        await uow.users.add(_new_user("ghost"))
        await uow.users.update(jake.id, UserChanges(bio="changed"))
        await uow.follows.add(follower_id=jane.id, followee_id=jake.id)
        await uow.articles.update(
            article, ArticleChanges(slug="renamed", tags=("lost",)), updated_at=factories.later()
        )
        await uow.favorites.add(user_id=jane.id, article_id=article.id, at=factories.later())
        await uow.comments.add(
            article_id=article.id, author_id=jane.id, body="lost", created_at=factories.later()
        )

    async with transactional_storage.unit_of_work() as uow:
        assert await uow.users.get_by_username("ghost") is None
        assert await uow.users.get(jake.id) == jake
        profile = await uow.users.profile("jake", viewer_id=jane.id)
        view = await uow.articles.view(article.slug, viewer_id=jane.id)
        assert await uow.articles.get_by_slug("renamed") is None
        assert await uow.comments.list_for(article.id, viewer_id=None) == []
        assert await uow.tags.popular() == ["kept"]
    assert profile is not None
    assert profile.following is False
    assert view is not None
    assert (view.favorited, view.favorites_count, view.tags) == (False, 0, ("kept",))


async def test_an_error_rolls_back_and_propagates(transactional_storage: Storage) -> None:
    async def fail_midway() -> None:
        async with transactional_storage.unit_of_work() as uow:
            await uow.users.add(_new_user("ghost"))
            raise Boom

    with pytest.raises(Boom):
        await fail_midway()

    async with transactional_storage.unit_of_work() as uow:
        assert await uow.users.get_by_username("ghost") is None


async def test_a_rolled_back_delete_keeps_the_article_and_what_hangs_on_it(
    transactional_storage: Storage,
) -> None:
    jake = await factories.user(transactional_storage, username="jake")
    article = await factories.article(transactional_storage, author=jake, tags=["t"])
    comment = await factories.comment(transactional_storage, article=article, author=jake)
    await factories.favorite(transactional_storage, user=jake, article=article)

    async with transactional_storage.unit_of_work() as uow:
        await uow.articles.delete(article.id)
        assert await uow.articles.get_by_slug(article.slug) is None

    async with transactional_storage.unit_of_work() as uow:
        assert await uow.articles.get_by_slug(article.slug) == article
        assert await uow.comments.get(comment.id) == comment
        assert await uow.tags.popular() == ["t"]
        page = await uow.articles.find(
            ArticleFilter(favorited_by="jake"), viewer_id=None, limit=20, offset=0
        )
    assert page.total == 1


async def test_units_of_work_in_sequence_each_see_the_last_commit(storage: Storage) -> None:
    jake = await factories.user(storage, username="jake")
    for bio in ("one", "two", "three"):
        async with storage.unit_of_work() as uow:
            current = await uow.users.get(jake.id)
            assert current is not None
            await uow.users.update(jake.id, UserChanges(bio=(current.bio or "") + bio))
            await uow.commit()

    async with storage.unit_of_work() as uow:
        final = await uow.users.get(jake.id)
    assert final is not None
    assert final.bio == "onetwothree"


async def test_a_read_only_unit_of_work_reads_and_cannot_commit(storage: Storage) -> None:
    jake = await factories.user(storage, username="jake")

    async with storage.unit_of_work().read_only() as uow:
        assert await uow.users.get(jake.id) == jake
        with pytest.raises(RuntimeError):
            await uow.commit()


async def test_a_read_only_unit_of_work_does_not_hold_up_a_writer(storage: Storage) -> None:
    jake = await factories.user(storage, username="jake")

    async with storage.unit_of_work().read_only() as reader:
        assert await reader.users.get(jake.id) == jake
        # A writer commits while the reader is still open: it must not wait for the reader
        # (no write lock is held), so this cannot deadlock.
        written = await asyncio.wait_for(factories.user(storage, username="kim"), timeout=30)
        assert await reader.users.get(jake.id) == jake

    async with storage.unit_of_work().read_only() as uow:
        assert await uow.users.get(written.id) == written
