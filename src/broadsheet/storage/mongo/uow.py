"""One unit of work = one client session; a transaction from its first write on.

Reads before the first write need no transaction (a read-only use case costs no
commit/abort round trip). Writes run in a multi-document transaction when the deployment
supports them (replica set or sharded cluster); on a standalone server each write stands
alone and the repositories order them so that a crash leaves nothing visible half-done.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from broadsheet.domain.errors import TransientConflict
from broadsheet.storage.mongo.articles import MongoArticles
from broadsheet.storage.mongo.availability import as_store_unavailable
from broadsheet.storage.mongo.comments import MongoComments
from broadsheet.storage.mongo.favorites import MongoFavorites
from broadsheet.storage.mongo.follows import MongoFollows
from broadsheet.storage.mongo.tags import MongoTags
from broadsheet.storage.mongo.users import MongoUsers

if TYPE_CHECKING:
    from broadsheet.storage.mongo import MongoStorage

COMMIT_ATTEMPTS = 3


class MongoUnitOfWork:
    users: MongoUsers
    follows: MongoFollows
    articles: MongoArticles
    favorites: MongoFavorites
    comments: MongoComments
    tags: MongoTags

    session: AsyncClientSession

    def __init__(self, storage: MongoStorage) -> None:
        self._storage = storage
        self.database: AsyncDatabase[dict[str, Any]] = storage.database
        self._transactions = False

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
        return self

    async def begin_write(self) -> None:
        """Called by every repository write before it writes."""
        if self._transactions and not self.session.in_transaction:
            await self.session.start_transaction()

    async def commit(self) -> None:
        if not self.session.in_transaction:
            return
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
        finally:
            await self.session.end_session()
        if (unavailable := as_store_unavailable(exc)) is not None:  # before a retry: bounded
            raise unavailable from exc
        if isinstance(exc, PyMongoError) and exc.has_error_label("TransientTransactionError"):
            raise TransientConflict from exc
