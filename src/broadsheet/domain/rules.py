"""The rules every backend shares: identity normalisation, validation, slugs, tags, paging, time.

Adapters never decide any of this; they persist what these functions produce.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import ParamSpec, Self, TypeVar, cast

from confusable_homoglyphs import categories
from email_validator import EmailNotValidError, validate_email
from slugify import slugify

from broadsheet.domain.errors import Invalid
from broadsheet.domain.models import ArticleFilter, Role, User, Window

P = ParamSpec("P")
T = TypeVar("T")

BLANK = "can't be blank"
UNSTORABLE = "may not contain NUL or unpaired surrogate characters"
MIN_PASSWORD_LENGTH = 8
MAX_USERNAME_LENGTH = 64
MAX_TAG_LENGTH = 64
MAX_TAGS = 32
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_SLUG_LENGTH = 120
SLUG_SUFFIX_LENGTH = 6
# Store-assigned ids fit a signed 32-bit integer column on every SQL dialect.
MAX_ID = 2**31 - 1
# Slugs that would shadow a route of their own (GET /api/articles/feed).
RESERVED_SLUGS = frozenset({"feed"})


# Longest accepted text per field, in characters: generous, and inside what every store keeps
# (MariaDB's TEXT holds 64 KiB, its MEDIUMTEXT 16 MiB). Email: RFC 5321's 254. Password: long
# enough for any passphrase or generated secret, short enough that hashing it costs nothing extra.
MAX_LENGTH = {
    "title": 255,
    "description": 1_000,
    "body": 200_000,
    "bio": 5_000,
    "image": 2_048,
    "email": 254,
    "password": 4_096,
}
# A comment's ``body`` is a reply, not an article, and every comment of an article is listed
# in one unpaged response: a tenth of an article body.
MAX_COMMENT_LENGTH = 20_000

# NUL: PostgreSQL's text types cannot hold it. A surrogate code point on its own (JSON's
# "\ud800") is not text at all: no store, driver or UTF-8 encoder takes it.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
# Unicode's "Other" categories: control (Cc), format (Cf: bidi overrides, zero-width joiners,
# the BOM), surrogate (Cs), private use (Co) and unassigned (Cn) code points.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
# Scripts that never make a name mixed: punctuation, digits, symbols; combining marks.
_NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED"})
# Unicode's "Highly Restrictive" profile (UTS #39, 5.2): one script, or Latin with the scripts
# a Chinese, Japanese or Korean name is written in.
_SCRIPT_COMBINATIONS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)


class Checks:
    """Runs every rule for one use case's input, then raises one ``Invalid`` naming each bad
    field (with the first rule it broke)::

        with rules.Checks() as check:
            name = check(rules.username, username)
            address = check(rules.email, email)

    A failed check returns a placeholder, so use the values only after the block.
    """

    def __init__(self) -> None:
        self._problems: dict[str, list[str]] = {}

    def __call__(self, rule: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return rule(*args, **kwargs)
        except Invalid as error:
            for field, reasons in error.problems.items():
                self._problems.setdefault(field, list(reasons))
            return cast(T, None)  # never seen: the block raises on exit

    def refuse(self, field: str, reason: str) -> None:
        """Record a problem found without a rule function."""
        self._problems.setdefault(field, [reason])

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None and self._problems:
            raise Invalid.of(self._problems)


def storable(field: str, value: str) -> str:
    """Text every store keeps as sent, so all backends accept the same input. Every text
    input passes here: body fields through the rules below, path and query values directly."""
    if _UNSTORABLE.search(value):
        raise Invalid(field, UNSTORABLE)
    return value


def required_text(field: str, value: str | None, *, limit: int | None = None) -> str:
    """A required string field: present and not only whitespace. Returned trimmed."""
    if value is None or not value.strip():
        raise Invalid(field, BLANK)
    return _within_limit(field, storable(field, value.strip()), limit)


def _within_limit(field: str, value: str, limit: int | None = None) -> str:
    limit = MAX_LENGTH.get(field) if limit is None else limit
    if limit is not None and len(value) > limit:
        raise Invalid(field, f"is too long (maximum is {limit} characters)")
    return value


def present(field: str, value: str | None) -> str:
    """A required value taken exactly as sent (passwords are never trimmed)."""
    if value is None or value == "":
        raise Invalid(field, BLANK)
    return _within_limit(field, storable(field, value))


def username(value: str | None) -> str:
    """Usernames are kept as typed (trimmed) in NFKC form, so ``alice`` typed with a fullwidth
    ``a`` (U+FF41) *is* ``alice``; uniqueness is by :func:`username_key`. No invisible
    characters, no mixed scripts: a name cannot pass for another by looking like it."""
    name = unicodedata.normalize("NFKC", required_text("username", value))
    if len(name) > MAX_USERNAME_LENGTH or len(username_key(name)) > MAX_USERNAME_LENGTH:
        raise Invalid("username", f"is too long (maximum is {MAX_USERNAME_LENGTH} characters)")
    if any(ch.isspace() for ch in name) or "/" in name:
        raise Invalid("username", "may not contain spaces or slashes")
    if any(unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in name):
        raise Invalid(
            "username", "may not contain control, formatting, private-use or unassigned characters"
        )
    if _mixes_scripts(name):
        raise Invalid("username", "may not mix scripts (such as Latin with Cyrillic or Greek)")
    return name


def _mixes_scripts(name: str) -> bool:
    scripts = categories.unique_aliases(name) - _NEUTRAL_SCRIPTS
    return len(scripts) > 1 and not any(scripts <= allowed for allowed in _SCRIPT_COMBINATIONS)


def username_key(name: str) -> str:
    """The identity of a username: case-insensitive and compatibility-normalised (NFKC), so
    ``Jake``, ``jake`` and a fullwidth ``jake`` are the same user. Lookups use it on any input."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def email(value: str | None) -> str:
    """Emails are unique case-insensitively, so they are stored lower-cased."""
    address = required_text("email", value)
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise Invalid("email", "is invalid") from None
    return address.lower()


