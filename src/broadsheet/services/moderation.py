"""Roles and moderation: staff delete anyone's content and suspend users; every such
action is recorded in the audit log by the unit of work that takes it."""

from __future__ import annotations

from broadsheet.domain import rules
from broadsheet.domain.errors import Forbidden
from broadsheet.domain.models import AuditAction, AuditEntry, NewAuditEntry, Page, Role, User
from broadsheet.domain.ports import Clock, TokenCodec, TokenRevocations, UnitOfWork
from broadsheet.services import lookups, retry
from broadsheet.services.users import revoke_every_token


async def record(
    uow: UnitOfWork,
    *,
    clock: Clock,
    actor: User | None,
    action: AuditAction,
    target: str,
    reason: str | None,
) -> None:
    await uow.audit.record(
        NewAuditEntry(
            actor=None if actor is None else actor.username,
            action=action,
            target=target,
            reason=reason,
            at=rules.timestamp(clock.now()),
        )
    )


async def authorize_removal(
    uow: UnitOfWork,
    *,
    clock: Clock,
    viewer: User,
    subject: str,
    author_id: int,
    action: AuditAction,
    target: str,
    reason: str | None,
) -> None:
    """Whoever wrote a thing may remove it; staff may remove anyone's, and that is recorded
    in the audit log; anyone else is refused (403 on ``subject``)."""
    if author_id == viewer.id:
        return
    if not rules.moderates(viewer):
        raise Forbidden(subject)
    await record(uow, clock=clock, actor=viewer, action=action, target=target, reason=reason)


@retry.on_conflict
async def grant(uow: UnitOfWork, *, clock: Clock, username: str, role: str) -> Role | None:
    """The command line's ``users grant``: the operator gives or takes a role."""
    granted = rules.role(role)
    async with uow:
        user = await lookups.user(uow, username)
        await uow.users.set_role(user.id, granted)
        target = f"{user.username} as {granted.value if granted else 'none'}"
        await record(
            uow, clock=clock, actor=None, action=AuditAction.GRANT_ROLE, target=target, reason=None
        )
        await uow.commit()
    return granted


async def suspend(
    uow: UnitOfWork,
    *,
    clock: Clock,
    tokens: TokenCodec,
    revocations: TokenRevocations,
    username: str,
    viewer_id: int,
    reason: str | None,
) -> User:
    """The user may no longer sign in, and every token they hold stops working at once.
    Their articles and comments stay."""
    because = rules.reason(reason)
    suspended = await _set_suspended(
        uow, clock=clock, username=username, viewer_id=viewer_id, reason=because, suspend=True
    )
    await revoke_every_token(tokens, revocations, suspended.id)
    return suspended


async def reinstate(
    uow: UnitOfWork, *, clock: Clock, username: str, viewer_id: int, reason: str | None
) -> User:
    """The user may sign in again (the tokens revoked by the suspension stay revoked)."""
    because = rules.reason(reason)
    return await _set_suspended(
        uow, clock=clock, username=username, viewer_id=viewer_id, reason=because, suspend=False
    )


@retry.on_conflict
async def _set_suspended(
    uow: UnitOfWork,
    *,
    clock: Clock,
    username: str,
    viewer_id: int,
    reason: str | None,
    suspend: bool,
) -> User:
    async with uow:
        viewer = await lookups.viewer(uow, viewer_id)
        if not rules.moderates(viewer):
            raise Forbidden("profile")
        target = await lookups.user(uow, username)
        if not rules.may_suspend(viewer, target):
            raise Forbidden("profile")
        await uow.users.set_suspended(target.id, suspend)
        action = AuditAction.SUSPEND_USER if suspend else AuditAction.REINSTATE_USER
        await record(
            uow, clock=clock, actor=viewer, action=action, target=target.username, reason=reason
        )
        await uow.commit()
    return target


async def audit(
    uow: UnitOfWork, *, viewer_id: int, limit: int | None, offset: int | None
) -> Page[AuditEntry]:
    size, start = rules.page_bounds(limit, offset)
    async with uow.read_only():
        viewer = await lookups.viewer(uow, viewer_id)
        if not rules.reads_audit(viewer):
            raise Forbidden("audit")
        return await uow.audit.page(limit=size, offset=start)
