"""Create the schema: users, follows, articles and their tags, favorites, comments.

Revision ID: dafa1864132d
Revises:
Create Date: 2026-11-23 02:19:39.265233
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import broadsheet.storage.sql.types

revision: str = "dafa1864132d"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column(
            "username_key", sa.String(length=64), nullable=False, comment="username, case-folded"
        ),
        sa.Column("email", sa.String(length=254), nullable=False, comment="stored lower-cased"),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("image", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("email", name=op.f("uq_user_account_email")),
        sa.UniqueConstraint("username_key", name=op.f("uq_user_account_username_key")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_nopad_bin",
        sqlite_autoincrement=True,
    )
    op.create_table(
        "article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "body",
            sa.Text()
            .with_variant(mysql.MEDIUMTEXT(), "mariadb")
            .with_variant(mysql.MEDIUMTEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", broadsheet.storage.sql.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", broadsheet.storage.sql.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_article_author_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article")),
        sa.UniqueConstraint("slug", name=op.f("uq_article_slug")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_nopad_bin",
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_article_author_id_created_at"), "article", ["author_id", "created_at"])
    op.create_index(op.f("ix_article_created_at_id"), "article", ["created_at", "id"])

    op.create_table(
        "follow",
        sa.Column("follower_id", sa.Integer(), nullable=False),
        sa.Column("followee_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("follower_id <> followee_id", name=op.f("ck_follow_not_self")),
        sa.ForeignKeyConstraint(
            ["followee_id"],
            ["user_account.id"],
            name=op.f("fk_follow_followee_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["user_account.id"],
            name=op.f("fk_follow_follower_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("follower_id", "followee_id", name=op.f("pk_follow")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_nopad_bin",
    )
    op.create_index(op.f("ix_follow_followee_id"), "follow", ["followee_id"])

    op.create_table(
        "article_tag",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column(
            "tag",
            sa.String(length=64).with_variant(sa.VARCHAR(length=64, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_article_tag_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "tag", name=op.f("pk_article_tag")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_nopad_bin",
    )
    op.create_index(op.f("ix_article_tag_tag_article_id"), "article_tag", ["tag", "article_id"])

    op.create_table(
        "comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column(
            "body",
            sa.Text()
            .with_variant(mysql.MEDIUMTEXT(), "mariadb")
            .with_variant(mysql.MEDIUMTEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column("created_at", broadsheet.storage.sql.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", broadsheet.storage.sql.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_comment_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_comment_author_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_nopad_bin",
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_comment_article_id_created_at"), "comment", ["article_id", "created_at"]
    )
    op.create_index(op.f("ix_comment_author_id"), "comment", ["author_id"])

    op.create_table(
        "favorite",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_favorite_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_favorite_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "article_id", name=op.f("pk_favorite")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_nopad_bin",
    )
    op.create_index(op.f("ix_favorite_article_id"), "favorite", ["article_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_favorite_article_id"), table_name="favorite")

    op.drop_table("favorite")
    op.drop_index(op.f("ix_comment_author_id"), table_name="comment")
    op.drop_index(op.f("ix_comment_article_id_created_at"), table_name="comment")

    op.drop_table("comment")
    op.drop_index(op.f("ix_article_tag_tag_article_id"), table_name="article_tag")

    op.drop_table("article_tag")
    op.drop_index(op.f("ix_follow_followee_id"), table_name="follow")

    op.drop_table("follow")
    op.drop_index(op.f("ix_article_created_at_id"), table_name="article")
    op.drop_index(op.f("ix_article_author_id_created_at"), table_name="article")

    op.drop_table("article")
    op.drop_table("user_account")
