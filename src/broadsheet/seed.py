"""Demo data at any size: 12 users and 40 articles for ``scripts/demo``, a million for a benchmark.

The site is generated from ``seed`` alone (its moments are relative to when it runs) and
written through the store's bulk loader (``Storage.bulk_loader``) in chunks of ``CHUNK``
articles, the next chunk generated while the last one is written. No use case runs, so
this module keeps their rules by construction: unique names and slugs, no self-follows,
every counter equal to the rows it counts. Only a few integers per user and per tag stay in
memory; the counts are taken by a first pass over the site's shape (everything but its
text), which the second pass generates again, identically, with the text.

Proportions, for A articles and U users (``max(12, A / 10)`` unless given):

- users: ``ada``, ``grace``, … then ``ada1``, ``grace1``, …, each ``<name>@example.com``, all
  with the password ``broadsheet-demo`` (hashed once). Authors are drawn with Zipf-like
  weights 1/rank^0.8: the first users write most (ada most of all), many users write
  nothing; the first two articles are by the first two users.
- follows: 1 to 19 per user (10 on average), drawn with the authors' weights (prolific
  authors have many followers), always ada (grace, for ada): every feed has articles.
- tags: 0 to 4 per article (2 on average) from a vocabulary of ``max(16, 2·√A)`` names with
  Zipf weights 1/rank: a few tags are on a large share of the articles, most on a few.
- favorites: 2 per article on average (0 to 8, so some articles are popular), by users
  drawn uniformly; and users n, n + A, n + 2A, … favorite article n, so every user has one.
- comments: 1 per article on average (0 to 3), by users drawn uniformly, a minute to three
  days after the article (never after now).
- bodies: about 1.5 KB of Markdown (a heading, three to six paragraphs, sometimes a list
  or a code block) from a pool of sentences; titles of three to six words.
- created_at: spread evenly over the last 180 days in article order (ids follow time), at
  millisecond precision; ``updated_at`` is ``created_at``.
- slugs: ``rules.slug_for(title)`` and a suffix, the article's number in hex, so unique.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
from bisect import bisect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

from broadsheet.bootstrap import Broadsheet
from broadsheet.domain import rules
from broadsheet.domain.models import (
    ArticleFilter,
    ArticleRecord,
    Comment,
    FavoriteRecord,
    FollowRecord,
    UserRecord,
)
from broadsheet.domain.ports import BulkLoader, PasswordHasher
from broadsheet.services import articles

DEMO_PASSWORD = "broadsheet-demo"
NAMES = [
    "ada", "grace", "linus", "barbara", "edsger", "margaret", "donald", "frances",
    "ken", "radia", "alan", "hedy", "guido", "katherine", "dennis", "sophie",
]  # fmt: skip
TAGS = [
    "databases", "python", "sql", "postgres", "sqlite", "mariadb", "mongodb", "testing",
    "performance", "security", "design", "web", "async", "writing", "ops", "history",
]  # fmt: skip
WORDS = [
    "index", "query", "plan", "join", "schema", "commit", "rollback", "cursor", "shard",
    "replica", "lock", "latch", "page", "buffer", "tuple", "column", "vacuum", "migration",
    "constraint", "foreign", "key", "unique", "cache", "queue", "write", "read", "durable",
    "atomic", "isolation", "snapshot", "log", "checkpoint",
]  # fmt: skip
_GLUE = ["the", "a", "of", "and", "to", "in", "is", "that", "with", "for", "on", "when", "every"]

# Words that make search realistic: WORDS are in almost every article, so each body also
# names a place, drawn from PLACES with Zipf's law (rank r about as often as 1/r): a few
# places in thousands of articles, most in a handful, as names are in real writing.
PLACE_COUNT = 20_000
_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"] + ["th", "ch", "sh", "qu"]


def _places() -> list[str]:
    rng = random.Random("places")  # the same words for every seed: tests name them
    names: dict[str, None] = {}
    while len(names) < PLACE_COUNT:
        names["".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))) + rng.choice("nrsl")] = None
    return list(names)


PLACES = _places()
_PLACE_WEIGHTS = list(itertools.accumulate(1 / rank for rank in range(1, PLACE_COUNT + 1)))

CHUNK = 2_000  # articles generated and written at once
USER_CHUNK = 10_000
SPAN = timedelta(days=180)
AUTHOR_SKEW = 0.8
TAG_SKEW = 1.0
FOLLOWS_PER_USER = (1, 19)  # drawn uniformly: 10 on average
TAGS_PER_ARTICLE = (0, 1, 1, 2, 2, 2, 3, 3, 4)  # 2 on average
FAVORITES_PER_ARTICLE = (0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 8)  # 2 on average
COMMENTS_PER_ARTICLE = (0, 0, 1, 1, 1, 3)  # 1 on average
COMMENT_DELAY_MS = (60_000, 3 * 86_400_000)
SENTENCES = 4_096
PARAGRAPHS = 8_192
TITLES = 16_384

Advance = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Plan:
    users: int
    articles: int

    @classmethod
    def of(cls, *, articles: int, users: int | None = None) -> Plan:
        return cls(users=max(12, articles // 10) if users is None else users, articles=articles)


@dataclass(frozen=True, slots=True)
class _Shape:
    """An article without its text: what the counts need."""

    number: int
    author: int  # user numbers count from 0; ids from 1
    tags: tuple[str, ...]
    fans: tuple[int, ...]
    comments: tuple[tuple[int, int], ...]  # (commenter, milliseconds after the article)


@dataclass(frozen=True, slots=True)
class Chunk:
    articles: list[ArticleRecord]
    favorites: list[FavoriteRecord]
    comments: list[Comment]

    @property
    def rows(self) -> int:
        tags = sum(len(article.tags) for article in self.articles)
        return len(self.articles) + tags + len(self.favorites) + len(self.comments)


class Site:
    """One generated site. ``count()`` takes its measure (pass one); then its rows come in
    chunks, the same on every call."""

    def __init__(
        self,
        plan: Plan,
        *,
        seed: int,
        now: datetime,
        chunk: int = CHUNK,
        user_chunk: int = USER_CHUNK,
    ) -> None:
        self.plan = plan
        self._seed = seed
        self._chunk, self._user_chunk = chunk, user_chunk
        self._end = rules.timestamp(now)
        self._start = self._end - SPAN
        self._spacing_ms = SPAN // timedelta(milliseconds=1) // max(plan.articles, 1)
        users = plan.users
        self._author_weights = list(accumulate(1 / (r + 1) ** AUTHOR_SKEW for r in range(users)))
        self.tags = _vocabulary(max(len(TAGS), round(2 * math.sqrt(plan.articles))))
        self._tag_weights = list(accumulate(1 / (r + 1) ** TAG_SKEW for r in range(len(self.tags))))
        self._prose = _Prose(seed, titles=min(TITLES, max(plan.articles, 1)))
        self.chunks = math.ceil(plan.articles / chunk)
        # What count() finds: per user, per tag, per kind of row; per chunk its first comment id.
        self.articles_by: list[int] = []
        self.favorites_by: list[int] = []
        self.articles_per_tag: dict[str, int] = {}
        self.rows: dict[str, int] = {}
        self._first_comment: list[int] = []

    def count(self, advance: Advance) -> None:
        """Pass one: every counter the rows need, and how many rows there will be."""
        users = self.plan.users
        articles_by, favorites_by = [0] * users, [0] * users
        per_tag = dict.fromkeys(self.tags, 0)
        rows = {"users": users, "follows": 0, "articles": self.plan.articles, "article tags": 0,
                "favorites": 0, "comments": 0}  # fmt: skip
        for start in range(0, users, self._user_chunk):
            rows["follows"] += sum(len(f) for _, f in self._followees(start))
        first_comment = [1]
        for index in range(self.chunks):
            comment_id = first_comment[-1]
            for shape in self._shapes(index):
                articles_by[shape.author] += 1
                for fan in shape.fans:
                    favorites_by[fan] += 1
                for tag in shape.tags:
                    per_tag[tag] += 1
                rows["article tags"] += len(shape.tags)
                rows["favorites"] += len(shape.fans)
                comment_id += len(shape.comments)
            first_comment.append(comment_id)
            advance(min(self._chunk, self.plan.articles - index * self._chunk))
        rows["comments"] = first_comment[-1] - 1
        self.articles_by, self.favorites_by, self.rows = articles_by, favorites_by, rows
        self.articles_per_tag = {tag: n for tag, n in per_tag.items() if n}
        self._first_comment = first_comment

    def _counted(self) -> None:
        if not self.rows:
            raise RuntimeError("Site.count() comes first: the rows need its counts")

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def users(self, password_hash: str) -> Iterator[list[UserRecord]]:
        self._counted()
        for start in range(0, self.plan.users, self._user_chunk):
            stop = min(start + self._user_chunk, self.plan.users)
            yield [
                UserRecord(
                    id=number + 1,
                    username=(name := username(number)),
                    email=f"{name}@example.com",
                    password_hash=password_hash,
                    articles_count=self.articles_by[number],
                    favorites_count=self.favorites_by[number],
                )
                for number in range(start, stop)
            ]

    def follows(self) -> Iterator[list[FollowRecord]]:
        for start in range(0, self.plan.users, self._user_chunk):
            yield [
                FollowRecord(follower_id=reader + 1, followee_id=followee + 1)
                for reader, followees in self._followees(start)
                for followee in followees
            ]

    def chunk(self, index: int) -> Chunk:
        """The ``index``-th chunk of articles, with their favorites and comments (pass two)."""
        self._counted()
        draw = random.Random(f"{self._seed}:text:{index}").random
        prose, jitter = self._prose, max(self._spacing_ms // 2, 1)
        chunk = Chunk([], [], [])
        comment_id = self._first_comment[index]
        for shape in self._shapes(index):
            offset = shape.number * self._spacing_ms + int(draw() * jitter)
            created_at = self._start + timedelta(milliseconds=offset)
            title, slug = prose.title(draw)
            article = ArticleRecord(
                id=shape.number + 1,
                slug=f"{slug}-{shape.number:0{rules.SLUG_SUFFIX_LENGTH}x}",
                title=title,
                description=f"Notes on {title.lower()}.",
                body=prose.body(draw),
                tags=shape.tags,
                author_id=shape.author + 1,
                created_at=created_at,
                updated_at=created_at,
                favorites_count=len(shape.fans),
            )
            chunk.articles.append(article)
            # Each favorite at some moment between the article's publication and now.
            chunk.favorites.extend(
                FavoriteRecord(
                    user_id=fan + 1,
                    article_id=article.id,
                    article_created_at=created_at,
                    favorited_at=rules.timestamp(created_at + (self._end - created_at) * draw()),
                )
                for fan in shape.fans
            )
            for commenter, delay_ms in shape.comments:
                moment = min(created_at + timedelta(milliseconds=delay_ms), self._end)
                chunk.comments.append(
                    Comment(
                        id=comment_id,
                        article_id=article.id,
                        author_id=commenter + 1,
                        body=prose.comment(draw),
                        created_at=moment,
                        updated_at=moment,
                    )
                )
                comment_id += 1
        return chunk

    def _followees(self, start: int) -> Iterator[tuple[int, list[int]]]:
        users = self.plan.users
        shape = random.Random(f"{self._seed}:follows:{start}")
        for reader in range(start, min(start + self._user_chunk, users)):
            wanted = min(shape.randint(*FOLLOWS_PER_USER), users - 1)
            drawn = shape.choices(range(users), cum_weights=self._author_weights, k=2 * wanted)
            first = [1 if reader == 0 else 0] if wanted else []
            chosen = dict.fromkeys(f for f in [*first, *drawn] if f != reader)
            yield reader, list(chosen)[:wanted]

    def _shapes(self, index: int) -> Iterator[_Shape]:
        """The same shapes on every call: only ``shape`` draws them, text comes apart.

        Drawn with ``random()`` and ``bisect`` rather than ``choices``/``sample``, which
        cost several times as much per draw: pass one draws every shape of a million."""
        users, total, tags = self.plan.users, self.plan.articles, self.tags
        authors, by_tag = self._author_weights, self._tag_weights
        most_author, most_tag = authors[-1], by_tag[-1]
        low, high = COMMENT_DELAY_MS
        draw = random.Random(f"{self._seed}:shape:{index}").random
        for number in range(index * self._chunk, min((index + 1) * self._chunk, total)):
            drawn = bisect(authors, draw() * most_author)
            picks = {
                tags[bisect(by_tag, draw() * most_tag)]
                for _ in range(TAGS_PER_ARTICLE[int(draw() * len(TAGS_PER_ARTICLE))])
            }
            wanted = FAVORITES_PER_ARTICLE[int(draw() * len(FAVORITES_PER_ARTICLE))]
            fans = [*range(number, users, total), *(int(draw() * users) for _ in range(wanted))]
            comments = COMMENTS_PER_ARTICLE[int(draw() * len(COMMENTS_PER_ARTICLE))]
            delays = sorted(low + int(draw() * (high - low)) for _ in range(comments))
            yield _Shape(
                number=number,
                author=number if number < min(2, users) else min(drawn, users - 1),
                tags=tuple(sorted(picks)),
                fans=tuple(dict.fromkeys(fans)),
                comments=tuple((int(draw() * users), delay) for delay in delays),
            )


class _Prose:
    """Titles and Markdown from pools made once from the seed (sentences, paragraphs of
    them, titles), drawn with ``random()``: ``choices``, ``sample`` and ``randint`` cost
    several times as much per draw. Each title's slug is computed once."""

    def __init__(self, seed: int, *, titles: int) -> None:
        rng = random.Random(f"{seed}:prose")
        vocabulary = WORDS + _GLUE
        self._sentences = [
            " ".join(rng.choices(vocabulary, k=rng.randint(8, 14))).capitalize() + "."
            for _ in range(SENTENCES)
        ]
        self._paragraphs = [
            " ".join(rng.choices(self._sentences, k=rng.randint(3, 6))) for _ in range(PARAGRAPHS)
        ]
        self._titles = [
            " ".join(rng.sample(WORDS, k=rng.randint(3, 6))).capitalize() for _ in range(titles)
        ]
        self._slugs: dict[str, str] = {}

    def title(self, draw: Callable[[], float]) -> tuple[str, str]:
        """A title and the readable part of its slug."""
        title = self._titles[int(draw() * len(self._titles))]
        if (slug := self._slugs.get(title)) is None:
            slug = self._slugs[title] = rules.slug_for(title)
        return title, slug

    def comment(self, draw: Callable[[], float]) -> str:
        sentences = self._sentences
        return " ".join(sentences[int(draw() * SENTENCES)] for _ in range(1 + int(draw() * 3)))

    def body(self, draw: Callable[[], float]) -> str:
        words, paragraphs = len(WORDS), self._paragraphs
        heading = f"{WORDS[int(draw() * words)]} {WORDS[int(draw() * words)]}".capitalize()
        parts = [f"## {heading}"]
        parts += (paragraphs[int(draw() * PARAGRAPHS)] for _ in range(3 + int(draw() * 4)))
        extra = draw()
        if extra < 0.25:
            items = (self._sentences[int(draw() * SENTENCES)] for _ in range(3))
            parts.insert(2, "\n".join(f"- {item}" for item in items))
        elif extra < 0.4:
            column, table, key = (WORDS[int(draw() * words)] for _ in range(3))
            parts.insert(2, f"```sql\nSELECT {column} FROM {table} WHERE {key} = 1;\n```")
        place = bisect(_PLACE_WEIGHTS, draw() * _PLACE_WEIGHTS[-1])
        parts.append(f"Field notes from {PLACES[min(place, PLACE_COUNT - 1)].capitalize()}.")
        return "\n\n".join(parts)


