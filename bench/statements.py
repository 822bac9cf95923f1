"""The ceiling's SQL, in one place: one hand-written statement per endpoint and dialect.

Written as one would write them without Broadsheet's layers: the list is the page (newest
first, the total from a window over every article) joined to its authors, with each row's
favorites counted and tags gathered inline; the article is the same for one slug; the tags
are a GROUP BY over every article's tags; the write is one INSERT ... RETURNING.

Two schemas: ``plain`` (the tables as they were before issue 10, counting at read time) and
``counters`` (issue 10's counters: the ``tag`` table and ``site_total``; an article's
favorites are counted per row in both), picked by what the database has, so the ceiling uses
the cheapest honest statement the schema allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Dialect = Literal["postgresql", "sqlite", "mariadb"]
Schema = Literal["plain", "counters"]


@dataclass(frozen=True, slots=True)
class Statements:
    """Each takes positional parameters: list (limit, offset), article (slug), tags (),
    write (slug, author id, body, created at)."""

    list_page: str
    article: str
    tags: str
    write: str
    # The write's parameters by position, for drivers whose placeholders cannot repeat one.
    write_order: tuple[int, ...]


# Does the schema have issue 10's counters? One query per dialect, asked once per worker.
HAS_COUNTERS = {
    "postgresql": (
        "SELECT count(*) FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_name = 'site_total'"
    ),
    "sqlite": "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'site_total'",
    "mariadb": (
        "SELECT count(*) FROM information_schema.tables"
        " WHERE table_schema = DATABASE() AND table_name = 'site_total'"
    ),
}

# The tags of the article aliased ``a``, as one value: a PostgreSQL array, or JSON text.
_TAGS_OF = {
    "postgresql": "ARRAY(SELECT t.tag FROM article_tag t WHERE t.article_id = a.id ORDER BY t.tag)",
    "sqlite": (
        "(SELECT json_group_array(tag) FROM"
        " (SELECT t.tag FROM article_tag t WHERE t.article_id = a.id ORDER BY t.tag))"
    ),
    "mariadb": (
        "(SELECT JSON_ARRAYAGG(t.tag ORDER BY t.tag) FROM article_tag t WHERE t.article_id = a.id)"
    ),
}


def _placeholder(dialect: Dialect, number: int) -> str:
    return {"postgresql": f"${number}", "sqlite": f"?{number}", "mariadb": "%s"}[dialect]


def statements(dialect: Dialect, schema: Schema) -> Statements:
    def p(number: int) -> str:
        return _placeholder(dialect, number)

    tags_of = _TAGS_OF[dialect]
    favorites = "(SELECT count(*) FROM favorite f WHERE f.article_id = a.id)"
    if schema == "counters":
        page_total = ""
        total = "(SELECT value FROM site_total WHERE name = 'articles')"
        tags = "SELECT name FROM tag WHERE articles_count > 0 ORDER BY articles_count DESC, name"
    else:
        page_total = ", count(*) OVER () AS total"
        total = "a.total"
        tags = "SELECT tag FROM article_tag GROUP BY tag ORDER BY count(*) DESC, tag"
    # The page first (the window counts every article once, before LIMIT), then its authors,
    # favorites and tags for those rows only.
    list_page = f"""
        WITH page AS (
            SELECT a.id, a.slug, a.title, a.description, a.created_at, a.updated_at,
                   a.author_id{page_total}
            FROM article a
            ORDER BY a.created_at DESC, a.id DESC
            LIMIT {p(1)} OFFSET {p(2)}
        )
        SELECT a.slug, a.title, a.description, a.created_at, a.updated_at,
               {favorites} AS favorites_count, {tags_of} AS tags,
               u.username, u.bio, u.image, {total} AS total
        FROM page a JOIN user_account u ON u.id = a.author_id
        ORDER BY a.created_at DESC, a.id DESC
    """
    article = f"""
        SELECT a.slug, a.title, a.description, a.created_at, a.updated_at,
               {favorites} AS favorites_count, {tags_of} AS tags,
               u.username, u.bio, u.image, a.body
        FROM article a JOIN user_account u ON u.id = a.author_id
        WHERE a.slug = {p(1)}
    """
    write = f"""
        INSERT INTO comment (article_id, author_id, body, created_at, updated_at)
        VALUES ((SELECT id FROM article WHERE slug = {p(1)}), {p(2)}, {p(3)}, {p(4)}, {p(4)})
        RETURNING id
    """
    return Statements(
        list_page=list_page,
        article=article,
        tags=tags,
        write=write,
        write_order=(0, 1, 2, 3, 3) if dialect == "mariadb" else (0, 1, 2, 3),
    )


# The ceiling's write needs an author: looked up once per worker, as a signed-in request
# would have its viewer (the ceiling measures the statement, not authentication).
AUTHOR = "SELECT id, username, bio, image FROM user_account ORDER BY id LIMIT 1"
