"""Path and query parameters, typed as the API accepts them.

The published schema states the bounds; the domain checks them (``rules.page_bounds``), so
every presenter gives the same message for a ``limit`` out of range.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path, Query
from pydantic import WithJsonSchema
from starlette.convertors import StringConvertor, register_url_convertor

from broadsheet.domain import rules, search


class ArticleSlug(StringConvertor):
    """A path segment that can name an article: never a reserved word such as ``feed``, so
    ``PUT /api/articles/feed`` is a 405 of the feed's path, not an update of an article that
    cannot exist."""

    regex = "(?!(?:" + "|".join(map(re.escape, sorted(rules.RESERVED_SLUGS))) + ")(?:/|$))[^/]+"


# Routes write "/articles/{slug:article_slug}"; the published path is "/articles/{slug}".
register_url_convertor("article_slug", ArticleSlug())

Slug = Annotated[str, Path(), WithJsonSchema({"type": "string", "minLength": 1})]
Username = Annotated[str, Path(), WithJsonSchema({"type": "string", "minLength": 1})]
CommentId = Annotated[int, Path(description="The comment's `id`.")]
Limit = Annotated[
    int | None,
    Query(description=f"1 to {rules.MAX_PAGE_SIZE}, default {rules.DEFAULT_PAGE_SIZE}"),
    WithJsonSchema(
        {
            "type": "integer",
            "minimum": 1,
            "maximum": rules.MAX_PAGE_SIZE,
            "default": rules.DEFAULT_PAGE_SIZE,
        }
    ),
]
Offset = Annotated[
    int | None,
    Query(description="0 or more, default 0"),
    WithJsonSchema({"type": "integer", "minimum": 0, "default": 0}),
]


Tag = Annotated[
    str | None,
    Query(description="Only articles with this tag."),
    WithJsonSchema({"type": "string"}),
]
Author = Annotated[
    str | None,
    Query(description="Only articles by this username."),
    WithJsonSchema({"type": "string"}),
]
FavoritedBy = Annotated[
    str | None,
    Query(description="Only articles this username favorited."),
    WithJsonSchema({"type": "string"}),
]
SearchText = Annotated[
    str | None,
    Query(
        description='Words (stemmed: "dragons" finds "dragon"), "quoted phrases" and prefix* '
        f"words, all of which must match; at most {search.MAX_QUERY_LENGTH} characters."
    ),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": search.MAX_QUERY_LENGTH}),
]
Days = Annotated[
    int | None,
    Query(description="The window: the last this many days, compared with the ones before."),
    WithJsonSchema(
        {
            "type": "integer",
            "minimum": 1,
            "maximum": rules.MAX_WINDOW_DAYS,
            "default": rules.DEFAULT_WINDOW_DAYS,
        }
    ),
]
Top = Annotated[
    int | None,
    Query(description=f"How many to show: 1 to {rules.MAX_TOP}, default {rules.DEFAULT_TOP}."),
    WithJsonSchema(
        {"type": "integer", "minimum": 1, "maximum": rules.MAX_TOP, "default": rules.DEFAULT_TOP}
    ),
]
Include = Annotated[
    str | None,
    Query(
        description="`tags`: also the articles with a tag you subscribe to, each once "
        "(beyond RealWorld: docs/api.md). Without it, RealWorld's feed."
    ),
    WithJsonSchema({"type": "string", "enum": list(rules.FEED_INCLUDES)}),
]
TagName = Annotated[str, Path(), WithJsonSchema({"type": "string", "minLength": 1})]
Reason = Annotated[
    str | None,
    Query(
        description="Staff only (beyond RealWorld: docs/api.md): why, for the audit log, "
        f"at most {rules.MAX_REASON_LENGTH} characters."
    ),
    WithJsonSchema({"type": "string", "maxLength": rules.MAX_REASON_LENGTH}),
]
