"""Accounts: sign up, log in, read and change one's own account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from broadsheet.domain import rules
from broadsheet.domain.errors import InvalidCredentials
from broadsheet.domain.models import UNCHANGED, Change, NewUser, User, UserChanges
from broadsheet.domain.ports import PasswordHasher, TokenCodec, UnitOfWork
from broadsheet.services import lookups, retry


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A user and a fresh token for them."""

    user: User
    token: str


@retry.on_conflict
async def register(
    uow: UnitOfWork,
    *,
    hasher: PasswordHasher,
    tokens: TokenCodec,
    username: str | None,
    email: str | None,
    password: str | None,
) -> SignedIn:
    with rules.Checks() as check:
        name = check(rules.username, username)
        address = check(rules.email, email)
        secret = check(rules.password, password)
    new = NewUser(username=name, email=address, password_hash=await hasher.hash(secret))
    async with uow:
        user = await uow.users.add(new)
        await uow.commit()
    return SignedIn(user, tokens.issue(user.id))


async def login(
    uow: UnitOfWork,
    *,
    hasher: PasswordHasher,
    tokens: TokenCodec,
    email: str | None,
    password: str | None,
) -> SignedIn:
    with rules.Checks() as check:
        address = check(rules.login_email, email)
        secret = check(rules.present, "password", password)
    async with uow:
        user = await uow.users.get_by_email(address)
    if user is None:
        await hasher.hash(secret)  # spend the same time as a real check: no account enumeration
        raise InvalidCredentials
    if not await hasher.verify(user.password_hash, secret):
        raise InvalidCredentials
    return SignedIn(user, tokens.issue(user.id))


async def current(uow: UnitOfWork, *, user_id: int) -> User:
    async with uow:
        return await lookups.viewer(uow, user_id)


@retry.on_conflict
async def update(
    uow: UnitOfWork,
    *,
    hasher: PasswordHasher,
    tokens: TokenCodec,
    user_id: int,
    username: Change[str | None] = UNCHANGED,
    email: Change[str | None] = UNCHANGED,
    password: Change[str | None] = UNCHANGED,
    bio: Change[str | None] = UNCHANGED,
    image: Change[str | None] = UNCHANGED,
) -> SignedIn:
    """Change any of the fields; uniqueness is checked by the store, one's own values are fine.

    Everything is validated (and a new password hashed) before the transaction opens. Only
    the fields that really change are written, so a concurrent change of another field
    stays; nothing is written when nothing changes.
    """
    changes: dict[str, Any] = {}
    new_password: str | None = None
    with rules.Checks() as check:
        if username is not UNCHANGED:
            changes["username"] = check(rules.username, username)
        if email is not UNCHANGED:
            changes["email"] = check(rules.email, email)
        if password is not UNCHANGED:
            new_password = check(rules.password, password)
        if bio is not UNCHANGED:
            changes["bio"] = check(rules.optional_text, "bio", bio)
        if image is not UNCHANGED:
            changes["image"] = check(rules.optional_text, "image", image)
    if new_password is not None:
        changes["password_hash"] = await hasher.hash(new_password)
    async with uow:
        user = await lookups.viewer(uow, user_id)
        edit = UserChanges(
            **{field: value for field, value in changes.items() if getattr(user, field) != value}
        )
        if edit:
            user = await uow.users.update(user.id, edit)
        await uow.commit()
    return SignedIn(user, tokens.issue(user.id))
