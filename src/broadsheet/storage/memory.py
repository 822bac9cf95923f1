"""The in-memory reference store: every port over plain dicts and sets, for unit tests and demos.

A unit of work runs on its own copy of the state and swaps it in on ``commit()``, so leaving
without committing discards everything. A lock held from ``__aenter__`` to ``__aexit__`` makes
units of work run one at a time, which is the strongest isolation there is.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from broadsheet.domain import rules, search
from broadsheet.domain.errors import AlreadyExists, NotFound, StoreNotReady, TransientConflict
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
from broadsheet.domain.ports import (
    Analytics,
    Articles,
    AuditLog,
    Comments,
    Favorites,
    Follows,
    Graph,
    Tags,
    TagSubscriptions,
    Users,
)
from broadsheet.domain.search import SearchQuery


@dataclass(kw_only=True)
class _State:
    users: dict[int, User] = field(default_factory=dict)
    follows: set[tuple[int, int]] = field(default_factory=set)  # (follower_id, followee_id)
    articles: dict[int, Article] = field(default_factory=dict)
    # (user_id, article_id): when it was favorited
    favorites: dict[tuple[int, int], datetime] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    tag_subscriptions: set[tuple[int, str]] = field(default_factory=set)  # (user_id, tag)
    audit: list[AuditEntry] = field(default_factory=list)
    last_ids: Counter[str] = field(default_factory=Counter)

    def copy(self) -> _State:
        # Entities are frozen dataclasses, so copying the containers isolates the copy fully.
        return _State(
            users=dict(self.users),
            follows=set(self.follows),
            articles=dict(self.articles),
            favorites=dict(self.favorites),
            comments=dict(self.comments),
            tag_subscriptions=set(self.tag_subscriptions),
            audit=list(self.audit),
            last_ids=Counter(self.last_ids),
        )

    def next_id(self, kind: str) -> int:
        self.last_ids[kind] += 1
        return self.last_ids[kind]

    def user_named(self, username: str) -> User | None:
        key = rules.username_key(username)
        return next((u for u in self.users.values() if rules.username_key(u.username) == key), None)

    def profile(self, user: User, viewer_id: int | None) -> Profile:
        return user.as_profile(following=(viewer_id, user.id) in self.follows)


class _Repository:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    @property
    def _state(self) -> _State:
        return self._uow.state


class MemoryUsers(_Repository):
    async def add(self, new: NewUser) -> User:
        self._check_unique(new.username, new.email, user_id=None)
        user = User(
            id=self._state.next_id("user"),
            username=new.username,
            email=new.email,
            password_hash=new.password_hash,
        )
        self._state.users[user.id] = user
        return user

    async def get(self, user_id: int) -> User | None:
        return self._state.users.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        return next((u for u in self._state.users.values() if u.email == email), None)

    async def get_by_username(self, username: str) -> User | None:
        return self._state.user_named(username)

    async def update(self, user_id: int, changes: UserChanges) -> User:
        if user_id not in self._state.users:
            raise LookupError(f"no user {user_id}")
        user = changes.applied_to(self._state.users[user_id])
        self._check_unique(user.username, user.email, user_id=user.id)
        self._state.users[user.id] = user
        return user

    async def profile(self, username: str, *, viewer_id: int | None) -> Profile | None:
        user = self._state.user_named(username)
        return None if user is None else self._state.profile(user, viewer_id)

    async def profiles(
        self, user_ids: Sequence[int], *, viewer_id: int | None
    ) -> dict[int, Profile]:
        users = self._state.users
        return {i: self._state.profile(users[i], viewer_id) for i in user_ids if i in users}

    async def set_role(self, user_id: int, role: Role | None) -> None:
        self._state.users[user_id] = replace(self._state.users[user_id], role=role)

    async def set_suspended(self, user_id: int, suspended: bool) -> None:
        self._state.users[user_id] = replace(self._state.users[user_id], suspended=suspended)

    def _check_unique(self, username: str, email: str, *, user_id: int | None) -> None:
        others = [u for u in self._state.users.values() if u.id != user_id]
        key = rules.username_key(username)
        if any(rules.username_key(u.username) == key for u in others):
            raise AlreadyExists("username")
        if any(u.email == email for u in others):
            raise AlreadyExists("email")


class MemoryFollows(_Repository):
    async def add(self, *, follower_id: int, followee_id: int) -> None:
        self._state.follows.add((follower_id, followee_id))

    async def remove(self, *, follower_id: int, followee_id: int) -> None:
        self._state.follows.discard((follower_id, followee_id))


class MemoryArticles(_Repository):
    async def add(self, new: NewArticle) -> Article:
        self._check_unique_slug(new.slug, article_id=None)
        article = Article(
            id=self._state.next_id("article"),
            slug=new.slug,
            title=new.title,
            description=new.description,
            body=new.body,
            tags=new.tags,
            author_id=new.author_id,
            created_at=new.created_at,
            updated_at=new.created_at,
        )
        self._state.articles[article.id] = article
        return article

    async def get_by_slug(self, slug: str) -> Article | None:
        return next((a for a in self._state.articles.values() if a.slug == slug), None)

    async def update(
        self, before: Article, changes: ArticleChanges, *, updated_at: datetime
    ) -> Article:
        current = self._state.articles.get(before.id)
        if current is None or current.updated_at != before.updated_at:
            raise TransientConflict
        if changes.slug is not None:
            self._check_unique_slug(changes.slug, article_id=before.id)
        article = changes.applied_to(current, updated_at=updated_at)
        self._state.articles[article.id] = article
        return article

    async def delete(self, article_id: int) -> None:
        state = self._state
        state.articles.pop(article_id, None)
        state.favorites = {key: at for key, at in state.favorites.items() if key[1] != article_id}
        state.comments = {i: c for i, c in state.comments.items() if c.article_id != article_id}

    async def view(self, slug: str, *, viewer_id: int | None) -> ArticleView | None:
        article = await self.get_by_slug(slug)
        if article is None:
            return None
        summary = self._summary(article, viewer_id)
        listed = {f.name: getattr(summary, f.name) for f in fields(summary)}
        return ArticleView(**listed, body=article.body)

    async def find(
        self, filters: ArticleFilter, *, viewer_id: int | None, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        state = self._state
        matches = list(state.articles.values())
        if filters.tag is not None:
            matches = [a for a in matches if filters.tag in a.tags]
        if filters.author is not None:
            author = state.user_named(filters.author)
            matches = [a for a in matches if author is not None and a.author_id == author.id]
        if filters.favorited_by is not None:
            fan = state.user_named(filters.favorited_by)
            matches = [a for a in matches if fan is not None and (fan.id, a.id) in state.favorites]
        return self._page(matches, viewer_id=viewer_id, limit=limit, offset=offset)

    async def feed(self, *, viewer_id: int, limit: int, offset: int) -> Page[ArticleSummary]:
        followed = {followee for follower, followee in self._state.follows if follower == viewer_id}
        matches = [a for a in self._state.articles.values() if a.author_id in followed]
        return self._page(matches, viewer_id=viewer_id, limit=limit, offset=offset)

    async def feed_with_tags(
        self, *, viewer_id: int, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        state = self._state
        followed = {followee for follower, followee in state.follows if follower == viewer_id}
        tags = {tag for user_id, tag in state.tag_subscriptions if user_id == viewer_id}
        matches = [
            a for a in state.articles.values() if a.author_id in followed or tags & set(a.tags)
        ]
        return self._page(matches, viewer_id=viewer_id, limit=limit, offset=offset)

    async def search(
        self, query: SearchQuery, *, viewer_id: int | None, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        found = {}
        for article in self._state.articles.values():
            terms = search.document_terms(article.title, article.description, article.body)
            if search.matches(query, terms):
                found[article.id] = _relevance(query, terms)
        newest_first = sorted(
            (self._state.articles[i] for i in found),
            key=lambda a: (a.created_at, a.id),
            reverse=True,
        )
        ranked = sorted(newest_first, key=lambda a: found[a.id], reverse=True)
        items = tuple(self._summary(a, viewer_id) for a in ranked[offset : offset + limit])
        return Page(items, total=len(ranked))

    def _page(
        self, matches: Iterable[Article], *, viewer_id: int | None, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        ordered = sorted(matches, key=lambda a: (a.created_at, a.id), reverse=True)
        items = tuple(self._summary(a, viewer_id) for a in ordered[offset : offset + limit])
        return Page(items, total=len(ordered))

    def _summary(self, article: Article, viewer_id: int | None) -> ArticleSummary:
        state = self._state
        fans = {user_id for user_id, article_id in state.favorites if article_id == article.id}
        return ArticleSummary(
            slug=article.slug,
            title=article.title,
            description=article.description,
            tags=article.tags,
            created_at=article.created_at,
            updated_at=article.updated_at,
            favorited=viewer_id in fans,
            favorites_count=len(fans),
            author=state.profile(state.users[article.author_id], viewer_id),
        )

    def _check_unique_slug(self, slug: str, *, article_id: int | None) -> None:
        if any(a.slug == slug and a.id != article_id for a in self._state.articles.values()):
            raise AlreadyExists("slug")


def _relevance(query: SearchQuery, terms: tuple[str, ...]) -> int:
    """How many of the article's terms the query's words and prefixes hit."""
    words = set(query.words)
    prefixes = tuple(t.words[0] for t in query.terms if t.prefix)
    return sum(1 for term in terms if term in words or term.startswith(prefixes))


class MemoryAnalytics(_Repository):
    async def tag_trends(self, window: Window, *, limit: int) -> list[TagTrend]:
        current: Counter[str] = Counter()
        previous: Counter[str] = Counter()
        for article in self._state.articles.values():
            if window.start <= article.created_at < window.end:
                current.update(article.tags)
            elif window.previous_start <= article.created_at < window.start:
                previous.update(article.tags)
        ranked = sorted(current, key=lambda tag: (-current[tag], tag))[:limit]
        return [TagTrend(tag=t, articles=current[t], previous=previous[t]) for t in ranked]

    async def trending(
        self, window: Window, *, viewer_id: int | None, limit: int
    ) -> list[TrendingArticle]:
        received = Counter(
            article_id
            for (_, article_id), at in self._state.favorites.items()
            if window.start <= at < window.end
        )
        articles = self._state.articles

        def rank(article_id: int) -> tuple[int, datetime, int]:
            return (received[article_id], articles[article_id].created_at, article_id)

        top = sorted(received, key=rank, reverse=True)[:limit]
        summary = MemoryArticles(self._uow)._summary
        return [
            TrendingArticle(article=summary(articles[i], viewer_id), favorites=received[i])
            for i in top
        ]

    async def author_stats(
        self, username: str, *, viewer_id: int | None, top: int
    ) -> AuthorStats | None:
        state = self._state
        author = state.user_named(username)
        if author is None:
            return None
        written = [a for a in state.articles.values() if a.author_id == author.id]
        summary = MemoryArticles(self._uow)._summary
        listed = [(summary(a, viewer_id), a) for a in written]
        listed.sort(key=lambda pair: (pair[0].favorites_count, pair[1].created_at, pair[1].id))
        best = [item for item, _ in reversed(listed)]
        ids = {a.id for a in written}
        return AuthorStats(
            profile=state.profile(author, viewer_id),
            articles=len(written),
            favorites_received=sum(1 for _, a in state.favorites if a in ids),
            followers=sum(1 for _, followee in state.follows if followee == author.id),
            following=sum(1 for follower, _ in state.follows if follower == author.id),
            top_articles=tuple(best[:top]),
        )


class MemoryGraph(_Repository):
    async def suggestions(self, viewer_id: int, *, limit: int) -> list[Suggestion]:
        follows = self._state.follows
        mine = {followee for follower, followee in follows if follower == viewer_id}
        asked = set(sorted(mine)[: rules.SUGGESTIONS_ASK])
        followed_by = Counter(
            followee
            for follower, followee in follows
            if follower in asked and followee != viewer_id and followee not in mine
        )
        users = self._state.users
        ranked = sorted(
            followed_by, key=lambda i: (-followed_by[i], rules.username_key(users[i].username))
        )
        return [
            Suggestion(profile=users[i].as_profile(following=False), followed_by=followed_by[i])
            for i in ranked[:limit]
        ]

    async def path(self, from_id: int, to_id: int, *, max_follows: int) -> list[int] | None:
        # Breadth first, keeping the smallest (in id order) shortest path to each user.
        best: dict[int, tuple[int, ...]] = {from_id: (from_id,)}
        frontier = [from_id]
        for _ in range(max_follows + 1):
            if to_id in best:
                return list(best[to_id])
            reached: dict[int, tuple[int, ...]] = {}
            for user in frontier:
                for follower, followee in self._state.follows:
                    if follower == user and followee not in best:
                        path = (*best[user], followee)
                        if followee not in reached or path < reached[followee]:
                            reached[followee] = path
            best.update(reached)
            frontier = list(reached)
        return None


class MemoryTagSubscriptions(_Repository):
    async def add(self, *, user_id: int, tag: str) -> None:
        self._state.tag_subscriptions.add((user_id, tag))

    async def remove(self, *, user_id: int, tag: str) -> None:
        self._state.tag_subscriptions.discard((user_id, tag))

    async def of(self, user_id: int) -> Subscriptions:
        state = self._state
        followed = [state.users[b] for a, b in state.follows if a == user_id]
        followed.sort(key=lambda user: rules.username_key(user.username))
        return Subscriptions(
            authors=tuple(user.as_profile(following=True) for user in followed),
            tags=tuple(sorted(tag for u, tag in state.tag_subscriptions if u == user_id)),
        )


class MemoryAuditLog(_Repository):
    async def record(self, entry: NewAuditEntry) -> AuditEntry:
        kept = AuditEntry(
            id=self._state.next_id("audit"),
            actor=entry.actor,
            action=entry.action,
            target=entry.target,
            reason=entry.reason,
            at=entry.at,
        )
        self._state.audit.append(kept)
        return kept

    async def page(self, *, limit: int, offset: int) -> Page[AuditEntry]:
        newest_first = sorted(self._state.audit, key=lambda entry: entry.id, reverse=True)
        return Page(tuple(newest_first[offset : offset + limit]), len(newest_first))


class MemoryFavorites(_Repository):
    async def add(self, *, user_id: int, article_id: int, at: datetime) -> None:
        if article_id not in self._state.articles:
            raise NotFound("article")
        self._state.favorites.setdefault((user_id, article_id), at)

    async def remove(self, *, user_id: int, article_id: int) -> None:
        self._state.favorites.pop((user_id, article_id), None)


class MemoryComments(_Repository):
    async def add(
        self, *, article_id: int, author_id: int, body: str, created_at: datetime
    ) -> Comment:
        if article_id not in self._state.articles:
            raise NotFound("article")
        comment = Comment(
            id=self._state.next_id("comment"),
            article_id=article_id,
            author_id=author_id,
            body=body,
            created_at=created_at,
            updated_at=created_at,
        )
        self._state.comments[comment.id] = comment
        return comment

    async def get(self, comment_id: int) -> Comment | None:
        return self._state.comments.get(comment_id)

    async def delete(self, comment_id: int) -> None:
        self._state.comments.pop(comment_id, None)

    async def list_for(self, article_id: int, *, viewer_id: int | None) -> list[CommentView]:
        state = self._state
        found = [c for c in state.comments.values() if c.article_id == article_id]
        return [
            CommentView(
                id=c.id,
                body=c.body,
                created_at=c.created_at,
                updated_at=c.updated_at,
                author=state.profile(state.users[c.author_id], viewer_id),
            )
            for c in sorted(found, key=lambda c: (c.created_at, c.id))
        ]


class MemoryTags(_Repository):
    async def popular(self) -> list[str]:
        uses = Counter(tag for article in self._state.articles.values() for tag in article.tags)
        return sorted(uses, key=lambda tag: (-uses[tag], tag))


class MemoryUnitOfWork:
    """A transaction over a private copy of the store's state."""

    def __init__(self, storage: MemoryStorage) -> None:
        self._storage = storage
        self._state: _State | None = None
        self._read_only = False
        self.users: Users = MemoryUsers(self)
        self.follows: Follows = MemoryFollows(self)
        self.articles: Articles = MemoryArticles(self)
        self.favorites: Favorites = MemoryFavorites(self)
        self.comments: Comments = MemoryComments(self)
        self.tags: Tags = MemoryTags(self)
        self.analytics: Analytics = MemoryAnalytics(self)
        self.graph: Graph = MemoryGraph(self)
        self.subscriptions: TagSubscriptions = MemoryTagSubscriptions(self)
        self.audit: AuditLog = MemoryAuditLog(self)

    @property
    def state(self) -> _State:
        if self._state is None:
            raise RuntimeError("the unit of work is used outside 'async with'")
        return self._state

    def read_only(self) -> Self:
        self._read_only = True
        return self

    async def __aenter__(self) -> Self:
        if self._state is not None:
            raise RuntimeError("the unit of work is already open")
        if self._read_only:
            # Committed states are never changed in place (commit swaps in a new one), so
            # a reader may hold one without the lock: a snapshot beside the writers.
            self._state = self._storage.committed
            return self
        await self._storage.lock.acquire()
        self._state = self._storage.committed.copy()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._state = None
        if not self._read_only:
            self._storage.lock.release()

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("commit() in a read-only unit of work")
        self._storage.committed = self.state
        self._state = self.state.copy()


