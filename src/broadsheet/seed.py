"""Demo data, written through the same services the API uses (so it obeys every rule)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from broadsheet.bootstrap import Broadsheet
from broadsheet.domain.errors import AlreadyExists
from broadsheet.domain.models import ArticleFilter
from broadsheet.services import articles, comments, profiles, users

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

Advance = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Plan:
    users: int
    articles: int

    @property
    def steps(self) -> int:
        return self.users + self.articles


class _SeedClock:
    """Spreads the demo articles over the past month instead of the last second; each call
    moves a little forward from the moment last set, never past the real now."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._moment = datetime.now(UTC)

    def set(self, moment: datetime) -> None:
        self._moment = moment

    def now(self) -> datetime:
        self._moment += timedelta(minutes=self._rng.randint(1, 90))
        return min(self._moment, datetime.now(UTC))


class _OneHashHasher:
    """All demo users share one password, so it is hashed (with Argon2id) only once."""

    def __init__(self, broadsheet: Broadsheet) -> None:
        self._hasher = broadsheet.hasher
        self._hashes: dict[str, str] = {}

    async def hash(self, password: str) -> str:
        if password not in self._hashes:
            self._hashes[password] = await self._hasher.hash(password)
        return self._hashes[password]

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._hasher.verify(password_hash, password)


async def has_content(broadsheet: Broadsheet) -> bool:
    page = await articles.find(
        broadsheet.unit_of_work(), filters=ArticleFilter(), viewer_id=None, limit=1
    )
    return page.total > 0


async def seed(broadsheet: Broadsheet, plan: Plan, advance: Advance, *, seed: int = 7) -> None:
    """Users who follow each other, articles with tags, favorites and comments."""
    rng = random.Random(seed)
    hasher = _OneHashHasher(broadsheet)
    user_ids: list[int] = []
    usernames: list[str] = []
    for number in range(plan.users):
        name = NAMES[number % len(NAMES)] + (
            str(number // len(NAMES)) if number >= len(NAMES) else ""
        )
        try:
            signed_in = await users.register(
                broadsheet.unit_of_work(),
                hasher=hasher,
                tokens=broadsheet.tokens,
                username=name,
                email=f"{name}@example.com",
                password=DEMO_PASSWORD,
            )
        except AlreadyExists:
            continue
        user_ids.append(signed_in.user.id)
        usernames.append(name)
        advance(1)
    if not user_ids:
        return

    for reader_id in user_ids:
        for followee in rng.sample(usernames, k=min(3, len(usernames))):
            if followee != usernames[user_ids.index(reader_id)]:
                await profiles.follow(
                    broadsheet.unit_of_work(), username=followee, viewer_id=reader_id
                )

    clock = _SeedClock(rng)
    first = datetime.now(UTC) - timedelta(days=30)
    spacing = timedelta(days=30) / max(plan.articles, 1)
    for number in range(plan.articles):
        clock.set(first + number * spacing)
        author_id = rng.choice(user_ids)
        title = " ".join(rng.sample(WORDS, k=rng.randint(3, 6))).capitalize()
        article = await articles.create(
            broadsheet.unit_of_work(),
            clock=clock,
            author_id=author_id,
            title=title,
            description=f"Notes on {title.lower()}.",
            body=_markdown_body(rng),
            tags=rng.sample(TAGS, k=rng.randint(1, 4)),
        )
        for fan_id in rng.sample(user_ids, k=rng.randint(0, min(5, len(user_ids)))):
            await articles.favorite(broadsheet.unit_of_work(), slug=article.slug, viewer_id=fan_id)
        for commenter_id in rng.sample(user_ids, k=rng.randint(0, min(3, len(user_ids)))):
            await comments.add(
                broadsheet.unit_of_work(),
                clock=clock,
                slug=article.slug,
                viewer_id=commenter_id,
                body=" ".join(rng.choices(WORDS, k=rng.randint(5, 20))).capitalize() + ".",
            )
        advance(1)


def _markdown_body(rng: random.Random) -> str:
    paragraphs = [
        " ".join(rng.choices(WORDS, k=rng.randint(20, 60))).capitalize() + "."
        for _ in range(rng.randint(2, 5))
    ]
    heading = " ".join(rng.sample(WORDS, k=2)).capitalize()
    return f"## {heading}\n\n" + "\n\n".join(paragraphs)