def username(number: int) -> str:
    """The name of user ``number`` (from 0): distinct for every number."""
    suffix = str(number // len(NAMES)) if number >= len(NAMES) else ""
    return NAMES[number % len(NAMES)] + suffix


def _vocabulary(size: int) -> list[str]:
    """``TAGS``, then pairs of words (``index-query``), then numbered pairs: distinct names."""
    pairs = len(WORDS) ** 2
    extra = [
        f"{WORDS[n % len(WORDS)]}-{WORDS[n // len(WORDS) % len(WORDS)]}"
        + (f"-{n // pairs}" if n >= pairs else "")
        for n in range(size - len(TAGS))
    ]
    return [*TAGS, *extra]


async def has_content(broadsheet: Broadsheet) -> bool:
    page = await articles.find(
        broadsheet.unit_of_work(), filters=ArticleFilter(), viewer_id=None, limit=1
    )
    return page.total > 0


async def seed(
    loader: BulkLoader, hasher: PasswordHasher, site: Site, advance: Advance
) -> Mapping[str, int]:
    """Write ``site`` (counted) through the entered ``loader``; the rows written, per table."""
    password_hash = await hasher.hash(DEMO_PASSWORD)
    for users in site.users(password_hash):
        await loader.add_users(users)
        advance(len(users))
    for follows in site.follows():
        await loader.add_follows(follows)
        advance(len(follows))
    await loader.add_tags(site.articles_per_tag)
    upcoming = _generate(site, 0) if site.chunks else None
    for index in range(site.chunks):
        assert upcoming is not None
        chunk = await upcoming
        upcoming = _generate(site, index + 1) if index + 1 < site.chunks else None
        await loader.add_articles(chunk.articles)
        await loader.add_favorites(chunk.favorites)
        await loader.add_comments(chunk.comments)
        advance(chunk.rows)
    await loader.finish(articles=site.plan.articles)
    return dict(loader.written)


def _generate(site: Site, index: int) -> asyncio.Task[Chunk]:
    """The chunk, made in a thread while the one before it is written."""
    return asyncio.create_task(asyncio.to_thread(site.chunk, index))
