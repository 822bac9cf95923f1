"""The ports: what services need from the outside world, as small Protocols.

The docstrings are the contract. Every adapter (SQL, MongoDB, the in-memory reference
store) passes the same contract tests in ``tests/contract``.

Repositories never commit. Under concurrency a store may give up on a unit of work with
``TransientConflict``; it has then written nothing, and the use case may run again.
Updates write only what changed, so concurrent edits of different fields all land.
Lookups by username are case-insensitive and NFKC-normalised (see
``rules.username_key``); every other match is exact. ``viewer_id`` is the user asking, or
``None`` for an anonymous request, and decides ``following`` and ``favorited``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from broadsheet.domain.models import (
    Article,
    ArticleChanges,
    ArticleFilter,
    ArticleRecord,
    ArticleSummary,
    ArticleView,
    AuditEntry,
    AuthorStats,
    Comment,
    CommentView,
    FavoriteRecord,
    Finding,
    FollowRecord,
    NewArticle,
    NewAuditEntry,
    NewUser,
    Page,
    Profile,
    RateLimit,
    Role,
    Subscriptions,
    Suggestion,
    TagTrend,
    TokenClaims,
    TrendingArticle,
    User,
    UserChanges,
    UserRecord,
    Window,
)
from broadsheet.domain.search import SearchQuery


class Users(Protocol):
    async def add(self, new: NewUser) -> User:
        """Store a new user. Raises ``AlreadyExists("username" | "email")``."""
        ...

    async def get(self, user_id: int) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None:
        """``email`` is already normalised (lower case)."""
        ...

    async def get_by_username(self, username: str) -> User | None: ...

    async def update(self, user_id: int, changes: UserChanges) -> User:
        """Write the changed fields only (a concurrent change of another field stays) and
        return the user as stored after the write. Raises ``AlreadyExists("username" |
        "email")``."""
        ...

    async def profile(self, username: str, *, viewer_id: int | None) -> Profile | None:
        """The named user as the viewer sees them, in one round trip."""
        ...

    async def profiles(
        self, user_ids: Sequence[int], *, viewer_id: int | None
    ) -> dict[int, Profile]:
        """Those of the users that exist, by id, as the viewer sees them, in one round trip."""
        ...

    async def set_role(self, user_id: int, role: Role | None) -> None: ...

    async def set_suspended(self, user_id: int, suspended: bool) -> None: ...


class Follows(Protocol):
    async def add(self, *, follower_id: int, followee_id: int) -> None:
        """Idempotent, also under concurrency: never a duplicate, never a unique violation."""
        ...

    async def remove(self, *, follower_id: int, followee_id: int) -> None:
        """Idempotent: removing a follow that does not exist does nothing."""
        ...


class Articles(Protocol):
    async def add(self, new: NewArticle) -> Article:
        """Store an article and its tags. Raises ``AlreadyExists("slug")`` and then leaves
        the unit of work usable, so the caller may retry with another slug."""
        ...

    async def get_by_slug(self, slug: str) -> Article | None: ...

    async def update(
        self, article: Article, changes: ArticleChanges, *, updated_at: datetime
    ) -> Article:
        """Apply ``changes`` to ``article`` as this unit of work read it, and set ``updated_at``.

        Writes only the changed fields and the tags added or removed, and only if the
        article is still as read: its ``updated_at`` (which every edit moves forward)
        unchanged. Otherwise a concurrent edit committed first, or the article is gone, and
        it raises ``TransientConflict`` so the use case runs again from a fresh read. Raises
        ``AlreadyExists("slug")`` as ``add``.
        """
        ...

    async def delete(self, article_id: int) -> None:
        """Delete the article with its tags, comments and favorites."""
        ...

    async def view(self, slug: str, *, viewer_id: int | None) -> ArticleView | None: ...

    async def find(
        self, filters: ArticleFilter, *, viewer_id: int | None, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        """Matching articles, newest first (ties broken by newest id), and their total.

        A bounded number of round trips whatever the page size: no per-article queries.
        """
        ...

    async def feed(self, *, viewer_id: int, limit: int, offset: int) -> Page[ArticleSummary]:
        """Articles by the users the viewer follows, ordered and counted as ``find``."""
        ...

    async def feed_with_tags(
        self, *, viewer_id: int, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        """Articles by the users the viewer follows or with a tag they subscribe to, each
        once, newest first (ties by newest id); the total counts each match once."""
        ...

    async def search(
        self, query: SearchQuery, *, viewer_id: int | None, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        """The articles whose search terms (``search.document_terms``, kept in step by every
        write of the title, description or body) match ``query`` as ``search.matches`` says:
        the same set on every store. Most relevant first by the store's own ranking, ties
        newest first; the total counts every match."""
        ...


class Favorites(Protocol):
    """Any number of users may favorite one article at once without conflicting. Once the
    unit of work has committed, a ``view`` counts its favorite (or no longer does)."""

    async def add(self, *, user_id: int, article_id: int, at: datetime) -> None:
        """Idempotent, also under concurrency (a favorite already there keeps its ``at``).
        Kept only if the article still exists when the unit of work commits; otherwise this
        call or ``commit()`` raises ``NotFound("article")``."""
        ...

    async def remove(self, *, user_id: int, article_id: int) -> None:
        """Idempotent."""
        ...


class TagSubscriptions(Protocol):
    async def add(self, *, user_id: int, tag: str) -> None:
        """Idempotent, also under concurrency. The tag need not be in use yet."""
        ...

    async def remove(self, *, user_id: int, tag: str) -> None:
        """Idempotent."""
        ...

    async def of(self, user_id: int) -> Subscriptions:
        """The user's followed authors (``following`` true) and subscribed tags."""
        ...


