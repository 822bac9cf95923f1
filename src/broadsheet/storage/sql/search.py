"""Full-text search on each SQL engine, over the terms ``domain.search`` makes.

The table ``article_search`` holds one row per article: its search terms (already stemmed,
joined by spaces) in the engine's own full-text index. The adapter writes it in the same
transaction as the article, so a search never sees an edit that did not commit.

- **PostgreSQL**: a ``tsvector`` generated from the terms (the ``simple`` configuration:
  the terms as they are, no second stemming) with a GIN index; ``@@`` a ``tsquery`` of
  ``&``, ``<->`` (phrases) and ``:*`` (prefixes); ranked by ``ts_rank``.
- **SQLite**: an FTS5 table (``unicode61``, diacritics kept) whose rowid is the article's
  id; a query of quoted tokens, phrases and ``"…"*`` prefixes; ranked by ``bm25``.
- **MariaDB**: a FULLTEXT index, queried ``IN BOOLEAN MODE`` (``+word``, ``+"a phrase"``,
  ``+prefix*``), ranked by its relevance. InnoDB skips words under 3 characters
  (``innodb_ft_min_token_size``) and its stop words, both server settings; every term is
  stored and queried with ``TERM_PREFIX`` in front, so "go" or "the" is indexed all the
  same, and no server setting decides what is found.

This schema is engine-specific DDL (an FTS5 table is not a SQLAlchemy ``Table``), created
by its migration and described here rather than in ``tables.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, Integer, TableClause, TextClause, column, insert, table, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.selectable import TextualSelect

from broadsheet.domain.search import SearchQuery, Term, document_terms
from broadsheet.storage.sql.types import UtcDateTime

TABLE = "article_search"
TERM_PREFIX = "zz"  # MariaDB: lifts every term over the 3-character minimum and stop words

CREATE = {
    "postgresql": [
        # The stored generated column PostgreSQL's documentation suggests: the vector is
        # computed on write (COPY included), the GIN index finds and ts_rank ranks from it.
        "CREATE TABLE article_search (article_id INTEGER NOT NULL, terms TEXT NOT NULL,"
        " document TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED,"
        " CONSTRAINT pk_article_search PRIMARY KEY (article_id),"
        " CONSTRAINT fk_article_search_article_id_article FOREIGN KEY (article_id)"
        " REFERENCES article (id) ON DELETE CASCADE)",
        "CREATE INDEX ix_article_search_document ON article_search USING gin (document)",
    ],
    "sqlite": [
        "CREATE VIRTUAL TABLE article_search USING fts5("
        "terms, tokenize = 'unicode61 remove_diacritics 0')",
        # A virtual table takes no foreign key: this is its ON DELETE CASCADE (cascades
        # fire triggers, so an article deleted with its author goes too).
        "CREATE TRIGGER article_search_cascade AFTER DELETE ON article"
        " BEGIN DELETE FROM article_search WHERE rowid = old.id; END",
    ],
    "mysql": [
        "CREATE TABLE article_search (article_id INTEGER NOT NULL, terms LONGTEXT NOT NULL,"
        " CONSTRAINT pk_article_search PRIMARY KEY (article_id),"
        " CONSTRAINT fk_article_search_article_id_article FOREIGN KEY (article_id)"
        " REFERENCES article (id) ON DELETE CASCADE,"
        " FULLTEXT INDEX ix_article_search_terms (terms))"
        " DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin",
    ],
}
DROP = {
    "postgresql": ["DROP TABLE article_search"],
    "sqlite": ["DROP TRIGGER article_search_cascade", "DROP TABLE article_search"],
    "mysql": ["DROP TABLE article_search"],
}

_KEY = {"postgresql": "article_id", "sqlite": "rowid", "mysql": "article_id"}
_MATCH = {
    "postgresql": "article_search.document @@ to_tsquery('simple', :search_query)",
    "sqlite": "article_search MATCH :search_query",
    "mysql": "MATCH (article_search.terms) AGAINST (:search_query IN BOOLEAN MODE)",
}
_RELEVANCE = {  # larger is more relevant
    "postgresql": "ts_rank(article_search.document, to_tsquery('simple', :search_query))",
    "sqlite": "-article_search.rank",  # bm25(); the column also works beside a window
    "mysql": _MATCH["mysql"],
}


def rows(dialect: str) -> TableClause:
    """The table's written columns: the article's id (SQLite: the rowid) and ``terms``."""
    return table(TABLE, column(_KEY[dialect]), column("terms"))


def stored_terms(dialect: str, terms: Sequence[str]) -> str:
    if dialect == "mysql":
        return " ".join(TERM_PREFIX + term for term in terms)
    return " ".join(terms)


async def add(connection: AsyncConnection, article_id: int, terms: Sequence[str]) -> None:
    dialect = connection.dialect.name
    await connection.execute(
        insert(rows(dialect)).values(
            {_KEY[dialect]: article_id, "terms": stored_terms(dialect, terms)}
        )
    )


async def replace(connection: AsyncConnection, article_id: int, terms: Sequence[str]) -> None:
    dialect = connection.dialect.name
    written = rows(dialect)
    await connection.execute(
        update(written)
        .where(written.c[_KEY[dialect]] == article_id)
        .values(terms=stored_terms(dialect, terms))
    )


def query_text(dialect: str, query: SearchQuery) -> str:
    """``query`` in the engine's own query language. The domain's terms are letters and
    digits only, so nothing in them is an operator of any of these languages."""
    return {"postgresql": _tsquery, "sqlite": _fts5, "mysql": _boolean_mode}[dialect](query)


def _tsquery(query: SearchQuery) -> str:
    def one(term: Term) -> str:
        if term.prefix:
            return f"'{term.words[0]}':*"
        return " <-> ".join(f"'{word}'" for word in term.words)

    return " & ".join(one(term) for term in query.terms)


def _fts5(query: SearchQuery) -> str:
    def one(term: Term) -> str:
        phrase = '"' + " ".join(term.words) + '"'
        return phrase + "*" if term.prefix else phrase

    return " AND ".join(one(term) for term in query.terms)


def _boolean_mode(query: SearchQuery) -> str:
    def one(term: Term) -> str:
        words = [TERM_PREFIX + word for word in term.words]
        if term.prefix:
            return f"+{words[0]}*"
        return f"+{words[0]}" if len(words) == 1 else '+"' + " ".join(words) + '"'

    return " ".join(one(term) for term in query.terms)


def matching_keys(dialect: str) -> TextualSelect:
    """The page's matches, most relevant first, then newest: ``id``, ``created_at``,
    ``relevance`` and ``matches`` (every match, counted before the LIMIT)."""
    key = f"article_search.{_KEY[dialect]}"
    return text(
        f"SELECT {key} AS id, article.created_at AS created_at,"
        f" {_RELEVANCE[dialect]} AS relevance, count(*) OVER () AS matches"
        f" FROM article_search JOIN article ON article.id = {key}"
        f" WHERE {_MATCH[dialect]}"
        " ORDER BY relevance DESC, article.created_at DESC, article.id DESC"
        " LIMIT :page_limit OFFSET :page_offset"
    ).columns(id=Integer, created_at=UtcDateTime, relevance=Float, matches=Integer)


def count_matches(dialect: str) -> TextClause:
    return text(f"SELECT count(*) FROM article_search WHERE {_MATCH[dialect]}")


def fill(connection: Connection, articles: Sequence[Any]) -> None:
    """Write the search rows of ``(id, title, description, body)`` rows (migrations)."""
    dialect = connection.dialect.name
    connection.execute(
        insert(rows(dialect)),
        [
            {_KEY[dialect]: a[0], "terms": stored_terms(dialect, document_terms(*a[1:]))}
            for a in articles
        ],
    )
