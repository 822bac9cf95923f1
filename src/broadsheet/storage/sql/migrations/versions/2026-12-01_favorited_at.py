"""Analytics: when each favorite was made (``favorite.favorited_at``), and the indexes the
window queries read (favorites by time; tagged articles by time).

A favorite made before this revision gets its article's ``created_at``: the earliest moment
it can have been made, so old favorites never look like a new trend.

Revision ID: 8a4e6b1d2c90
Revises: 3f9d2c71a8e4
Create Date: 2026-12-01 20:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import broadsheet.storage.sql.types

revision: str = "8a4e6b1d2c90"
down_revision: str | None = "3f9d2c71a8e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("favorite") as favorites:
        favorites.add_column(
            sa.Column("favorited_at", broadsheet.storage.sql.types.UtcDateTime(), nullable=True)
        )
    op.execute("UPDATE favorite SET favorited_at = article_created_at")
    with op.batch_alter_table("favorite") as favorites:
        favorites.alter_column(
            "favorited_at", existing_type=broadsheet.storage.sql.types.UtcDateTime(), nullable=False
        )
        favorites.create_index(
            "ix_favorite_favorited_at_article_id_article_created_at",
            ["favorited_at", "article_id", "article_created_at"],
        )
    with op.batch_alter_table("article_tag") as tagged:
        tagged.create_index("ix_article_tag_created_at_tag", ["created_at", "tag"])


def downgrade() -> None:
    with op.batch_alter_table("article_tag") as tagged:
        tagged.drop_index("ix_article_tag_created_at_tag")
    with op.batch_alter_table("favorite") as favorites:
        favorites.drop_index("ix_favorite_favorited_at_article_id_article_created_at")
        favorites.drop_column("favorited_at")