class AuditLog(Protocol):
    """Every staff action, kept for admins to read; entries are never changed."""

    async def record(self, entry: NewAuditEntry) -> AuditEntry:
        """Kept only if the unit of work commits, with the action it records."""
        ...

    async def page(self, *, limit: int, offset: int) -> Page[AuditEntry]:
        """Newest first (by id), with the total."""
        ...


class Comments(Protocol):
    async def add(
        self, *, article_id: int, author_id: int, body: str, created_at: datetime
    ) -> Comment:
        """Store a comment; the store assigns its integer id. Kept only if the article still
        exists when the unit of work commits; otherwise this call or ``commit()`` raises
        ``NotFound("article")``."""
        ...

    async def get(self, comment_id: int) -> Comment | None: ...

    async def delete(self, comment_id: int) -> None: ...

    async def list_for(self, article_id: int, *, viewer_id: int | None) -> list[CommentView]:
        """The article's comments, oldest first (ties by id), in one round trip."""
        ...


class Tags(Protocol):
    async def popular(self) -> list[str]:
        """Every tag in use, most used first, ties alphabetical. Never capped."""
        ...


class Analytics(Protocol):
    """Aggregates, each computed by the store in one query or pipeline (never a loop over
    rows in Python) from an index that matches it."""

    async def tag_trends(self, window: Window, *, limit: int) -> list[TagTrend]:
        """Tags by the number of articles published with them in the window, most first,
        ties alphabetical, each with its number in the window before; a tag with no article
        in the window is not listed."""
        ...

    async def trending(
        self, window: Window, *, viewer_id: int | None, limit: int
    ) -> list[TrendingArticle]:
        """Articles by the favorites made in the window that still stand, most first, ties
        newest article first (then newest id); articles with none are not listed."""
        ...

    async def author_stats(
        self, username: str, *, viewer_id: int | None, top: int
    ) -> AuthorStats | None:
        """The named user's figures and their ``top`` most favorited articles (ties newest
        first, then newest id), or None for no such user."""
        ...


class Graph(Protocol):
    """The follow graph: a follow is an edge from follower to followee."""

    async def suggestions(self, viewer_id: int, *, limit: int) -> list[Suggestion]:
        """Users followed by the people the viewer follows (the first
        ``rules.SUGGESTIONS_ASK`` of them, by id), ranked by how many of those follow each,
        most first, ties by username key; never the viewer nor anyone they follow. Each
        profile's ``following`` is false (the viewer follows none of them)."""
        ...

    async def path(self, from_id: int, to_id: int, *, max_follows: int) -> list[int] | None:
        """The user ids of a shortest chain of follows from ``from_id`` to ``to_id`` (both
        included; ``[from_id]`` alone if they are the same), at most ``max_follows`` follows
        long, or None. Among shortest chains, the one whose ids compare smallest, in order."""
        ...


