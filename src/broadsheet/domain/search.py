"""Full-text search: what a query means and which words an article is found by.

Each store keeps an article's *search terms* in its own full-text index (PostgreSQL a
``tsvector``, SQLite FTS5, MariaDB a FULLTEXT index, MongoDB a multikey index), but the
terms themselves are made here, once: the words of the title, description and body,
NFKC-normalised, case-folded and reduced to their Snowball (English) stem, in order. Every
store then matches the same set for the same query; only the ranking is each engine's own.

A query is words, ``"quoted phrases"`` and ``prefix*`` words, all of which must match.
Words are stemmed as the articles' words are ("dragons" finds "dragon"); a prefix is not
(``drag*`` finds "dragon" and "drag"), and a phrase's words must stand next to each other
in that order.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import snowballstemmer

from broadsheet.domain.errors import Invalid

MAX_QUERY_LENGTH = 256
MAX_QUERY_TERMS = 16
MIN_PREFIX_LENGTH = 2
# Longer "words" are not words (hashes, base64); cut, so every store indexes the same.
MAX_WORD_LENGTH = 40
# An article is found by the words of its first 10,000 (the title, the description, then
# the body): a bounded index entry per article, whatever the body's length.
MAX_DOCUMENT_TERMS = 10_000

_WORD = re.compile(r"[^\W_]+")
_QUERY_PART = re.compile(r'"([^"]*)"|(\S+)')
_STEMMER = snowballstemmer.stemmer("english")


@dataclass(frozen=True, slots=True)
class Term:
    """One condition of a query: ``words`` in this order, next to each other (one word, or
    a phrase); ``prefix``: the single word starts an article's term."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Every term must match. ``text`` is the query as sent, for whoever shows it."""

    text: str
    terms: tuple[Term, ...]

    @property
    def words(self) -> tuple[str, ...]:
        """Every whole (stemmed) word the query needs, once each, in order."""
        seen = dict.fromkeys(w for t in self.terms if not t.prefix for w in t.words)
        return tuple(seen)


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [word[:MAX_WORD_LENGTH] for word in _WORD.findall(folded)]


@functools.lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def document_terms(title: str, description: str, body: str) -> tuple[str, ...]:
    """The search terms an article is found by, in order (phrases need the order)."""
    words = _words(f"{title}\n{description}\n{body}")[:MAX_DOCUMENT_TERMS]
    return tuple(stem(word) for word in words)


def parse(text: str | None) -> SearchQuery:
    """The query ``q`` as terms; anything that is not a query is ``Invalid("q", …)``."""
    if text is None or not text.strip():
        raise Invalid("q", "can't be blank")
    if len(text) > MAX_QUERY_LENGTH:
        raise Invalid("q", f"is too long (maximum is {MAX_QUERY_LENGTH} characters)")
    if text.count('"') % 2:
        raise Invalid("q", 'has an unclosed quote (")')
    terms: list[Term] = []
    for phrase, bare in _QUERY_PART.findall(text):
        if phrase or not bare:
            if "*" in phrase:
                raise Invalid("q", "can't have a prefix (*) inside a phrase")
            words = tuple(stem(word) for word in _words(phrase))
            if words:
                terms.append(Term(words))
            continue
        prefix = bare.endswith("*")
        if "*" in bare.rstrip("*") or (prefix and bare.count("*") > 1):
            raise Invalid("q", "can only have * at the end of a word")
        words_of_part = _words(bare)
        if prefix:
            if len(words_of_part) != 1 or not bare[:-1].isalnum():
                raise Invalid("q", "can only have * after a plain word")
            if len(words_of_part[0]) < MIN_PREFIX_LENGTH:
                raise Invalid("q", f"needs {MIN_PREFIX_LENGTH} or more letters before *")
            terms.append(Term(tuple(words_of_part), prefix=True))
        elif words_of_part:
            # "don't" or "e-mail" is one word to the writer: its parts, side by side.
            terms.append(Term(tuple(stem(word) for word in words_of_part)))
    if not terms:
        raise Invalid("q", "has no words to search for")
    if len(terms) > MAX_QUERY_TERMS:
        raise Invalid("q", f"has too many terms (maximum is {MAX_QUERY_TERMS})")
    return SearchQuery(text=text, terms=tuple(dict.fromkeys(terms)))


def matches(query: SearchQuery, terms: tuple[str, ...]) -> bool:
    """Whether an article with these search terms matches: the reference every store's
    index must agree with (the in-memory store uses it directly)."""
    present = set(terms)
    for term in query.terms:
        if term.prefix:
            if not any(t.startswith(term.words[0]) for t in present):
                return False
        elif len(term.words) == 1:
            if term.words[0] not in present:
                return False
        elif not _contains_run(terms, term.words):
            return False
    return True


def _contains_run(terms: tuple[str, ...], run: tuple[str, ...]) -> bool:
    width = len(run)
    return any(terms[i : i + width] == run for i in range(len(terms) - width + 1))
