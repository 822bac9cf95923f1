"""Lookups shared by use cases that need an existing viewer, user or article."""

from broadsheet.domain import rules
from broadsheet.domain.errors import NotFound, TokenInvalid
from broadsheet.domain.models import Article, User
from broadsheet.domain.ports import UnitOfWork


async def viewer(uow: UnitOfWork, viewer_id: int) -> User:
    """The viewer's account; a token for a user who no longer exists, or is suspended, is
    revoked."""
    user = await uow.users.get(viewer_id) if rules.is_storable_id(viewer_id) else None
    if user is None or user.suspended:
        raise TokenInvalid
    return user


async def user(uow: UnitOfWork, username: str) -> User:
    """The named user, found as usernames are (NFKC, case-insensitive); 404 on "profile"."""
    found = await uow.users.get_by_username(rules.storable("username", username))
    if found is None:
        raise NotFound("profile")
    return found


async def article(uow: UnitOfWork, slug: str) -> Article:
    found = await uow.articles.get_by_slug(rules.storable("slug", slug))
    if found is None:
        raise NotFound("article")
    return found


async def optional_viewer(uow: UnitOfWork, viewer_id: int | None) -> int | None:
    """For reads open to anyone: a token naming a vanished user is still a revoked token."""
    if viewer_id is None:
        return None
    return (await viewer(uow, viewer_id)).id
