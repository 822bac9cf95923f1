"""Roles and moderation: ``user_account.role`` and ``.suspended``, and ``audit_entry``, the
record of every staff action.

Revision ID: e6b3a1f07d28
Revises: c27d5e9f4a13
Create Date: 2026-12-01 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import broadsheet.storage.sql.types

revision: str = "e6b3a1f07d28"
down_revision: str | None = "c27d5e9f4a13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as users:
        users.add_column(
            sa.Column("role", sa.String(16), nullable=True, comment="admin, moderator, or none")
        )
        users.add_column(
            sa.Column("suspended", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "actor", sa.String(64), nullable=True, comment="username; null: the command line"
        ),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", broadsheet.storage.sql.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_entry"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_nopad_bin",
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("audit_entry")
    with op.batch_alter_table("user_account") as users:
        users.drop_column("suspended")
        users.drop_column("role")
