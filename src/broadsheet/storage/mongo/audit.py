"""The audit log: one document per staff action (``audit_entries``), with an integer id from
the same counters as comments and users; never changed once written."""

from __future__ import annotations

from broadsheet.domain.models import AuditAction, AuditEntry, NewAuditEntry, Page
from broadsheet.storage.mongo import lists
from broadsheet.storage.mongo.base import MongoRepository
from broadsheet.storage.mongo.documents import Document, Stage, utc


def _entry_from(doc: Document) -> AuditEntry:
    return AuditEntry(
        id=doc["_id"],
        actor=doc.get("actor"),
        action=AuditAction(doc["action"]),
        target=doc["target"],
        reason=doc.get("reason"),
        at=utc(doc["at"]),
    )


class MongoAuditLog(MongoRepository):
    async def record(self, entry: NewAuditEntry) -> AuditEntry:
        """Written in the unit of work's transaction, so it goes with the action it records
        if that does not commit (the id, taken outside it, is then never used)."""
        await self._uow.begin_write()
        document = {
            "_id": await self._next_id("audit_entries"),
            "actor": entry.actor,
            "action": entry.action.value,
            "target": entry.target,
            "reason": entry.reason,
            "at": entry.at,
        }
        await self._db.audit_entries.insert_one(document, session=self._session)
        return _entry_from(document)

    async def page(self, *, limit: int, offset: int) -> Page[AuditEntry]:
        """One command: the page from the ``_id`` index, newest first, and the entries
        counted (an admin's read, rare: no counter is kept for it)."""
        pipeline: list[Stage] = [
            {"$sort": {"_id": -1}},
            {"$skip": offset},
            {"$limit": limit},
            lists.counted("audit_entries", []),
        ]
        cursor = await self._db.audit_entries.aggregate(
            pipeline, session=self._session, batchSize=limit + 2
        )
        found = await cursor.to_list()
        entries = tuple(_entry_from(doc) for doc in found if lists.TOTAL not in doc)
        total = next((int(doc[lists.TOTAL]) for doc in found if lists.TOTAL in doc), 0)
        return Page(entries, total)
