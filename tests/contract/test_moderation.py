"""Roles, suspension and the ``AuditLog`` port, on every store."""

from __future__ import annotations

from broadsheet.domain.models import AuditAction, NewAuditEntry, Role
from broadsheet.domain.ports import Storage
from tests import factories


async def test_a_role_and_a_suspension_are_kept_on_the_user(storage: Storage) -> None:
    ann = await factories.user(storage)
    async with storage.unit_of_work() as uow:
        await uow.users.set_role(ann.id, Role.MODERATOR)
        await uow.users.set_suspended(ann.id, True)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        moderator = await uow.users.get(ann.id)
        by_name = await uow.users.get_by_username(ann.username)
        await uow.users.set_role(ann.id, None)
        await uow.users.set_suspended(ann.id, False)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        plain = await uow.users.get_by_email(ann.email)

    assert moderator is not None
    assert by_name is not None
    assert plain is not None
    assert (moderator.role, moderator.suspended) == (Role.MODERATOR, True)
    assert by_name == moderator
    assert (plain.role, plain.suspended) == (None, False)


async def test_the_audit_log_pages_newest_first(storage: Storage) -> None:
    entries = [
        NewAuditEntry(
            actor=None if n == 0 else f"mod{n}",
            action=AuditAction.DELETE_ARTICLE if n % 2 else AuditAction.SUSPEND_USER,
            target=f"target-{n}",
            reason=None if n == 1 else f"reason {n}",
            at=factories.later(),
        )
        for n in range(3)
    ]
    async with storage.unit_of_work() as uow:
        recorded = [await uow.audit.record(entry) for entry in entries]
        await uow.commit()

    async with storage.unit_of_work() as uow:
        first = await uow.audit.page(limit=2, offset=0)
        rest = await uow.audit.page(limit=2, offset=2)

    assert [e.id for e in first.items] == [recorded[2].id, recorded[1].id]
    assert [e.target for e in rest.items] == ["target-0"]
    assert (first.total, rest.total) == (3, 3)
    assert rest.items[0] == recorded[0]
    assert (recorded[0].actor, recorded[0].action, recorded[0].reason) == (
        None, AuditAction.SUSPEND_USER, "reason 0"
    )  # fmt: skip


async def test_an_entry_goes_with_a_rolled_back_unit_of_work(
    transactional_storage: Storage,
) -> None:
    storage = transactional_storage
    entry = NewAuditEntry(
        actor="mod", action=AuditAction.DELETE_COMMENT, target="x#1", reason=None,
        at=factories.later(),
    )  # fmt: skip
    async with storage.unit_of_work() as uow:
        await uow.audit.record(entry)
        # left without commit()

    async with storage.unit_of_work() as uow:
        assert (await uow.audit.page(limit=10, offset=0)).total == 0