class MemoryBulkLoader:
    """Fills a copy of the (empty) committed state under the store's lock; ``finish`` swaps it
    in. Counters are computed here on every read, so the given ones are not kept."""

    def __init__(self, storage: MemoryStorage) -> None:
        self._storage = storage
        self._state: _State | None = None
        self._written: Counter[str] = Counter()

    async def __aenter__(self) -> Self:
        await self._storage.lock.acquire()
        state = self._storage.committed
        if state.users or state.articles:
            self._storage.lock.release()
            raise StoreNotReady("the store already has users or articles: load into an empty one")
        self._state = state.copy()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._state = None
        self._storage.lock.release()

    @property
    def written(self) -> Mapping[str, int]:
        return self._written

    @property
    def _open(self) -> _State:
        if self._state is None:
            raise RuntimeError("the bulk loader is used outside 'async with'")
        return self._state

    async def add_users(self, users: Sequence[UserRecord]) -> None:
        for u in users:
            self._open.users[u.id] = User(
                id=u.id, username=u.username, email=u.email, password_hash=u.password_hash,
                bio=u.bio, image=u.image,
            )  # fmt: skip
        self._count("users", users, "user")

    async def add_follows(self, follows: Sequence[FollowRecord]) -> None:
        self._open.follows.update((f.follower_id, f.followee_id) for f in follows)
        self._written["follows"] += len(follows)

    async def add_tags(self, articles_per_tag: Mapping[str, int]) -> None:
        pass

    async def add_articles(self, articles: Sequence[ArticleRecord]) -> None:
        for a in articles:
            self._open.articles[a.id] = Article(
                id=a.id, slug=a.slug, title=a.title, description=a.description, body=a.body,
                tags=a.tags, author_id=a.author_id, created_at=a.created_at,
                updated_at=a.updated_at,
            )  # fmt: skip
        self._count("articles", articles, "article")

    async def add_favorites(self, favorites: Sequence[FavoriteRecord]) -> None:
        self._open.favorites.update(((f.user_id, f.article_id), f.favorited_at) for f in favorites)
        self._written["favorites"] += len(favorites)

    async def add_comments(self, comments: Sequence[Comment]) -> None:
        self._open.comments.update((c.id, c) for c in comments)
        self._count("comments", comments, "comment")

    async def finish(self, *, articles: int) -> None:
        self._storage.committed = self._open
        self._state = self._open.copy()

    def _count(self, kind: str, rows: Sequence[User | Article | Comment], id_kind: str) -> None:
        self._written[kind] += len(rows)
        last_ids = self._open.last_ids
        last_ids[id_kind] = max([last_ids[id_kind], *(row.id for row in rows)])


