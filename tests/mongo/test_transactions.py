"""Multi-document use cases on a real server: a failure half-way leaves nothing half-written.

SecantusDB answers ``hello`` as a replica-set member, so every unit of work that writes runs
in a multi-document transaction; these tests break a use case between two of its writes and
look at what the database kept. The schema guards (validators, unique indexes, migration
records) are checked against the same server.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import WriteError

import broadsheet.storage.mongo
from broadsheet.domain import rules
from broadsheet.domain.errors import AlreadyExists
from broadsheet.domain.models import NewUser
from broadsheet.services import articles
from broadsheet.storage.mongo import MongoStorage, counters, migrations
from tests import databases, factories
from tests.conftest import BACKENDS

MONGO_BACKENDS = [b for b in BACKENDS if b == "mongodb"]


class Boom(RuntimeError):
    """Raised on purpose in the middle of a use case."""


class LaterClock:
    """Each reading a moment later than the one before (the factories' clock)."""

    def now(self) -> datetime:
        return factories.later()


@pytest.fixture(params=MONGO_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def mongo_url(backend: str, database_urls: dict[str, str]) -> str:
    return database_urls[backend]  # created here, outside any running event loop


@pytest.fixture
async def store(mongo_url: str) -> AsyncIterator[MongoStorage]:
    storage = MongoStorage(mongo_url)
    await databases.empty(storage)
    try:
        yield storage
    finally:
        await storage.close()


def _new_user(name: str, email: str | None = None) -> NewUser:
    return NewUser(
        username=name, email=email or f"{name.lower()}@example.com", password_hash="hash"
    )


async def _add(store: MongoStorage, new: NewUser) -> None:
    async with store.unit_of_work() as uow:
        await uow.users.add(new)
        await uow.commit()


async def test_the_server_runs_transactions(store: MongoStorage) -> None:
    assert await store.supports_transactions() is True
    hello = await store.client.admin.command("hello")
    assert "setName" in hello


async def test_a_favorite_whose_counter_update_fails_is_not_kept(
    store: MongoStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counters move outside the transaction just before it commits, the article's
    first; when the user's then fails, nothing is committed and the article's is moved back."""
    author = await factories.user(store, username="author")
    reader = await factories.user(store, username="reader")
    article = await factories.article(store, author=author, title="Counted")
    moved: list[str] = []
    real_apply_to = counters.apply_to

    async def fail_on_users(db: Any, collection: str, changes: Any, **kwargs: Any) -> None:
        moved.append(collection)
        if collection == "users":
            raise Boom("after the favorite and the article's count were written")
        await real_apply_to(db, collection, changes, **kwargs)

    monkeypatch.setattr(counters, "apply_to", fail_on_users)

    with pytest.raises(Boom):
        await articles.favorite(
            store.unit_of_work(), clock=LaterClock(), slug=article.slug, viewer_id=reader.id
        )

    # the article's +1, the user's (which fails), the article's -1 on the way out
    assert moved == ["articles", "users", "articles"]
    db = store.database
    assert await db.favorites.count_documents({}) == 0
    assert await _counter(db.articles, article.id, "favorites_count") == 0
    assert await _counter(db.users, reader.id, "favorites_count") == 0

    monkeypatch.undo()  # the same use case, unbroken, does keep every write
    view = await articles.favorite(
        store.unit_of_work(), clock=LaterClock(), slug=article.slug, viewer_id=reader.id
    )
    assert (view.favorited, view.favorites_count) == (True, 1)
    assert await db.favorites.count_documents({}) == 1
    assert await _counter(db.users, reader.id, "favorites_count") == 1
    assert await store.check(repair=False) == []


async def _counter(collection: AsyncCollection[dict[str, Any]], key: int, field: str) -> int:
    stored = await collection.find_one({"_id": key})
    assert stored is not None
    return int(stored[field])


async def test_an_article_whose_favorites_cannot_be_deleted_stays_whole(
    store: MongoStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    author = await factories.user(store, username="author")
    reader = await factories.user(store, username="reader")
    article = await factories.article(store, author=author, title="Doomed", tags=["t"])
    for body in ("first", "second"):
        await factories.comment(store, article=article, author=reader, body=body)
    await factories.favorite(store, user=reader, article=article)
    failed_on: list[str] = []
    real_delete_many = AsyncCollection.delete_many

    async def delete_many(self: AsyncCollection[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        if self.name == "favorites":
            failed_on.append(self.name)
            raise Boom("deleting the favorites")
        return await real_delete_many(self, *args, **kwargs)

    monkeypatch.setattr(AsyncCollection, "delete_many", delete_many)

    with pytest.raises(Boom):
        await articles.delete(
            store.unit_of_work(), clock=LaterClock(), slug=article.slug, viewer_id=author.id
        )

    assert failed_on == ["favorites"]  # the article and its comments were deleted before
    db = store.database
    stored = await db.articles.find_one({"_id": article.id})
    assert stored is not None
    assert (stored["slug"], stored["favorites_count"]) == (article.slug, 1)
    comments = [doc["body"] async for doc in db.comments.find({"article_id": article.id})]
    assert sorted(comments) == ["first", "second"]
    assert await db.favorites.count_documents({"article_id": article.id}) == 1


async def test_a_unit_of_work_that_raises_after_writing_leaves_nothing(
    store: MongoStorage,
) -> None:
    seen: dict[str, object] = {}

    async def write_then_fail() -> None:
        async with store.unit_of_work() as uow:
            jake = await uow.users.add(_new_user("jake"))
            seen["in_transaction"] = uow.in_transaction
            seen["inside"] = await uow.users.get(jake.id) == jake  # its own write
            seen["outside"] = await store.database.users.find_one({"_id": jake.id})
            raise Boom

    with pytest.raises(Boom):
        await write_then_fail()

    # Inside, the write was there; outside, before any commit, it was not.
    assert seen == {"in_transaction": True, "inside": True, "outside": None}
    assert await store.database.users.count_documents({}) == 0
    async with store.unit_of_work() as uow:
        assert await uow.users.get_by_username("jake") is None


async def test_a_unit_of_work_that_does_not_commit_leaves_nothing(store: MongoStorage) -> None:
    async with store.unit_of_work() as uow:
        await uow.users.add(_new_user("jake"))

    assert await store.database.users.count_documents({}) == 0


async def test_migrations_are_recorded_and_idempotent(store: MongoStorage) -> None:
    db = store.database
    steps = [
        "0001_collections_with_validators",
        "0002_indexes",
        "0003_username_keys_nfkc",
        "0004_instance_secrets",
        "0005_revoked_tokens",
        "0006_favorites_count_unbounded",
        "0007_flat_lists",
        "0008_search_terms",
        "0009_favorited_at",
        "0010_tag_subscriptions",
        "0011_roles_and_audit_log",
    ]
    assert [step_id for step_id, _ in migrations.STEPS] == steps
    assert await migrations.applied(db) == steps
    records = await db.migrations.find({}, sort=[("_id", 1)]).to_list()

    await store.migrate()
    await store.migrate()

    assert await db.migrations.find({}, sort=[("_id", 1)]).to_list() == records

    # A crash between a step and its record: every step runs again, harmlessly.
    await db.migrations.delete_many({})
    await store.migrate()
    assert await migrations.applied(db) == steps

    indexes = {index["name"]: index async for index in await db.users.list_indexes()}
    by_key = {tuple(index["key"]): index for index in indexes.values()}
    assert by_key[("username_key",)].get("unique") is True
    assert by_key[("email",)].get("unique") is True
    assert len(indexes) == 3  # _id plus the two above, nothing doubled
    with pytest.raises(WriteError) as invalid:
        await db.users.insert_one({"_id": 1, "username": "no-email"})
    assert invalid.value.code == 121  # the validator survived collMod


async def test_revoked_tokens_expire_by_a_ttl_index_and_are_validated(store: MongoStorage) -> None:
    db = store.database
    indexes = [index async for index in await db.revoked_tokens.list_indexes()]
    ttl = [index for index in indexes if tuple(index["key"]) == ("expires_at",)]

    assert len(ttl) == 1
    assert ttl[0]["expireAfterSeconds"] == 0
    with pytest.raises(WriteError) as invalid:
        await db.revoked_tokens.insert_one({"_id": "token:abc"})  # no expires_at: never purged
    assert invalid.value.code == 121
    now = datetime.now(UTC)
    cutoff = {"_id": "user:1", "issued_before": now, "expires_at": now}
    with pytest.raises(WriteError) as invalid:
        await db.revoked_tokens.insert_one({**cutoff, "spared_token_id": 7})
    assert invalid.value.code == 121
    await db.revoked_tokens.insert_one({**cutoff, "spared_token_id": None})


async def test_username_keys_are_recomputed_in_nfkc_form(store: MongoStorage) -> None:
    """Documents written by the previous code (keys only case-folded) get the key lookups
    compute now; a key another account holds is left alone. Running it again changes nothing."""
    db = store.database
    rows = [  # (username, key the previous code stored)
        ("\uff41lice", "\uff41lice"),  # fullwidth a
        ("alice", "alice"),  # holds "alice" already: the fullwidth one keeps its old key
        ("\uff22ob", "\uff42ob"),  # fullwidth B
        ("Jose\u0301", "jose\u0301"),  # decomposed accent
        ("jake", "jake"),
    ]
    await db.users.insert_many(
        [
            {
                "_id": n,
                "username": name,
                "username_key": key,
                "email": f"user{n}@example.com",
                "password_hash": "hash",
                # The step runs again below on a database at the newest schema, whose
                # validator asks for the counters later steps added.
                "articles_count": 0,
                "favorites_count": 0,
            }
            for n, (name, key) in enumerate(rows, start=1)
        ]
    )

    async def keys() -> dict[str, str]:
        return {u["username"]: u["username_key"] async for u in db.users.find({})}

    await db.migrations.delete_one({"_id": "0003_username_keys_nfkc"})
    await store.migrate()
    upgraded = await keys()
    await db.migrations.delete_one({"_id": "0003_username_keys_nfkc"})
    await store.migrate()

    assert upgraded == {
        "\uff41lice": "\uff41lice",
        "alice": "alice",
        "\uff22ob": "bob",
        "Jose\u0301": rules.username_key("Jos\u00e9"),
        "jake": "jake",
    }
    assert await keys() == upgraded
    assert "0003_username_keys_nfkc" in await migrations.applied(db)


@pytest.mark.parametrize(
    "document",
    [
        {"_id": 1, "username": "jake"},
        {"username": "jake", "username_key": "jake", "email": "j@x.io", "password_hash": "h"},
        {"_id": "1", "username": "j", "username_key": "j", "email": "j@x.io", "password_hash": "h"},
    ],
    ids=["missing-fields", "missing-id", "string-id"],
)
async def test_the_validator_rejects_a_malformed_user(
    store: MongoStorage, document: dict[str, Any]
) -> None:
    with pytest.raises(WriteError) as rejected:
        await store.database.users.insert_one(document)

    assert rejected.value.code == 121  # DocumentValidationFailure
    assert await store.database.users.count_documents({}) == 0


async def test_the_validator_accepts_a_well_formed_user(store: MongoStorage) -> None:
    """The counterpart of the test above: what the adapter writes passes."""
    document = {
        "_id": 1,
        "username": "jake",
        "username_key": "jake",
        "email": "j@x.io",
        "password_hash": "h",
        "bio": None,
        "image": None,
        "articles_count": 0,
        "favorites_count": 0,
    }
    await store.database.users.insert_one(document)

    assert await store.database.users.count_documents({}) == 1


@pytest.mark.parametrize(
    ("first", "second", "field"),
    [
        (_new_user("Jake"), _new_user("jAKE", "other@example.com"), "username"),
        (_new_user("jake"), _new_user("jacob", "jake@example.com"), "email"),
    ],
)
async def test_a_duplicate_key_becomes_already_exists(
    store: MongoStorage, first: NewUser, second: NewUser, field: str
) -> None:
    await _add(store, first)

    with pytest.raises(AlreadyExists) as taken:
        await _add(store, second)

    assert taken.value.field == field
    usernames = [doc["username"] async for doc in store.database.users.find({})]
    assert usernames == [first.username]


@pytest.fixture(params=[b for b in BACKENDS if b.startswith("mongodb")])
def any_mongo(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> tuple[str, str]:
    kind = str(request.param)
    return kind, database_urls[kind]  # created here, outside any running event loop


async def test_transactions_are_used_exactly_where_the_server_is_a_replica_set(
    any_mongo: tuple[str, str],
) -> None:
    kind, url = any_mongo
    storage = MongoStorage(url)
    try:
        hello = await storage.client.admin.command("hello")
        assert await storage.supports_transactions() is ("setName" in hello)
        assert ("setName" in hello) is (kind == "mongodb")  # the standalone one is standalone
    finally:
        await storage.close()


async def test_transactions_can_be_switched_off_on_a_replica_set(mongo_url: str) -> None:
    storage = MongoStorage(mongo_url + "?broadsheet_transactions=off")
    try:
        assert await storage.supports_transactions() is False
    finally:
        await storage.close()


class TransactionCommands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if "txnNumber" in event.command:
            self.commands.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_writes_work_with_a_secondary_read_preference_in_the_url(
    mongo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The URL's read preference is for reads outside transactions; a transaction reads from
    the primary, with snapshot reads, majority writes and a commit time limit of its own."""
    listener = TransactionCommands()
    monkeypatch.setattr(
        broadsheet.storage.mongo,
        "AsyncMongoClient",
        functools.partial(AsyncMongoClient, event_listeners=[listener]),
    )
    separator = "&" if "?" in mongo_url else "?"
    store = MongoStorage(f"{mongo_url}{separator}readPreference=secondaryPreferred")
    await databases.empty(store)
    try:
        author = await factories.user(store, username="author")
        reader = await factories.user(store, username="reader")
        article = await factories.article(store, author=author, title="Read anywhere")
        await articles.favorite(
            store.unit_of_work(), clock=LaterClock(), viewer_id=reader.id, slug=article.slug
        )
        async with store.unit_of_work() as uow:
            view = await uow.articles.view(article.slug, viewer_id=reader.id)
    finally:
        await store.close()

    assert view is not None
    assert view.favorites_count == 1
    first = [c for c in listener.commands if c.get("startTransaction")]
    commits = [c for c in listener.commands if "commitTransaction" in c]
    assert first
    assert commits
    assert all(c["readConcern"]["level"] == "snapshot" for c in first)
    assert all(c["writeConcern"]["w"] == "majority" for c in commits)
    assert all(
        "$readPreference" not in c or c["$readPreference"]["mode"] == "primary"
        for c in listener.commands
    )


async def test_an_id_is_given_when_the_first_upsert_of_its_sequence_loses_a_race(
    store: MongoStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes creating a sequence at once: SecantusDB may answer the loser with no
    document (once a 500 at registration); asking again gives the next id."""
    real = AsyncCollection.find_one_and_update
    lost: list[str] = []

    async def loses_once(self: AsyncCollection[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        if self.name == "counters" and not lost:
            lost.append(str(args[0]))
            return None
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(AsyncCollection, "find_one_and_update", loses_once)
    jake = await factories.user(store, username="jake")

    assert lost == ["{'_id': 'users'}"]
    async with store.unit_of_work() as uow:
        assert await uow.users.get(jake.id) == jake
