"""Full-text search on documents: each article keeps its search terms beside its text.

Not a ``text`` index (SecantusDB, the test server, has none, and MongoDB's own stems and
drops stop words its own way): every write of the title, description or body also writes,
in the same update, ``search_terms`` (the distinct terms of ``search.document_terms``, under
a multikey index) and ``search_text`` (all of them in order, space-separated, for phrases).

A query is one ``$match`` the index serves: the whole words with ``$all``, each prefix an
anchored ``$regex`` on the terms; a phrase is then checked on ``search_text``. Relevance, as
the in-memory store counts it: how many of the article's terms a query word or prefix hits.
Both fields are as big as the body, so no read but the search's own ranking fetches them.
"""

from __future__ import annotations

import re
from typing import Any

from broadsheet.domain import search
from broadsheet.domain.search import SearchQuery
from broadsheet.storage.mongo.documents import Document, Stage

TERMS = "search_terms"
TEXT = "search_text"
RELEVANCE = "_relevance"
INDEX = {TERMS: 1}  # the multikey index, as a hint names it
# Left out of every document an article is read as (see lists.py, articles.py).
HIDDEN = {TERMS: 0, TEXT: 0}


def fields(title: str, description: str, body: str) -> dict[str, Any]:
    """The search fields of an article with this text, to write with the text itself."""
    terms = search.document_terms(title, description, body)
    return {TERMS: sorted(set(terms)), TEXT: " ".join(terms)}


def _prefixes(query: SearchQuery) -> list[str]:
    return [term.words[0] for term in query.terms if term.prefix]


def _phrase(words: tuple[str, ...]) -> str:
    """The words next to each other, each a whole term of ``search_text``."""
    return "(^| )" + " ".join(re.escape(word) for word in words) + "( |$)"


def match(query: SearchQuery) -> Document:
    """Every term of the query as a condition; each needs ``search_terms``, so every query
    starts from its index (a phrase's words are in ``$all`` too)."""
    conditions: list[Document] = []
    if query.words:
        conditions.append({TERMS: {"$all": list(query.words)}})
    conditions += [{TERMS: {"$regex": "^" + re.escape(prefix)}} for prefix in _prefixes(query)]
    conditions += [
        {TEXT: {"$regex": _phrase(term.words)}}
        for term in query.terms
        if not term.prefix and len(term.words) > 1
    ]
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def relevance(query: SearchQuery) -> Stage:
    """``_relevance``: the article's terms (with repeats) that are a query word or start
    with a query prefix. Computed for every match, as any ranking must before it pages."""
    hits: list[Any] = [{"$in": ["$$term", list(query.words)]}]
    hits += [
        {"$eq": [{"$substrCP": ["$$term", 0, len(prefix)]}, prefix]} for prefix in _prefixes(query)
    ]
    terms = {"$split": [f"${TEXT}", " "]}
    hit = {"$filter": {"input": terms, "as": "term", "cond": {"$or": hits}}}
    return {"$set": {RELEVANCE: {"$size": hit}}}