@dataclass(frozen=True, slots=True)
class _Cutoff:
    issued_before: datetime
    spared_token_id: str | None
    until: datetime


class MemoryTokenRevocations:
    """Revoked token ids and per-user cut-offs, each with the time it may be forgotten."""

    def __init__(self) -> None:
        self._tokens: dict[str, datetime] = {}
        self._cutoffs: dict[int, _Cutoff] = {}

    async def revoke(self, token_id: str, *, until: datetime) -> None:
        self._purge()
        self._tokens[token_id] = max(until, self._tokens.get(token_id, until))

    async def revoke_issued_before(
        self,
        user_id: int,
        instant: datetime,
        *,
        until: datetime,
        spared_token_id: str | None = None,
    ) -> None:
        self._purge()
        stored = self._cutoffs.get(user_id)
        if stored is None:
            self._cutoffs[user_id] = _Cutoff(instant, spared_token_id, until)
            return
        spared = stored.spared_token_id
        if stored.issued_before < instant:
            spared = spared_token_id
        elif stored.issued_before == instant and spared != spared_token_id:
            spared = None  # each of the two would have revoked the other's token
        self._cutoffs[user_id] = _Cutoff(
            max(stored.issued_before, instant), spared, max(stored.until, until)
        )

    async def is_revoked(self, claims: TokenClaims) -> bool:
        cutoff = self._cutoffs.get(claims.user_id)
        return claims.token_id in self._tokens or (
            cutoff is not None
            and claims.issued_at < cutoff.issued_before
            and claims.token_id != cutoff.spared_token_id
        )

    def _purge(self) -> None:
        now = datetime.now(UTC)
        self._tokens = {key: until for key, until in self._tokens.items() if until >= now}
        self._cutoffs = {key: entry for key, entry in self._cutoffs.items() if entry.until >= now}


