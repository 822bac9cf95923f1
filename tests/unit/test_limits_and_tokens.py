"""Tokens with an id and a millisecond issue time; the rate-limit and proxy settings; the
account-level login throttle and the token check as use cases over the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import ValidationError

from broadsheet.bootstrap import rate_limiter
from broadsheet.domain.errors import InvalidCredentials, RateLimited, TokenInvalid
from broadsheet.domain.models import RateLimit, TokenClaims
from broadsheet.ratelimit import LimitsRateLimiter, NoRateLimits
from broadsheet.security import Argon2Hasher, JwtCodec
from broadsheet.services import users
from broadsheet.settings import Settings, parse_rate
from broadsheet.storage.memory import MemoryStorage

SECRET = "unit-test-secret-0123456789abcdef"
codec = JwtCodec(SECRET, ttl=timedelta(minutes=30))


# --- tokens -------------------------------------------------------------------------------


def test_a_token_says_whose_it_is_its_id_and_its_times() -> None:
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    claims = codec.read(codec.issue(42))

    assert claims.user_id == 42
    assert len(claims.token_id) >= 16
    assert before <= claims.issued_at <= datetime.now(UTC)
    assert claims.issued_at.microsecond % 1000 == 0  # milliseconds, as every store keeps them
    assert claims.expires_at - claims.issued_at == timedelta(minutes=30)


def test_every_token_has_its_own_id() -> None:
    assert len({codec.read(codec.issue(1)).token_id for _ in range(50)}) == 50


@pytest.mark.parametrize("missing", ["jti", "iat", "exp", "sub"])
def test_a_token_without_an_id_or_times_is_invalid(missing: str) -> None:
    now = datetime.now(UTC)
    claims = {"sub": "1", "jti": "abc", "iat": now, "exp": now + timedelta(minutes=5)}
    del claims[missing]

    with pytest.raises(TokenInvalid):
        codec.read(jwt.encode(claims, SECRET, algorithm="HS256"))


def test_a_token_with_a_non_string_id_is_invalid() -> None:
    now = datetime.now(UTC)
    claims = {"sub": "1", "jti": 7, "iat": now, "exp": now + timedelta(minutes=5)}

    with pytest.raises(TokenInvalid):
        codec.read(jwt.encode(claims, SECRET, algorithm="HS256"))


# --- settings -----------------------------------------------------------------------------


def test_limits_are_on_by_default_and_can_be_switched_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert isinstance(rate_limiter(Settings(), None), LimitsRateLimiter)

    monkeypatch.setenv("BROADSHEET_RATE_LIMITS", "off")
    assert isinstance(rate_limiter(Settings(), None), NoRateLimits)


def test_trusted_proxies_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROADSHEET_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1 ,::1")

    assert Settings().trusted_proxies == ["10.0.0.0/8", "192.0.2.1", "::1"]


@pytest.mark.parametrize("entry", ["proxy.example", "10.0.0.0/33", "*"])
def test_a_trusted_proxy_must_be_an_address_or_network(entry: str) -> None:
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings(trusted_proxies=[entry])


@pytest.mark.parametrize("rate", ["10/minute", "100 per hour", "20/5 minutes"])
def test_rates_in_the_limits_notation(rate: str) -> None:
    assert parse_rate(rate).amount > 0


@pytest.mark.parametrize("rate", ["lots", "0/minute", "1/minute;2/hour", ""])
def test_a_rate_that_is_not_one_rate_is_refused(rate: str) -> None:
    with pytest.raises(ValidationError, match="rate_limit_login"):
        Settings(rate_limit_login=rate)


# --- use cases ----------------------------------------------------------------------------


@pytest.fixture
def store() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
def hasher() -> Argon2Hasher:
    return Argon2Hasher(time_cost=1, memory_kib=64)


async def test_failed_logins_are_throttled_per_account(
    store: MemoryStorage, hasher: Argon2Hasher
) -> None:
    limiter = LimitsRateLimiter({RateLimit.LOGIN_FAILURE: parse_rate("2/minute")})
    await users.register(
        store.unit_of_work(),
        hasher=hasher,
        tokens=codec,
        username="jake",
        email="jake@example.com",
        password="password1",
    )

    async def login(email: str, password: str) -> users.SignedIn:
        return await users.login(
            store.unit_of_work(),
            hasher=hasher,
            tokens=codec,
            limiter=limiter,
            email=email,
            password=password,
        )

    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await login("jake@example.com", "wrong-password")
    with pytest.raises(RateLimited):
        await login("JAKE@example.com", "password1")
    with pytest.raises(InvalidCredentials):  # another account: its own count
        await login("jane@example.com", "password1")


async def test_authenticate_refuses_a_revoked_token(store: MemoryStorage) -> None:
    revocations = store.token_revocations()
    token = codec.issue(1)
    claims = await users.authenticate(tokens=codec, revocations=revocations, token=token)

    await users.logout(revocations=revocations, claims=claims)

    with pytest.raises(TokenInvalid):
        await users.authenticate(tokens=codec, revocations=revocations, token=token)
    other = codec.issue(1)
    assert (
        await users.authenticate(tokens=codec, revocations=revocations, token=other)
    ).user_id == 1


async def test_a_new_password_revokes_earlier_tokens_but_not_the_new_one(
    store: MemoryStorage, hasher: Argon2Hasher
) -> None:
    revocations = store.token_revocations()
    signed_up = await users.register(
        store.unit_of_work(),
        hasher=hasher,
        tokens=codec,
        username="jake",
        email="jake@example.com",
        password="password1",
    )

    changed = await users.update(
        store.unit_of_work(),
        hasher=hasher,
        tokens=codec,
        revocations=revocations,
        user_id=signed_up.user.id,
        password="password2",
    )

    with pytest.raises(TokenInvalid):
        await users.authenticate(tokens=codec, revocations=revocations, token=signed_up.token)
    fresh = await users.authenticate(tokens=codec, revocations=revocations, token=changed.token)
    assert fresh.user_id == signed_up.user.id


class SlowClockTokens:
    """Tokens whose clock shows one millisecond for the first ``frozen`` tokens, then moves on
    a millisecond per token: what a fast machine sees within one millisecond."""

    def __init__(self, *, frozen: int) -> None:
        self._frozen = frozen
        self._claims: dict[str, TokenClaims] = {}

    def issue(self, user_id: int) -> str:
        number = len(self._claims) + 1
        at = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(
            milliseconds=max(0, number - self._frozen)
        )
        token = f"token-{number}"
        self._claims[token] = TokenClaims(
            user_id=user_id, token_id=token, issued_at=at, expires_at=at + timedelta(hours=1)
        )
        return token

    def read(self, token: str) -> TokenClaims:
        if token not in self._claims:
            raise TokenInvalid
        return self._claims[token]


async def test_a_token_from_the_same_millisecond_as_the_password_change_is_revoked(
    store: MemoryStorage, hasher: Argon2Hasher
) -> None:
    tokens = SlowClockTokens(frozen=3)
    revocations = store.token_revocations()
    signed_up = await users.register(
        store.unit_of_work(),
        hasher=hasher,
        tokens=tokens,
        username="jake",
        email="jake@example.com",
        password="password1",
    )

    changed = await users.update(
        store.unit_of_work(),
        hasher=hasher,
        tokens=tokens,
        revocations=revocations,
        user_id=signed_up.user.id,
        password="password2",
    )

    assert tokens.read(changed.token).issued_at > tokens.read(signed_up.token).issued_at
    with pytest.raises(TokenInvalid):
        await users.authenticate(tokens=tokens, revocations=revocations, token=signed_up.token)
    assert await users.authenticate(tokens=tokens, revocations=revocations, token=changed.token)
