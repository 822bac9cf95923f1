"""Entities and read models. Frozen: a change is a new value handed back to a repository."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Literal, TypeAlias, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    id: int
    username: str
    email: str
    password_hash: str
    bio: str | None = None
    image: str | None = None

    def as_profile(self, *, following: bool) -> Profile:
        return Profile(username=self.username, bio=self.bio, image=self.image, following=following)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewUser:
    username: str
    email: str
    password_hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """A user as others see them; ``following`` is relative to the viewer."""

    username: str
    bio: str | None
    image: str | None
    following: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    id: int
    slug: str
    title: str
    description: str
    body: str
    tags: tuple[str, ...]
    author_id: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NewArticle:
    slug: str
    title: str
    description: str
    body: str
    tags: tuple[str, ...]
    author_id: int
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleSummary:
    """An article as listed: everything but the body, with the viewer-relative fields filled."""

    slug: str
    title: str
    description: str
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    favorited: bool
    favorites_count: int
    author: Profile


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleView(ArticleSummary):
    """An article shown on its own, body included."""

    body: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Comment:
    id: int
    article_id: int
    author_id: int
    body: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CommentView:
    id: int
    body: str
    created_at: datetime
    updated_at: datetime
    author: Profile


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleFilter:
    """Exact-match filters of the article list; ``None`` means "any"."""

    tag: str | None = None
    author: str | None = None
    favorited_by: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list and the total number of matches (not the page length)."""

    items: tuple[T, ...]
    total: int


class Unchanged(enum.Enum):
    """Marks a field an update leaves alone (distinct from ``None``, which may mean "clear")."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED
Change: TypeAlias = T | Literal[Unchanged.UNCHANGED]


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenClaims:
    """What a verified token says: whose it is, its own id, when it was issued, and until
    when it is valid (unless revoked before)."""

    user_id: int
    token_id: str
    issued_at: datetime
    expires_at: datetime


class RateLimit(enum.Enum):
    """The rate limits, each counted per key in a moving window; the allowances are settings."""

    LOGIN = "login"  # attempts per client address
    LOGIN_FAILURE = "login-failure"  # failed attempts per account (the email, lower-cased)
    REGISTRATION = "registration"  # per client address
    WRITE_BY_ACCOUNT = "write-account"  # writes per signed-in user
    WRITE_BY_ADDRESS = "write-address"  # writes per client address
