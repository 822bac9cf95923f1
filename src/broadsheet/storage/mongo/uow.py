"""One unit of work = one client session; a transaction from its first write on.

Reads before the first write need no transaction (a read-only use case costs no
commit/abort round trip). Writes run in a multi-document transaction when the deployment
supports them (replica set or sharded cluster); on a standalone server each write stands
alone and the repositories order them so that a crash leaves nothing visible half-done.

Two kinds of write happen outside the transaction, so that popular documents never turn
concurrent use cases into write conflicts: counter updates (``$inc``, single-document and
atomic; see counters.py), sent just before the commit and undone if it does not happen, and
checks run right after the commit (a comment whose article was deleted meanwhile is taken
back). See docs/storage-models.md.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from broadsheet.domain.errors import TransientConflict
from broadsheet.storage.mongo import counters
from broadsheet.storage.mongo.analytics import MongoAnalytics
from broadsheet.storage.mongo.articles import MongoArticles
from broadsheet.storage.mongo.audit import MongoAuditLog
from broadsheet.storage.mongo.availability import as_store_unavailable
from broadsheet.storage.mongo.comments import MongoComments
from broadsheet.storage.mongo.favorites import MongoFavorites
from broadsheet.storage.mongo.follows import MongoFollows
from broadsheet.storage.mongo.graph import MongoGraph
from broadsheet.storage.mongo.subscriptions import MongoTagSubscriptions
from broadsheet.storage.mongo.tags import MongoTags
from broadsheet.storage.mongo.users import MongoUsers

if TYPE_CHECKING:
    from broadsheet.storage.mongo import MongoStorage

COMMIT_ATTEMPTS = 3
Action = Callable[[], Awaitable[None]]
log = logging.getLogger("broadsheet.storage")


class MongoUnitOfWork:
    users: MongoUsers
    follows: MongoFollows
    articles: MongoArticles
    favorites: MongoFavorites
    comments: MongoComments
    tags: MongoTags
    analytics: MongoAnalytics
    graph: MongoGraph
    subscriptions: MongoTagSubscriptions
    audit: MongoAuditLog

    session: AsyncClientSession

    def __init__(self, storage: MongoStorage) -> None:
        self._storage = storage
        self.database: AsyncDatabase[dict[str, Any]] = storage.database
        self._transactions = False
        self._read_only = False
        self._committed = False
        self._after_commit: list[Action] = []
        self._undo: list[Action] = []
        # Documents this unit of work's transaction has written: their counters move inside it.
        self._written: set[counters.Key] = set()
        self._moves: list[counters.Move] = []
        # The articles' ``created_at`` as read or written here (it never changes), for the
        # favorites, which keep a copy.
        self.article_created_at: dict[int, datetime] = {}

    def read_only(self) -> Self:
        # Reads take no transaction here anyway (one starts at the first write).
        self._read_only = True
        return self

    @property
    def in_transaction(self) -> bool:
        return self.session.in_transaction

    async def __aenter__(self) -> Self:
        self._transactions = await self._storage.supports_transactions()
        self.session = self._storage.client.start_session(
            default_transaction_options=self._storage.transaction_options
        )
        self.users = MongoUsers(self)
        self.follows = MongoFollows(self)
        self.articles = MongoArticles(self)
        self.favorites = MongoFavorites(self)
        self.comments = MongoComments(self)
        self.tags = MongoTags(self)
        self.analytics = MongoAnalytics(self)
        self.graph = MongoGraph(self)
        self.subscriptions = MongoTagSubscriptions(self)
        self.audit = MongoAuditLog(self)
        return self

    async def begin_write(
        self, *, article_id: int | None = None, user_id: int | None = None
    ) -> None:
        """Called by every repository write before it writes (naming the article or user, if
        it writes one)."""
        if self._transactions and not self.session.in_transaction:
            await self.session.start_transaction()
        if self.session.in_transaction:
            if article_id is not None:
                self._written.add(("articles", article_id))
            if user_id is not None:
                self._written.add(("users", user_id))

    async def count(self, moves: Iterable[counters.Move]) -> None:
        """Move counters for what this unit of work wrote (see counters.py for where and why):
        in a transaction, those of documents it wrote itself at once inside it, the others
        just before it commits; without one, now."""
        if not self.session.in_transaction:
            await counters.apply(self.database, counters.total(moves))
            return
        inside: list[counters.Move] = []
        for move in moves:
            written = (move.collection, move.key) in self._written
            (inside if written else self._moves).append(move)
        await counters.apply(self.database, counters.total(inside), session=self.session)

    def pending(self, collection: str) -> dict[Any, dict[str, int]]:
        """The counter moves in ``collection`` this transaction has not sent yet (summed per
        document and field): a read inside it adds them, to see its own writes."""
        if not self._moves:
            return {}
        moves = counters.total(move for move in self._moves if move.collection == collection)
        return {key: fields for (_, key), fields in moves.items()}

    def after_commit(self, action: Action) -> None:
        """Run ``action`` once this unit of work has committed (at once without transactions,
        where every write is committed as it is made); it may raise to the caller of commit."""
        self._after_commit.append(action)

    def undo_unless_committed(self, action: Action) -> None:
        """Run ``action`` if the transaction ends without committing: the compensation of a
        write made outside it."""
        if self.session.in_transaction:
            self._undo.append(action)

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("commit() in a read-only unit of work")
        if self.session.in_transaction:
            await self._move_counters()
            await self._commit_transaction()
        self._committed = True
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            await action()

    async def _move_counters(self) -> None:
        """The transaction's counter moves, after its last write: its own documents inside
        it, the others outside, each collection's moved back if the commit does not happen."""
        moves, self._moves = counters.total(self._moves), []
        inside = {key: fields for key, fields in moves.items() if key in self._written}
        await counters.apply(self.database, inside, session=self.session)
        outside = {key: fields for key, fields in moves.items() if key not in self._written}
        for collection, changes in counters.by_collection(outside).items():
            await counters.apply_to(self.database, collection, changes)
            self.undo_unless_committed(self._moving_back(collection, changes))

    def _moving_back(self, collection: str, changes: counters.Changes) -> Action:
        back = counters.negated(changes)

        async def move_back() -> None:
            await counters.apply_to(self.database, collection, back)

        return move_back

    async def _commit_transaction(self) -> None:
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                await self.session.commit_transaction()
                return
            except PyMongoError as error:
                # The commit may have happened; committing again is the documented answer.
                if attempt == COMMIT_ATTEMPTS or not error.has_error_label(
                    "UnknownTransactionCommitResult"
                ):
                    raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self.session.in_transaction:
                await self.session.abort_transaction()
            if not self._committed:
                await self._compensate()
        finally:
            await self.session.end_session()
        if (unavailable := as_store_unavailable(exc)) is not None:  # before a retry: bounded
            raise unavailable from exc
        if isinstance(exc, PyMongoError) and exc.has_error_label("TransientTransactionError"):
            raise TransientConflict from exc

    async def _compensate(self) -> None:
        actions, self._undo = self._undo, []
        for action in reversed(actions):
            try:
                await action()
            except PyMongoError:
                log.exception(
                    "could not undo a counter update; `broadsheet db check --repair` fixes it"
                )
