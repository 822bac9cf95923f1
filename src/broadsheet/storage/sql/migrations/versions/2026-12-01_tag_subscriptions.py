"""Tag subscriptions: ``tag_subscription``, the tags each reader's wider feed draws from.

Revision ID: c27d5e9f4a13
Revises: 8a4e6b1d2c90
Create Date: 2026-12-01 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import broadsheet.storage.sql.types

revision: str = "c27d5e9f4a13"
down_revision: str | None = "8a4e6b1d2c90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tag_subscription",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("tag", broadsheet.storage.sql.types.BinaryString(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name="fk_tag_subscription_user_id_user_account",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "tag", name="pk_tag_subscription"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_nopad_bin",
    )


def downgrade() -> None:
    op.drop_table("tag_subscription")
