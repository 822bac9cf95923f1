"""``python -m bench.encoding``: what each way of writing a list page's JSON costs, side by side.

The API answers through Pydantic: a handler builds the response model from the domain's
dataclasses, FastAPI checks it against the declared model and serializes it with Pydantic's
Rust ``dump_json``. The alternatives a Python service would reach for are plain dicts through
orjson, msgspec or the standard library. Each is timed on the same 20-article page, in turn,
repeatedly, in one process, and reported against the current path, so a noisy machine still
gives a comparable ratio. It times encoding only; the load run shows what a request costs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import orjson
from fastapi._compat import ModelField  # the field FastAPI validates and dumps a response with
from fastapi.utils import create_model_field

from broadsheet.domain import models
from broadsheet.web.api import schemas


def sample_page(size: int = 20) -> models.Page[models.ArticleSummary]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    items = tuple(
        models.ArticleSummary(
            slug=f"how-to-train-your-dragon-{n}",
            title=f"How to train your dragon, part {n}",
            description="Ever wonder how? A short guide for the impatient.",
            tags=("dragons", "training", "howto"),
            created_at=start + timedelta(minutes=n),
            updated_at=start + timedelta(minutes=n, seconds=30),
            favorited=n % 3 == 0,
            favorites_count=n * 7,
            author=models.Profile(
                username=f"author{n % 5}", bio="I write.", image=None, following=n % 2 == 0
            ),
        )
        for n in range(size)
    )
    return models.Page(items=items, total=1_000_000)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _as_dict(page: models.Page[models.ArticleSummary]) -> dict[str, Any]:
    return {
        "articles": [
            {
                "slug": a.slug,
                "title": a.title,
                "description": a.description,
                "tagList": list(a.tags),
                "createdAt": _iso(a.created_at),
                "updatedAt": _iso(a.updated_at),
                "favorited": a.favorited,
                "favoritesCount": a.favorites_count,
                "author": {
                    "username": a.author.username,
                    "bio": a.author.bio,
                    "image": a.author.image,
                    "following": a.author.following,
                },
            }
            for a in page.items
        ],
        "articlesCount": page.total,
    }


def encoders(page: models.Page[models.ArticleSummary]) -> dict[str, Callable[[], bytes | str]]:
    field: ModelField = create_model_field("response", schemas.MultipleArticlesResponse)
    msgspec_encoder = msgspec.json.Encoder()

    def pydantic_as_served() -> bytes:
        # What a handler and FastAPI do: build the model, validate it as the response, dump.
        response = schemas.MultipleArticlesResponse.of(page)
        value, _ = field.validate(response, {}, loc=("response",))
        return field.serialize_json(value, by_alias=True)

    def pydantic_dump_only() -> str:
        return schemas.MultipleArticlesResponse.of(page).model_dump_json(by_alias=True)

    return {
        "pydantic, as served": pydantic_as_served,
        "pydantic, no response check": pydantic_dump_only,
        "dict + orjson": lambda: orjson.dumps(_as_dict(page)),
        "dict + msgspec": lambda: msgspec_encoder.encode(_as_dict(page)),
        "dict + json (stdlib)": lambda: json.dumps(_as_dict(page)).encode(),
    }


def _time_per_call(encode: Callable[[], bytes | str], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        encode()
    return (time.perf_counter() - started) / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)

    page = sample_page()
    ways = encoders(page)
    bodies = {name: json.loads(encode()) for name, encode in ways.items()}
    reference = bodies["pydantic, as served"]
    for name, body in bodies.items():
        if body != reference:
            raise SystemExit(f"{name} writes a different page")

    # Interleaved rounds: whatever else the machine does lands on every way alike.
    samples: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, encode in ways.items():
            samples[name].append(_time_per_call(encode, args.calls))

    baseline = statistics.median(samples["pydantic, as served"])
    size = len(ways["pydantic, as served"]())
    lines = [
        f"20-article list page, {size} bytes; median of {args.rounds} rounds x {args.calls}",
        "",
        "| way | µs per page | vs as served |",
        "|---|---:|---:|",
    ]
    for name, times in samples.items():
        median = statistics.median(times)
        lines.append(f"| {name} | {median * 1e6:.1f} | {median / baseline:.2f}x |")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