class UnitOfWork(Protocol):
    """One transaction. ``async with uow:`` opens it; leaving without ``commit()`` rolls back.

    A unit of work is used for one use case and then thrown away. After ``commit()`` it may
    still read, until it is left: those reads see committed data, this commit's included.
    """

    def read_only(self) -> Self:
        """Declare, before entering, that this use case only reads: the store may then skip
        the transaction's round trips and its write lock (each read still sees only committed
        data). ``commit()`` on it is an error."""
        ...

    # Read-only: each adapter may expose its own concrete repository types.
    @property
    def users(self) -> Users: ...
    @property
    def follows(self) -> Follows: ...
    @property
    def articles(self) -> Articles: ...
    @property
    def favorites(self) -> Favorites: ...
    @property
    def comments(self) -> Comments: ...
    @property
    def tags(self) -> Tags: ...
    @property
    def analytics(self) -> Analytics: ...
    @property
    def graph(self) -> Graph: ...
    @property
    def subscriptions(self) -> TagSubscriptions: ...
    @property
    def audit(self) -> AuditLog: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class BulkLoader(Protocol):
    """Writes a generated site straight into an EMPTY store, bypassing the use cases: how
    ``broadsheet seed`` writes a million articles in minutes rather than days.

    The loader checks nothing, so the caller guarantees every rule the use cases keep: ids,
    slugs, emails and username keys (``rules.username_key``) unique; no self-follows, no
    follow or favorite twice; tags as ``rules.tags`` makes them; text as the input rules
    accept it; timestamps at store precision (``rules.timestamp``); each row's references
    written before it (users before anything of theirs, an article before its favorites and
    comments); and every counter equal to the rows it counts: a user's ``articles_count``
    and ``favorites_count``, an article's ``favorites_count``, each tag's number of
    articles, the total of articles given to ``finish`` (a store keeps those it needs).
    Loaded so, the store is one that ``Storage.check`` finds nothing in, and the API
    carries on from it: the next user, article or comment it adds gets an id after every
    loaded one. A row that breaks a constraint the store enforces fails the load with the
    store's own error.

    ``async with loader:`` raises ``StoreNotReady`` for a store that holds any user or
    article, or whose schema is not the one this version writes. Rows may be committed in
    batches as they come: a load that fails part way leaves what it committed (the store is
    then not empty; load again into a new one). ``finish`` commits the rest.
    """

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    async def add_users(self, users: Sequence[UserRecord]) -> None: ...

    async def add_follows(self, follows: Sequence[FollowRecord]) -> None: ...

    async def add_tags(self, articles_per_tag: Mapping[str, int]) -> None:
        """Every tag the articles will carry, with how many of them carry it."""
        ...

    async def add_articles(self, articles: Sequence[ArticleRecord]) -> None:
        """The articles with their tags."""
        ...

    async def add_favorites(self, favorites: Sequence[FavoriteRecord]) -> None: ...

    async def add_comments(self, comments: Sequence[Comment]) -> None: ...

    async def finish(self, *, articles: int) -> None:
        """Record the site's total of ``articles``, make the store's id counters continue
        after the ids loaded, and commit."""
        ...

    @property
    def written(self) -> Mapping[str, int]:
        """Rows (documents) written so far, by the store's own table (collection) names."""
        ...


class PasswordHasher(Protocol):
    """Hashing is slow on purpose; an implementation keeps it off the event loop and bounds
    how many hashes run at once."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """True when ``password`` matches; never raises for a wrong password."""
        ...


class TokenCodec(Protocol):
    def issue(self, user_id: int) -> str:
        """A new token with its own id, valid for the configured lifetime."""
        ...

    def read(self, token: str) -> TokenClaims:
        """What a token whose signature and expiry verify says. Raises ``TokenInvalid``;
        revocation is checked separately (``TokenRevocations``)."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC."""
        ...


