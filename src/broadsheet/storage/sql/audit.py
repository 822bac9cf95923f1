from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from broadsheet.domain.models import AuditAction, AuditEntry, NewAuditEntry, Page
from broadsheet.storage.sql.dialects import inserted_id
from broadsheet.storage.sql.tables import audit_entry


class SqlAuditLog:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def record(self, entry: NewAuditEntry) -> AuditEntry:
        result = await self._connection.execute(
            insert(audit_entry).values(
                actor=entry.actor,
                action=entry.action.value,
                target=entry.target,
                reason=entry.reason,
                at=entry.at,
            )
        )
        return AuditEntry(
            id=inserted_id(result),
            actor=entry.actor,
            action=entry.action,
            target=entry.target,
            reason=entry.reason,
            at=entry.at,
        )

    async def page(self, *, limit: int, offset: int) -> Page[AuditEntry]:
        rows = await self._connection.execute(
            select(audit_entry).order_by(audit_entry.c.id.desc()).limit(limit).offset(offset)
        )
        total = await self._connection.scalar(select(func.count()).select_from(audit_entry))
        items = tuple(
            AuditEntry(
                id=row.id,
                actor=row.actor,
                action=AuditAction(row.action),
                target=row.target,
                reason=row.reason,
                at=row.at,
            )
            for row in rows
        )
        return Page(items, int(total or 0))
