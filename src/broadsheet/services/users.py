"""Accounts: sign up, log in and out, read and change one's own account; check a token."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from broadsheet.domain import rules
from broadsheet.domain.errors import InvalidCredentials, Suspended, TokenInvalid
from broadsheet.domain.models import (
    UNCHANGED,
    Change,
    NewUser,
    RateLimit,
    TokenClaims,
    User,
    UserChanges,
)
from broadsheet.domain.ports import (
    PasswordHasher,
    RateLimiter,
    TokenCodec,
    TokenRevocations,
    UnitOfWork,
)
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
    limiter: RateLimiter,
    email: str | None,
    password: str | None,
) -> SignedIn:
    """Failed attempts are counted per account (known or not, alike): past the limit, even
    the right password waits, so guessing one account's password is slow from any number
    of addresses."""
    with rules.Checks() as check:
        address = check(rules.login_email, email)
        secret = check(rules.present, "password", password)
    await limiter.check(RateLimit.LOGIN_FAILURE, address)
    async with uow:
        user = await uow.users.get_by_email(address)
    if user is None:
        await hasher.hash(secret)  # spend the same time as a real check: no account enumeration
    if user is None or not await hasher.verify(user.password_hash, secret):
        await limiter.hit(RateLimit.LOGIN_FAILURE, address)
        raise InvalidCredentials
    if user.suspended:  # said only to whoever knows the password
        raise Suspended
    return SignedIn(user, tokens.issue(user.id))


async def authenticate(
    *, tokens: TokenCodec, revocations: TokenRevocations, token: str
) -> TokenClaims:
    """What a presented token says, if it verifies and is not revoked (``TokenInvalid``
    otherwise). Whether its user still exists is for the use case's own lookup."""
    claims = tokens.read(token)
    # A subject no store can hold names no user (and would overflow the revocation lookup).
    if not rules.is_storable_id(claims.user_id) or await revocations.is_revoked(claims):
        raise TokenInvalid
    return claims


async def logout(*, revocations: TokenRevocations, claims: TokenClaims) -> None:
    """Revoke this one token until it would have expired; the user's other tokens still work."""
    await revocations.revoke(claims.token_id, until=claims.expires_at)


async def current(uow: UnitOfWork, *, user_id: int) -> User:
    async with uow.read_only():
        return await lookups.viewer(uow, user_id)


@retry.on_conflict
async def update(
    uow: UnitOfWork,
    *,
    hasher: PasswordHasher,
    tokens: TokenCodec,
    revocations: TokenRevocations,
    claims: TokenClaims,
    username: Change[str | None] = UNCHANGED,
    email: Change[str | None] = UNCHANGED,
    password: Change[str | None] = UNCHANGED,
    bio: Change[str | None] = UNCHANGED,
    image: Change[str | None] = UNCHANGED,
) -> SignedIn:
    """Change the account of the token's user (``claims``: the token presented); uniqueness
    is checked by the store, one's own values are fine.

    Everything is validated (and a new password hashed) before the transaction opens. Only
    the fields that really change are written, so a concurrent change of another field
    stays; nothing is written when nothing changes. A new password revokes every token of
    the user issued before the one returned except the token presented ("sign out other
    sessions"): the client that made the change stays signed in with either.
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
        user = await lookups.viewer(uow, claims.user_id)
        edit = UserChanges(
            **{field: value for field, value in changes.items() if getattr(user, field) != value}
        )
        if edit:
            user = await uow.users.update(user.id, edit)
        await uow.commit()
    if "password_hash" not in changes:
        return SignedIn(user, tokens.issue(user.id))
    # After the commit: a failed update (a taken username, say) must not sign anyone out.
    token, issued = await _token_later_than_any_before(tokens, user.id)
    await revocations.revoke_issued_before(
        user.id, issued.issued_at, until=issued.expires_at, spared_token_id=claims.token_id
    )
    return SignedIn(user, token)


async def revoke_every_token(
    tokens: TokenCodec, revocations: TokenRevocations, user_id: int
) -> None:
    """Every token the user holds stops working, on every worker and instance, at once."""
    _, issued = await _token_later_than_any_before(tokens, user_id)
    await revocations.revoke_issued_before(user_id, issued.issued_at, until=issued.expires_at)


async def _token_later_than_any_before(tokens: TokenCodec, user_id: int) -> tuple[str, TokenClaims]:
    """A token issued later than every token issued before this call. Issue times have
    milliseconds, so one token issued in this very millisecond marks it; the token returned
    is the first in a later one (at most a millisecond's wait)."""
    now = tokens.read(tokens.issue(user_id)).issued_at
    while True:
        token = tokens.issue(user_id)
        claims = tokens.read(token)
        if claims.issued_at > now:
            return token, claims
        await asyncio.sleep(0.001)
