"""The rules every backend shares: identity normalisation, validation, slugs, tags, paging, time.

Adapters never decide any of this; they persist what these functions produce.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from slugify import slugify

from broadsheet.domain.errors import Invalid

BLANK = "can't be blank"
MIN_PASSWORD_LENGTH = 8
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_SLUG_LENGTH = 120
SLUG_SUFFIX_LENGTH = 6
# Store-assigned ids fit a signed 32-bit integer column on every SQL dialect.
MAX_ID = 2**31 - 1
# Slugs that would shadow a route of their own (GET /api/articles/feed).
RESERVED_SLUGS = frozenset({"feed"})


# Longest accepted text per field, in characters: generous, and inside what every store keeps
# (MariaDB's TEXT holds 64 KiB, its MEDIUMTEXT 16 MiB).
MAX_LENGTH = {
    "title": 255,
    "description": 1_000,
    "body": 200_000,
    "bio": 5_000,
    "image": 2_048,
}


def required_text(field: str, value: str | None) -> str:
    """A required string field: present and not only whitespace. Returned trimmed."""
    if value is None or not value.strip():
        raise Invalid(field, BLANK)
    return _within_limit(field, value.strip())


def _within_limit(field: str, value: str) -> str:
    limit = MAX_LENGTH.get(field)
    if limit is not None and len(value) > limit:
        raise Invalid(field, f"is too long (maximum is {limit} characters)")
    return value


def present(field: str, value: str | None) -> str:
    """A required value taken exactly as sent (passwords are never trimmed)."""
    if value is None or value == "":
        raise Invalid(field, BLANK)
    return value


def username(value: str | None) -> str:
    """Usernames are kept as typed (trimmed); uniqueness is by :func:`username_key`."""
    name = required_text("username", value)
    if len(name) > 64:
        raise Invalid("username", "is too long (maximum is 64 characters)")
    if any(ch.isspace() for ch in name) or "/" in name:
        raise Invalid("username", "may not contain spaces or slashes")
    return name


def username_key(name: str) -> str:
    """The case-insensitive identity of a username: ``Jake`` and ``jake`` are the same user."""
    return name.casefold()


def email(value: str | None) -> str:
    """Emails are unique case-insensitively, so they are stored lower-cased."""
    address = required_text("email", value)
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise Invalid("email", "is invalid") from None
    return address.lower()


def password(value: str | None) -> str:
    """At least eight characters; nothing else is demanded (NIST SP 800-63B)."""
    value = present("password", value)
    if len(value) < MIN_PASSWORD_LENGTH:
        raise Invalid("password", f"is too short (minimum is {MIN_PASSWORD_LENGTH} characters)")
    return value


def optional_text(field: str, value: str | None) -> str | None:
    """Bio and image: an empty string means "none", stored as null."""
    if value is None or not value.strip():
        return None
    return _within_limit(field, value.strip())


def tags(values: Iterable[str]) -> tuple[str, ...]:
    """Trimmed, empty ones dropped, duplicates removed, sorted: the order every view shows."""
    cleaned = {value.strip() for value in values}
    cleaned.discard("")
    for tag in cleaned:
        if len(tag) > 64:
            raise Invalid("tagList", "has a tag longer than 64 characters")
    return tuple(sorted(cleaned))


def slug_for(title: str) -> str:
    """The readable part of a slug: lower case ASCII words joined by ``-``."""
    base = (
        slugify(title, max_length=MAX_SLUG_LENGTH - SLUG_SUFFIX_LENGTH - 1, word_boundary=True)
        or "article"
    )
    return base


def slug_candidates(title: str, attempts: int = 8) -> Iterable[str]:
    """Slugs to try in order: the plain one, then the plain one with a short random suffix.

    The store's unique constraint decides which is free, so two writers racing for the same
    title never both win; the loser simply tries the next candidate.
    """
    base = slug_for(title)
    if base not in RESERVED_SLUGS:
        yield base
    for _ in range(attempts):
        yield f"{base}-{secrets.token_hex(SLUG_SUFFIX_LENGTH // 2)}"


def page_bounds(limit: int | None, offset: int | None) -> tuple[int, int]:
    """Validated ``(limit, offset)``; the defaults apply where a value is not given."""
    size = DEFAULT_PAGE_SIZE if limit is None else limit
    start = 0 if offset is None else offset
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise Invalid("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    if start < 0:
        raise Invalid("offset", "must be 0 or more")
    # No store holds more rows than ids; a larger offset is an empty page all the same,
    # and clamping keeps it inside every dialect's integer range.
    return size, min(start, MAX_ID)


def timestamp(moment: datetime) -> datetime:
    """Aware UTC, truncated to milliseconds: the precision every store and the wire keep."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def is_storable_id(value: int) -> bool:
    """Whether an id from outside (a URL, a token) could name a stored row at all."""
    return 0 < value <= MAX_ID
