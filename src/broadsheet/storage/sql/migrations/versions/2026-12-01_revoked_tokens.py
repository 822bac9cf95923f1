"""Revoked tokens: logged-out tokens, and per user the instant before which tokens are revoked.

Revision ID: 797a7bba935b
Revises: 5e1c0a7b9d42
Create Date: 2026-12-01 08:23:39.476926
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import broadsheet.storage.sql.types

revision: str = "797a7bba935b"
down_revision: str | None = "5e1c0a7b9d42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revoked_token",
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", broadsheet.storage.sql.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_revoked_token")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_nopad_bin",
    )
    op.create_index(
        op.f("ix_revoked_token_expires_at"), "revoked_token", ["expires_at"], unique=False
    )
    op.create_table(
        "token_cutoff",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("issued_before", broadsheet.storage.sql.types.UtcDateTime(), nullable=False),
        sa.Column("expires_at", broadsheet.storage.sql.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_token_cutoff")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_nopad_bin",
    )
    op.create_index(
        op.f("ix_token_cutoff_expires_at"), "token_cutoff", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_token_cutoff_expires_at"), table_name="token_cutoff")
    op.drop_table("token_cutoff")
    op.drop_index(op.f("ix_revoked_token_expires_at"), table_name="revoked_token")
    op.drop_table("revoked_token")
