"""Recompute ``username_key`` in NFKC form: the key is now NFKC(casefold(NFKC(username))).

Keys stored before were only case-folded, so a name typed with compatibility characters
(fullwidth letters, ligatures, decomposed accents) kept a key that lookups no longer compute:
that account could not be found by name, and its look-alike could still register. Data only,
no schema change; only keys that differ are written, so running it again changes nothing.

Where the new key is already held by another account (two old names that only NFKC tells
apart) or would not fit the column, the account keeps its old key and a warning names it for
an operator to rename; the account holding the key keeps it.

Revision ID: def6b2c8baad
Revises: dafa1864132d
Create Date: 2026-12-01 08:27:17.000000
"""

import logging
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from broadsheet.domain import rules

revision: str = "def6b2c8baad"
down_revision: str | None = "dafa1864132d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("broadsheet.migrations")

_KEY_LENGTH = 64  # user_account.username_key is VARCHAR(64)
_BATCH = 1_000
_users = sa.table(
    "user_account",
    sa.column("id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("username_key", sa.String),
)


def upgrade() -> None:
    # The key the running code computes, whatever it is by then: stored keys must match it.
    _recompute_keys(rules.username_key)


def downgrade() -> None:
    # The previous code's key.
    _recompute_keys(str.casefold)


def _recompute_keys(key_of: Callable[[str], str]) -> None:
    connection = op.get_bind()
    last_id = 0
    while rows := connection.execute(
        sa.select(_users.c.id, _users.c.username, _users.c.username_key)
        .where(_users.c.id > last_id)
        .order_by(_users.c.id)
        .limit(_BATCH)
    ).all():
        for user_id, username, old_key in rows:
            key = key_of(username)
            if key == old_key:
                continue
            holder = connection.execute(
                sa.select(_users.c.id).where(_users.c.username_key == key)
            ).scalar()
            if holder is not None or len(key) > _KEY_LENGTH:
                log.warning(
                    "user %s (%r) keeps username key %r: %r is %s",
                    user_id,
                    username,
                    old_key,
                    key,
                    f"held by user {holder}" if holder is not None else "too long",
                )
                continue
            connection.execute(
                sa.update(_users).where(_users.c.id == user_id).values(username_key=key)
            )
        last_id = rows[-1].id
