"""Entities and read models. Frozen: a change is a new value handed back to a repository."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Generic, Literal, TypeAlias, TypeVar

T = TypeVar("T")


class Role(enum.StrEnum):
    """Staff roles, granted with ``broadsheet users grant``; everyone else has none (a
    reader, and an author of what they write)."""

    ADMIN = "admin"
    MODERATOR = "moderator"


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    id: int
    username: str
    email: str
    password_hash: str
    bio: str | None = None
    image: str | None = None
    role: Role | None = None
    suspended: bool = False

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
class UserRecord(User):
    """A user as a bulk load writes it: with the counters the store keeps beside it."""

    articles_count: int
    favorites_count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowRecord:
    follower_id: int
    followee_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleRecord(Article):
    """An article as a bulk load writes it, its favorites counted."""

    favorites_count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FavoriteRecord:
    """A favorite, with the ``created_at`` of its article (which never changes)."""

    user_id: int
    article_id: int
    article_created_at: datetime
    favorited_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleFilter:
    """Exact-match filters of the article list; ``None`` means "any"."""

    tag: str | None = None
    author: str | None = None
    favorited_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """A span of time, from ``start`` (included) to ``end`` (not), and the span of the same
    length just before it, which analytics compare against."""

    start: datetime
    end: datetime

    @property
    def previous_start(self) -> datetime:
        return self.start - (self.end - self.start)


@dataclass(frozen=True, slots=True, kw_only=True)
class TagTrend:
    """A tag, the articles published with it in a window and in the window before."""

    tag: str
    articles: int
    previous: int

    @property
    def change(self) -> int:
        return self.articles - self.previous


@dataclass(frozen=True, slots=True, kw_only=True)
class TrendingArticle:
    """An article and the favorites it received in a window (and still has)."""

    article: ArticleSummary
    favorites: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorStats:
    profile: Profile
    articles: int
    favorites_received: int  # over all their articles, as they stand
    followers: int
    following: int
    top_articles: tuple[ArticleSummary, ...]  # most favorited first, ties newest first


@dataclass(frozen=True, slots=True, kw_only=True)
class Suggestion:
    """Someone to follow, and how many of the people the viewer follows follow them."""

    profile: Profile
    followed_by: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscriptions:
    """What a reader's wider feed draws from: the authors they follow (by username key) and
    the tags they subscribe to (alphabetical)."""

    authors: tuple[Profile, ...]
    tags: tuple[str, ...]


class AuditAction(enum.StrEnum):
    DELETE_ARTICLE = "article.delete"
    DELETE_COMMENT = "comment.delete"
    SUSPEND_USER = "user.suspend"
    REINSTATE_USER = "user.reinstate"
    GRANT_ROLE = "user.grant"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAuditEntry:
    """A staff action, recorded in the unit of work that takes it. ``actor`` is the staff
    member's username, or None for the command line (the operator)."""

    actor: str | None
    action: AuditAction
    target: str  # the article's slug, "slug#comment id", the username
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry(NewAuditEntry):
    id: int


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


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleChanges:
    """The fields an article update really changes; ``None`` leaves a field as it is."""

    slug: str | None = None
    title: str | None = None
    description: str | None = None
    body: str | None = None
    tags: tuple[str, ...] | None = None

    def columns(self) -> dict[str, str]:
        """The changed text fields, by name (tags apart: stores keep them differently)."""
        named = {
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "body": self.body,
        }
        return {name: value for name, value in named.items() if value is not None}

    def applied_to(self, article: Article, *, updated_at: datetime) -> Article:
        return replace(
            article,
            slug=article.slug if self.slug is None else self.slug,
            title=article.title if self.title is None else self.title,
            description=article.description if self.description is None else self.description,
            body=article.body if self.body is None else self.body,
            tags=article.tags if self.tags is None else self.tags,
            updated_at=updated_at,
        )

    def __bool__(self) -> bool:
        return bool(self.columns()) or self.tags is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserChanges:
    """The account fields an update really changes; absent ones stay as they are."""

    username: Change[str] = UNCHANGED
    email: Change[str] = UNCHANGED
    password_hash: Change[str] = UNCHANGED
    bio: Change[str | None] = UNCHANGED
    image: Change[str | None] = UNCHANGED

    def fields(self) -> dict[str, str | None]:
        named = {
            "username": self.username,
            "email": self.email,
            "password_hash": self.password_hash,
            "bio": self.bio,
            "image": self.image,
        }
        return {name: value for name, value in named.items() if value is not UNCHANGED}

    def applied_to(self, user: User) -> User:
        return replace(
            user,
            username=user.username if self.username is UNCHANGED else self.username,
            email=user.email if self.email is UNCHANGED else self.email,
            password_hash=(
                user.password_hash if self.password_hash is UNCHANGED else self.password_hash
            ),
            bio=user.bio if self.bio is UNCHANGED else self.bio,
            image=user.image if self.image is UNCHANGED else self.image,
        )

    def __bool__(self) -> bool:
        return bool(self.fields())


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One inconsistency a store's integrity check found: what (a short kind, e.g.
    ``favorites_count``), where and how, and whether the check repaired it."""

    kind: str
    detail: str
    repaired: bool = False

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}" + (" (repaired)" if self.repaired else "")
