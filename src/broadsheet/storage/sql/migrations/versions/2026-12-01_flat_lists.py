"""Lists that cost the same at any size: counters instead of counting, sort keys in the rows
each filter starts from.

New counters, kept by the adapter in the same transaction as the rows they count:
``user_account.articles_count`` and ``.favorites_count``, ``article.favorites_count``, a
``tag`` table (articles per tag) and ``site_total`` (every article). New sort keys: the
article's ``created_at`` copied into ``article_tag`` and ``favorite``, with indexes in list
order. Existing data is counted and copied here, in a few set-based statements.

Revision ID: 0b5c5ae66879
Revises: 797a7bba935b
Create Date: 2026-12-01 12:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import broadsheet.storage.sql.types

revision: str = "0b5c5ae66879"
down_revision: str | None = "797a7bba935b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MARIADB = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_nopad_bin"}


def upgrade() -> None:
    with op.batch_alter_table("user_account") as users:
        users.add_column(
            sa.Column(
                "articles_count",
                sa.Integer(),
                server_default="0",
                nullable=False,
                comment="written",
            )
        )
        users.add_column(
            sa.Column(
                "favorites_count",
                sa.Integer(),
                server_default="0",
                nullable=False,
                comment="favorited",
            )
        )
    with op.batch_alter_table("article") as articles:
        articles.add_column(
            sa.Column("favorites_count", sa.Integer(), server_default="0", nullable=False)
        )
    for table in ("article_tag", "favorite"):
        column = "created_at" if table == "article_tag" else "article_created_at"
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(
                    column,
                    broadsheet.storage.sql.types.UtcDateTime(),
                    nullable=True,
                    comment="the article's",
                )
            )
        op.execute(
            f"UPDATE {table} SET {column} = "
            f"(SELECT created_at FROM article WHERE article.id = {table}.article_id)"
        )
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                existing_type=broadsheet.storage.sql.types.UtcDateTime(),
                existing_comment="the article's",
                nullable=False,
            )
    op.execute(
        "UPDATE user_account SET articles_count ="
        " (SELECT count(*) FROM article WHERE article.author_id = user_account.id),"
        " favorites_count ="
        " (SELECT count(*) FROM favorite WHERE favorite.user_id = user_account.id)"
    )
    op.execute(
        "UPDATE article SET favorites_count = "
        "(SELECT count(*) FROM favorite WHERE favorite.article_id = article.id)"
    )

    op.create_table(
        "tag",
        sa.Column("name", broadsheet.storage.sql.types.BinaryString(64), nullable=False),
        sa.Column("articles_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_tag")),
        **_MARIADB,
    )
    op.create_index("ix_tag_popularity", "tag", [sa.text("articles_count DESC"), "name"])
    op.execute(
        "INSERT INTO tag (name, articles_count) SELECT tag, count(*) FROM article_tag GROUP BY tag"
    )
    op.create_table(
        "site_total",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_site_total")),
        **_MARIADB,
    )
    op.execute("INSERT INTO site_total (name, value) SELECT 'articles', count(*) FROM article")

    # Indexes in list order (newest first, ties by id) for each filter's starting rows.
    op.create_index(
        op.f("ix_article_author_id_created_at_id"), "article", ["author_id", "created_at", "id"]
    )
    op.drop_index(op.f("ix_article_author_id_created_at"), table_name="article")
    op.create_index(
        op.f("ix_article_tag_tag_created_at_article_id"),
        "article_tag",
        ["tag", "created_at", "article_id"],
    )
    op.drop_index(op.f("ix_article_tag_tag_article_id"), table_name="article_tag")
    op.create_index(
        op.f("ix_favorite_user_id_article_created_at_article_id"),
        "favorite",
        ["user_id", "article_created_at", "article_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_favorite_user_id_article_created_at_article_id"), table_name="favorite")
    op.create_index(op.f("ix_article_tag_tag_article_id"), "article_tag", ["tag", "article_id"])
    op.drop_index(op.f("ix_article_tag_tag_created_at_article_id"), table_name="article_tag")
    op.create_index(op.f("ix_article_author_id_created_at"), "article", ["author_id", "created_at"])
    op.drop_index(op.f("ix_article_author_id_created_at_id"), table_name="article")
    op.drop_table("site_total")
    op.drop_index("ix_tag_popularity", table_name="tag")
    op.drop_table("tag")
    with op.batch_alter_table("favorite") as favorites:
        favorites.drop_column("article_created_at")
    with op.batch_alter_table("article_tag") as article_tags:
        article_tags.drop_column("created_at")
    with op.batch_alter_table("article") as articles:
        articles.drop_column("favorites_count")
    with op.batch_alter_table("user_account") as users:
        users.drop_column("favorites_count")
        users.drop_column("articles_count")
