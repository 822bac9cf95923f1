"""Persist users, articles and the rest through the ports: works with any ``Storage``.

Every helper is keyword-only, commits its own unit of work and has defaults that never collide
(names from a counter, ``created_at`` one second later at each call).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from broadsheet.domain import rules
from broadsheet.domain.models import Article, Comment, NewArticle, NewUser, User, UserChanges
from broadsheet.domain.ports import Storage

_sequence = itertools.count(1)
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def moment(seconds: float = 0) -> datetime:
    """A fixed aware UTC moment, ``seconds`` after the factories' epoch, at store precision."""
    return rules.timestamp(_EPOCH + timedelta(seconds=seconds))


def later() -> datetime:
    """A moment later than every one handed out before."""
    return moment(next(_sequence))


async def user(
    storage: Storage,
    *,
    username: str | None = None,
    email: str | None = None,
    password_hash: str = "not-a-real-hash",
    bio: str | None = None,
    image: str | None = None,
) -> User:
    name = username if username is not None else f"user{next(_sequence)}"
    address = email if email is not None else f"{rules.username_key(name)}@example.com"
    async with storage.unit_of_work() as uow:
        created = await uow.users.add(
            NewUser(username=name, email=address, password_hash=password_hash)
        )
        if bio is not None or image is not None:
            created = await uow.users.update(created.id, UserChanges(bio=bio, image=image))
        await uow.commit()
    return created


async def article(
    storage: Storage,
    *,
    author: User,
    title: str | None = None,
    slug: str | None = None,
    description: str = "A description",
    body: str = "A body",
    tags: Iterable[str] = (),
    created_at: datetime | None = None,
) -> Article:
    title = title if title is not None else f"Article {next(_sequence)}"
    async with storage.unit_of_work() as uow:
        created = await uow.articles.add(
            NewArticle(
                slug=slug if slug is not None else rules.slug_for(title),
                title=title,
                description=description,
                body=body,
                tags=rules.tags(tags),
                author_id=author.id,
                created_at=created_at if created_at is not None else later(),
            )
        )
        await uow.commit()
    return created


async def comment(
    storage: Storage,
    *,
    article: Article,
    author: User,
    body: str = "A comment",
    created_at: datetime | None = None,
) -> Comment:
    async with storage.unit_of_work() as uow:
        created = await uow.comments.add(
            article_id=article.id,
            author_id=author.id,
            body=body,
            created_at=created_at if created_at is not None else later(),
        )
        await uow.commit()
    return created


async def follow(storage: Storage, *, follower: User, followee: User) -> None:
    async with storage.unit_of_work() as uow:
        await uow.follows.add(follower_id=follower.id, followee_id=followee.id)
        await uow.commit()


async def favorite(storage: Storage, *, user: User, article: Article) -> None:
    async with storage.unit_of_work() as uow:
        await uow.favorites.add(user_id=user.id, article_id=article.id, at=later())
        await uow.commit()
