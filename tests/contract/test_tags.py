"""The ``Tags`` port: every tag in use, most used first, ties alphabetical, never capped."""

from __future__ import annotations

from broadsheet.domain.models import ArticleChanges
from broadsheet.domain.ports import Storage
from tests import factories


async def _popular(storage: Storage) -> list[str]:
    async with storage.unit_of_work() as uow:
        return await uow.tags.popular()


async def test_no_articles_no_tags(storage: Storage) -> None:
    assert await _popular(storage) == []


async def test_most_used_first_then_alphabetical(storage: Storage) -> None:
    jake = await factories.user(storage)
    await factories.article(storage, author=jake, tags=["rare", "common", "beta"])
    await factories.article(storage, author=jake, tags=["common", "beta", "alpha"])
    await factories.article(storage, author=jake, tags=["common", "zeta"])
    await factories.article(storage, author=jake, tags=["zeta"])

    assert await _popular(storage) == ["common", "beta", "zeta", "alpha", "rare"]


async def test_never_capped(storage: Storage) -> None:
    jake = await factories.user(storage)
    tags = [f"tag{n:03d}" for n in range(150)]
    for start in range(0, len(tags), 30):  # an article has at most 32 tags
        await factories.article(storage, author=jake, tags=tags[start : start + 30])

    assert await _popular(storage) == tags


async def test_follows_tag_changes_and_deletions(storage: Storage) -> None:
    jake = await factories.user(storage)
    kept = await factories.article(storage, author=jake, tags=["a", "b"])
    doomed = await factories.article(storage, author=jake, tags=["b", "c"])

    async with storage.unit_of_work() as uow:
        await uow.articles.update(kept, ArticleChanges(tags=("d",)), updated_at=factories.later())
        await uow.articles.delete(doomed.id)
        await uow.commit()

    assert await _popular(storage) == ["d"]
