"""The ``TokenRevocations`` port: one token by id, every token of a user issued before an
instant, the latest instant winning. Over the in-memory store, every selected database, and
Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from broadsheet.domain.models import TokenClaims
from broadsheet.domain.ports import TokenRevocations
from broadsheet.storage.redis import RedisTokenRevocations
from tests.conftest import CONTRACT_BACKENDS, REDIS_URL, empty_storage

NOW = datetime.now(UTC).replace(microsecond=123000)
LATER = NOW + timedelta(hours=1)


@pytest.fixture(params=[*CONTRACT_BACKENDS, "redis"])
def store_url(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> str:
    """Resolved here, outside any running event loop (a database is created on first use)."""
    return REDIS_URL if request.param == "redis" else database_urls[str(request.param)]


@pytest.fixture
async def revocations(store_url: str, redis_prefix: str) -> AsyncIterator[TokenRevocations]:
    if store_url == REDIS_URL:
        client = Redis.from_url(REDIS_URL)
        try:
            yield RedisTokenRevocations(client, prefix=f"{redis_prefix}:{uuid.uuid4().hex}")
        finally:
            await client.aclose()
        return
    async with empty_storage(store_url) as store:
        yield store.token_revocations()


def token(
    user_id: int = 1, *, issued_at: datetime = NOW, token_id: str | None = None
) -> TokenClaims:
    return TokenClaims(
        user_id=user_id,
        token_id=token_id or uuid.uuid4().hex,
        issued_at=issued_at,
        expires_at=issued_at + timedelta(hours=1),
    )


async def test_a_token_is_not_revoked_until_it_is(revocations: TokenRevocations) -> None:
    claims = token()

    assert not await revocations.is_revoked(claims)
    await revocations.revoke(claims.token_id, until=claims.expires_at)
    assert await revocations.is_revoked(claims)


async def test_revoking_one_token_leaves_the_users_others(revocations: TokenRevocations) -> None:
    first, second = token(), token()

    await revocations.revoke(first.token_id, until=first.expires_at)

    assert await revocations.is_revoked(first)
    assert not await revocations.is_revoked(second)


async def test_revoking_twice_is_harmless(revocations: TokenRevocations) -> None:
    claims = token()

    await revocations.revoke(claims.token_id, until=claims.expires_at)
    await revocations.revoke(claims.token_id, until=claims.expires_at)

    assert await revocations.is_revoked(claims)


async def test_token_ids_match_exactly(revocations: TokenRevocations) -> None:
    claims = token(token_id="AbC-123_xyz")
    await revocations.revoke(claims.token_id, until=claims.expires_at)

    assert not await revocations.is_revoked(token(token_id="abc-123_xyz"))
    assert not await revocations.is_revoked(token(token_id="AbC-123_xy"))


async def test_issued_before_revokes_earlier_tokens_only(revocations: TokenRevocations) -> None:
    await revocations.revoke_issued_before(7, NOW, until=LATER)

    assert await revocations.is_revoked(token(7, issued_at=NOW - timedelta(days=1)))
    assert await revocations.is_revoked(token(7, issued_at=NOW - timedelta(milliseconds=1)))
    assert not await revocations.is_revoked(token(7, issued_at=NOW))
    assert not await revocations.is_revoked(token(7, issued_at=NOW + timedelta(seconds=1)))


async def test_issued_before_is_per_user(revocations: TokenRevocations) -> None:
    await revocations.revoke_issued_before(7, NOW, until=LATER)

    assert not await revocations.is_revoked(token(8, issued_at=NOW - timedelta(days=1)))


@pytest.mark.parametrize("order", ["in order", "out of order"])
async def test_the_latest_instant_wins(revocations: TokenRevocations, order: str) -> None:
    earlier, later = NOW - timedelta(minutes=5), NOW
    for instant in [earlier, later] if order == "in order" else [later, earlier]:
        await revocations.revoke_issued_before(7, instant, until=instant + timedelta(hours=1))

    between = token(7, issued_at=NOW - timedelta(minutes=1))
    assert await revocations.is_revoked(between)
    assert not await revocations.is_revoked(token(7, issued_at=later))


async def test_both_kinds_together(revocations: TokenRevocations) -> None:
    old, logged_out, fresh = (
        token(7, issued_at=NOW - timedelta(minutes=1)),
        token(7, issued_at=NOW + timedelta(minutes=1)),
        token(7, issued_at=NOW + timedelta(minutes=2)),
    )
    await revocations.revoke_issued_before(7, NOW, until=LATER)
    await revocations.revoke(logged_out.token_id, until=logged_out.expires_at)

    assert await revocations.is_revoked(old)
    assert await revocations.is_revoked(logged_out)
    assert not await revocations.is_revoked(fresh)
