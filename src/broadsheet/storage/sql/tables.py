"""The relational schema: Alembic's ``target_metadata`` and the adapters' query vocabulary.

One naming convention names every constraint and index identically on all three dialects,
so migrations and error translation can rely on the names.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from broadsheet.storage.sql.types import BinaryString, LongText, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# MariaDB: exact comparison like the other two (binary, and no trailing-space padding);
# case-insensitivity is explicit in the *_key columns, never an accident of a collation.
_MARIADB: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_nopad_bin"}
# SQLite: never hand a deleted row's id to a new row (a stale comment id must not come back).
_NO_ID_REUSE: dict[str, Any] = {"sqlite_autoincrement": True}


def _user_fk() -> ForeignKey:
    return ForeignKey("user_account.id", ondelete="CASCADE")


def _article_fk() -> ForeignKey:
    return ForeignKey("article.id", ondelete="CASCADE")


user_account = Table(
    "user_account",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False),
    Column("username_key", String(64), nullable=False, comment="username, case-folded"),
    Column("email", String(254), nullable=False, comment="stored lower-cased"),
    Column("password_hash", String(255), nullable=False),
    Column("bio", Text),
    Column("image", Text),
    Column("articles_count", Integer, nullable=False, server_default="0", comment="written"),
    Column("favorites_count", Integer, nullable=False, server_default="0", comment="favorited"),
    Column("role", String(16), comment="admin, moderator, or none"),
    Column("suspended", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("username_key"),
    UniqueConstraint("email"),
    **_MARIADB,
    **_NO_ID_REUSE,
)

follow = Table(
    "follow",
    metadata,
    Column("follower_id", Integer, _user_fk(), primary_key=True),
    Column("followee_id", Integer, _user_fk(), primary_key=True),
    CheckConstraint("follower_id <> followee_id", name="not_self"),
    Index(None, "followee_id"),
    **_MARIADB,
)

article = Table(
    "article",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(120), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("body", LongText, nullable=False),
    Column("author_id", Integer, _user_fk(), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("slug"),
    # Lists and the feed: newest first, ties by id; per author for the author filter and feed.
    Index(None, "created_at", "id"),
    Index(None, "author_id", "created_at", "id"),
    **_MARIADB,
    **_NO_ID_REUSE,
)

article_tag = Table(
    "article_tag",
    metadata,
    Column("article_id", Integer, _article_fk(), primary_key=True),
    Column("tag", BinaryString(64), primary_key=True),
    # The article's (never changing) created_at, so a tag's articles come newest first
    # straight from this index instead of joining and sorting every match.
    Column("created_at", UtcDateTime, nullable=False, comment="the article's"),
    Index(None, "tag", "created_at", "article_id"),
    # Tag trends: a window's tagged articles, grouped by tag, from the index alone.
    Index(None, "created_at", "tag"),
    **_MARIADB,
)

favorite = Table(
    "favorite",
    metadata,
    Column("user_id", Integer, _user_fk(), primary_key=True),
    Column("article_id", Integer, _article_fk(), primary_key=True),
    Column("article_created_at", UtcDateTime, nullable=False, comment="the article's"),
    Column("favorited_at", UtcDateTime, nullable=False),
    Index(None, "article_id"),
    Index(None, "user_id", "article_created_at", "article_id"),
    # Trending articles: a window's favorites, grouped by article, from the index alone.
    Index(None, "favorited_at", "article_id", "article_created_at"),
    **_MARIADB,
)

# The tags a reader subscribes to: their wider feed (``GET /api/articles/feed?include=tags``).
tag_subscription = Table(
    "tag_subscription",
    metadata,
    Column("user_id", Integer, _user_fk(), primary_key=True),
    Column("tag", BinaryString(64), primary_key=True),
    **_MARIADB,
)

# Counters kept in the same transaction as the rows they count, so that no list counts its
# matches: per tag here, per author and per favoriter on user_account, overall below.
tag = Table(
    "tag",
    metadata,
    Column("name", BinaryString(64), primary_key=True),
    Column("articles_count", Integer, nullable=False),
    Index("ix_tag_popularity", text("articles_count DESC"), "name"),
    **_MARIADB,
)

site_total = Table(
    "site_total",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
    **_MARIADB,
)
ARTICLES_TOTAL = "articles"  # the site_total row counting every article

comment = Table(
    "comment",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, _article_fk(), nullable=False),
    Column("author_id", Integer, _user_fk(), nullable=False),
    Column("body", LongText, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "article_id", "created_at"),
    Index(None, "author_id"),
    **_MARIADB,
    **_NO_ID_REUSE,
)

# Staff actions (moderation, role grants), for admins to read. The actor is kept by name,
# not by reference: the record outlives whatever happens to the account.
audit_entry = Table(
    "audit_entry",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("actor", String(64), comment="username; null: the command line"),
    Column("action", String(32), nullable=False),
    Column("target", Text, nullable=False),
    Column("reason", Text),
    Column("at", UtcDateTime, nullable=False),
    **_MARIADB,
    **_NO_ID_REUSE,
)

# Secrets every process of one installation must share (the token signing key when
# BROADSHEET_SECRET_KEY is not set): generated once, stored here, read by all.
instance_secret = Table(
    "instance_secret",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
    **_MARIADB,
)

# Revoked tokens (where no Redis is configured): one row per logged-out token, and per user
# the instant before which all their tokens are revoked (a password change). A row is only
# needed until ``expires_at``, when the tokens it covers expire anyway; writes purge older
# rows. No foreign key: a row is about tokens, which fail without their user anyway.
revoked_token = Table(
    "revoked_token",
    metadata,
    Column("token_id", String(64), primary_key=True),
    Column("expires_at", UtcDateTime, nullable=False),
    Index(None, "expires_at"),
    **_MARIADB,
)

token_cutoff = Table(
    "token_cutoff",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=False),
    Column("issued_before", UtcDateTime, nullable=False),
    Column("spared_token_id", String(64), comment="the token that made the change: not revoked"),
    Column("expires_at", UtcDateTime, nullable=False),
    Index(None, "expires_at"),
    **_MARIADB,
)

# Which domain field a unique violation is about, by constraint name and by the
# "table.column" SQLite names in its message instead.
UNIQUE_FIELDS = {
    "uq_user_account_username_key": "username",
    "user_account.username_key": "username",
    "uq_user_account_email": "email",
    "user_account.email": "email",
    "uq_article_slug": "slug",
    "article.slug": "slug",
}