class Storage(Protocol):
    """A configured backend: hands out units of work and owns the connections behind them."""

    def unit_of_work(self) -> UnitOfWork:
        """A new, not yet entered unit of work."""
        ...

    async def migrate(self) -> None:
        """Bring the schema (tables, indexes, validators) up to date. Idempotent."""
        ...

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` if the database cannot be reached."""
        ...

    async def schema_problem(self) -> str | None:
        """Why the database cannot serve this version of Broadsheet (its schema is behind
        or unknown, the server is too old), in one line naming the fix; ``None`` when it can.
        Raises ``StoreUnavailable``."""
        ...

    async def shared_secret(self, name: str, candidate: str) -> str:
        """The secret stored under ``name``; stores ``candidate`` first if there is none.
        Race-free: processes starting together all get the one value that was stored."""
        ...

    def token_revocations(self) -> TokenRevocations:
        """The database's own list of revoked tokens (used where no Redis is configured)."""
        ...

    def bulk_loader(self) -> BulkLoader:
        """A new, not yet entered loader into this (empty) store."""
        ...

    async def check(self, *, repair: bool) -> list[Finding]:
        """Compare what the store keeps derived or by reference with the ground truth:
        counters against what they count, and references to articles and users that no
        longer exist. One finding per inconsistency; with ``repair``, each is also fixed
        (counters recounted, dangling documents or rows deleted). Meant for a quiet
        database: a write in flight may show as a finding."""
        ...

    async def close(self) -> None: ...


class TokenRevocations(Protocol):
    """Tokens that stop working before they expire: one token by its id (logout), or every
    token of a user issued before an instant but one (a password change, which spares the
    token that made it; later, a suspension, which spares none).

    An entry is kept at least ``until`` (the latest expiry of the tokens it covers: after
    that they fail on their own) and may be forgotten then. Kept in Redis when one is
    configured, in the database otherwise. A store that cannot be reached raises
    ``StoreUnavailable``: an unanswerable check never lets a token through.
    """

    async def revoke(self, token_id: str, *, until: datetime) -> None:
        """Idempotent."""
        ...

    async def revoke_issued_before(
        self,
        user_id: int,
        instant: datetime,
        *,
        until: datetime,
        spared_token_id: str | None = None,
    ) -> None:
        """Every token of the user issued before ``instant`` except the one whose id is
        ``spared_token_id`` (``None``: no exception).

        A user has one cut-off: the latest instant given wins together with the token it
        spares, whatever order calls arrive in, so a later call revokes the token an earlier
        one spared (unless it spares the same one). Two calls with the same instant sparing
        different tokens spare neither."""
        ...

    async def is_revoked(self, claims: TokenClaims) -> bool:
        """One round trip: the token's own entry and its user's cut-off together."""
        ...


class RateLimiter(Protocol):
    """Counts events per ``(limit, key)`` in a moving window; the allowances are configured.

    Shared by every worker when it counts in Redis. A counter store that cannot be reached
    never fails a request: the adapter then counts in process (see ``broadsheet.ratelimit``).
    """

    async def hit(self, limit: RateLimit, key: str) -> None:
        """Count one event. Raises ``RateLimited`` (counting nothing) when the allowance is
        already used up."""
        ...

    async def check(self, limit: RateLimit, key: str) -> None:
        """Raise ``RateLimited`` when the allowance is used up; counts nothing."""
        ...


class PageCache(Protocol):
    """Whole answers to anonymous reads, shared by every worker and instance.

    Each answer is kept under the cache's current *generation*, and every write that could
    change what anonymous readers see starts a new one before the write is acknowledged: an
    answer computed before an acknowledged write is never served after it. Only anonymous
    answers go in, so no one is shown another user's ``favorited`` or ``following``.

    A cache that cannot be reached never fails a request: ``look_up`` then answers ``None``
    and the request is answered from the store (see ``broadsheet.pagecache``).
    """

    async def look_up(self, key: str) -> tuple[str, bytes | None] | None:
        """``(generation, the kept body or None)``, or ``None`` if the cache cannot say."""
        ...

    async def keep(self, generation: str, key: str, body: bytes) -> None:
        """Keep ``body`` as the answer to ``key`` in ``generation`` (best effort)."""
        ...

    async def invalidate(self) -> None:
        """Start a new generation: every answer kept so far is forgotten."""
        ...