def login_email(value: str | None) -> str:
    """The email a login looks up: bounded like a stored one, but any other typo is simply
    an unknown account."""
    return required_text("email", value).lower()


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
    return _within_limit(field, storable(field, value.strip()))


def comment_body(value: str | None) -> str:
    return required_text("body", value, limit=MAX_COMMENT_LENGTH)


def tags(values: Iterable[str]) -> tuple[str, ...]:
    """Trimmed, empty ones dropped, duplicates removed, sorted: the order every view shows."""
    cleaned = {storable("tagList", value).strip() for value in values}
    cleaned.discard("")
    for tag in cleaned:
        if len(tag) > MAX_TAG_LENGTH:
            raise Invalid("tagList", f"has a tag longer than {MAX_TAG_LENGTH} characters")
        if any(unicodedata.category(ch) == "Cc" for ch in tag):
            raise Invalid("tagList", "has a tag with control characters")
    if len(cleaned) > MAX_TAGS:
        raise Invalid("tagList", f"has too many tags (maximum is {MAX_TAGS})")
    return tuple(sorted(cleaned))


def article_filter(filters: ArticleFilter) -> ArticleFilter:
    """The list filters as sent; each is named by its query parameter."""
    with Checks() as check:
        for parameter, value in (
            ("tag", filters.tag),
            ("author", filters.author),
            ("favorited", filters.favorited_by),
        ):
            if value is not None:
                check(storable, parameter, value)
    return filters


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
    with Checks() as check:
        if not 1 <= size <= MAX_PAGE_SIZE:
            check.refuse("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
        if start < 0:
            check.refuse("offset", "must be 0 or more")
    # No store holds more rows than ids; a larger offset is an empty page all the same,
    # and clamping keeps it inside every dialect's integer range.
    return size, min(start, MAX_ID)


DEFAULT_WINDOW_DAYS = 7
MAX_WINDOW_DAYS = 365
DEFAULT_TOP = 10
MAX_TOP = 100
TOP_ARTICLES_OF_AUTHOR = 5


# The follow graph's bounds. A path is at most this many follows long: it is searched
# from both ends at once, half as deep from each, so a search reads the follows of a few
# hundred people, not of everyone within four hops.
MAX_PATH_FOLLOWS = 4
# Suggestions ask the first this many of the people a reader follows (by id): a reader who
# follows ten thousand accounts gets suggestions as fast as one who follows ten.
SUGGESTIONS_ASK = 1_000
DEFAULT_SUGGESTIONS = 10


def window(days: int | None, *, now: datetime) -> Window:
    """The last ``days`` days up to ``now`` (analytics compare it with the ``days`` before)."""
    span = DEFAULT_WINDOW_DAYS if days is None else days
    if not 1 <= span <= MAX_WINDOW_DAYS:
        raise Invalid("days", f"must be between 1 and {MAX_WINDOW_DAYS}")
    end = timestamp(now)
    return Window(start=end - timedelta(days=span), end=end)


def top(limit: int | None) -> int:
    """How many entries a ranking shows."""
    size = DEFAULT_TOP if limit is None else limit
    if not 1 <= size <= MAX_TOP:
        raise Invalid("limit", f"must be between 1 and {MAX_TOP}")
    return size


# -- roles and moderation -------------------------------------------------------------
MAX_REASON_LENGTH = 1_000


def moderates(user: User) -> bool:
    """Admins and moderators may delete anyone's article or comment and suspend users."""
    return user.role in {Role.ADMIN, Role.MODERATOR}


def may_suspend(actor: User, target: User) -> bool:
    """Staff may suspend readers; only an admin may suspend staff; nobody themselves."""
    if actor.id == target.id or not moderates(actor):
        return False
    return target.role is None or actor.role is Role.ADMIN


def reads_audit(user: User) -> bool:
    return user.role is Role.ADMIN


def reason(value: str | None) -> str | None:
    """Why a staff member acted: optional, at most ``MAX_REASON_LENGTH`` characters."""
    if value is None or not value.strip():
        return None
    return _within_limit("reason", storable("reason", value.strip()), MAX_REASON_LENGTH)


def role(value: str) -> Role | None:
    """A role by name; ``none`` takes a role away."""
    if value == "none":
        return None
    try:
        return Role(value)
    except ValueError:
        names = ", ".join([*(r.value for r in Role), "none"])
        raise Invalid("role", f"must be one of: {names}") from None


FEED_INCLUDES = ("tags",)


def feed_includes_tags(include: str | None) -> bool:
    """The feed's ``include``: absent (RealWorld's feed) or ``tags``."""
    if include is None:
        return False
    if include not in FEED_INCLUDES:
        raise Invalid("include", f"must be one of: {', '.join(FEED_INCLUDES)}")
    return True


def timestamp(moment: datetime) -> datetime:
    """Aware UTC, truncated to milliseconds: the precision every store and the wire keep."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def is_storable_id(value: int) -> bool:
    """Whether an id from outside (a URL, a token) could name a stored row at all."""
    return 0 < value <= MAX_ID