class MemoryStorage:
    """Everything lives in this object; it is gone when the object is."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.committed = _State()
        self.secrets: dict[str, str] = {}
        self.revocations = MemoryTokenRevocations()

    def unit_of_work(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)

    def token_revocations(self) -> MemoryTokenRevocations:
        return self.revocations

    def bulk_loader(self) -> MemoryBulkLoader:
        return MemoryBulkLoader(self)

    async def migrate(self) -> None:
        pass

    async def ping(self) -> None:
        pass

    async def schema_problem(self) -> str | None:
        return None

    async def shared_secret(self, name: str, candidate: str) -> str:
        return self.secrets.setdefault(name, candidate)

    async def check(self, *, repair: bool) -> list[Finding]:
        """Counts are computed and units of work run one at a time, so only a store filled
        by hand can hold a dangling reference; the check looks all the same."""
        async with self.lock:
            state = self.committed.copy()
            users, articles = set(state.users), set(state.articles)
            comments, favorites, follows = state.comments.values(), state.favorites, state.follows
            references: list[tuple[str, Iterable[int], set[int]]] = [
                ("articles by missing user", (a.author_id for a in state.articles.values()), users),
                ("comments on missing article", (c.article_id for c in comments), articles),
                ("comments by missing user", (c.author_id for c in comments), users),
                ("favorites of missing article", (a for _, a in favorites), articles),
                ("favorites by missing user", (u for u, _ in favorites), users),
                ("follows by missing user", (f for f, _ in follows), users),
                ("follows of missing user", (f for _, f in follows), users),
            ]
            findings = []
            for kind, referred, existing in references:
                missing = Counter(i for i in referred if i not in existing)
                findings += [
                    Finding(kind="orphan", detail=f"{count} {kind} {i}", repaired=repair)
                    for i, count in sorted(missing.items())
                ]
            if findings and repair:
                state.articles = {i: a for i, a in state.articles.items() if a.author_id in users}
                state.comments = {
                    i: c
                    for i, c in state.comments.items()
                    if c.article_id in state.articles and c.author_id in users
                }
                state.favorites = {
                    (u, a): at
                    for (u, a), at in state.favorites.items()
                    if u in users and a in state.articles
                }
                state.follows = {(a, b) for a, b in state.follows if {a, b} <= users}
                self.committed = state
            return findings

    async def close(self) -> None:
        pass
