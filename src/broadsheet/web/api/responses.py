"""What each route can answer besides its success, for the published OpenAPI schema.

The statuses themselves are chosen in ``web.errors``; this only documents them, each in the
error envelope. ``RATE_LIMITED`` is where a rate limiter's 429 is declared: the routes that
list it are the ones a limiter is expected to guard (login, sign-up and every write).
"""

from __future__ import annotations

from typing import Any

from broadsheet.web.api.schemas import ErrorResponse

_DESCRIPTIONS = {
    401: "Authentication failed: `token` is missing or is invalid (login: `credentials`).",
    403: "The resource belongs to another user.",
    404: "The article, profile or comment does not exist.",
    409: "The username or email is already taken.",
    413: "The request body is larger than the server accepts.",
    422: "A field, query value or the body is invalid; each bad field is named once.",
    429: "Too many requests; try again after `Retry-After` seconds.",
    503: "The database is unavailable or the request lost a race; try again.",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Token`"}},
    429: {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait."}},
    503: {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait."}},
}
# Any request can be too large or meet a database outage.
_ALWAYS = (413, 503)
RATE_LIMITED = (429,)
# Added to the token scheme FastAPI declares: on routes open to anyone, no token is fine too.
OPTIONAL_AUTH: dict[str, Any] = {"security": [{}]}
_REJECTED_TOKEN_HEADER = {
    "WWW-Authenticate": {
        "schema": {"type": "string", "const": 'Token error="invalid_token"'},
        "description": "Sent when the request's token did not verify and it was read anonymously.",
    }
}


def errors(*statuses: int, rate_limited: bool = False) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that can fail with ``statuses`` (413 and 503 always)."""
    documented = sorted({*statuses, *_ALWAYS, *(RATE_LIMITED if rate_limited else ())})
    return {
        status: {
            "model": ErrorResponse,
            "description": _DESCRIPTIONS[status],
            **({"headers": _HEADERS[status]} if status in _HEADERS else {}),
        }
        for status in documented
    }


def read_anonymously_on_a_bad_token(success: int = 200) -> dict[int | str, dict[str, Any]]:
    return {success: {"headers": _REJECTED_TOKEN_HEADER}}


# OpenAPI links: how one response feeds the next request (clients and stateful fuzzers read
# them: sign up -> profile, article -> its comments, comment -> delete it).


def _links(targets: dict[str, str], parameters: dict[str, str]) -> dict[str, Any]:
    return {
        name: {"operationId": operation, "parameters": parameters}
        for name, operation in targets.items()
    }


def links_from_user() -> dict[str, Any]:
    return _links(
        {
            "GetProfile": "GetProfileByUsername",
            "Follow": "FollowUserByUsername",
            "Unfollow": "UnfollowUserByUsername",
        },
        {"username": "$response.body#/user/username"},
    )


def links_from_article() -> dict[str, Any]:
    return _links(
        {
            "GetArticle": "GetArticle",
            "UpdateArticle": "UpdateArticle",
            "DeleteArticle": "DeleteArticle",
            "Favorite": "CreateArticleFavorite",
            "Unfavorite": "DeleteArticleFavorite",
            "GetComments": "GetArticleComments",
            "AddComment": "CreateArticleComment",
        },
        {"slug": "$response.body#/article/slug"},
    ) | {
        "GetAuthor": {
            "operationId": "GetProfileByUsername",
            "parameters": {"username": "$response.body#/article/author/username"},
        }
    }


def links_from_comment() -> dict[str, Any]:
    return {
        "DeleteComment": {
            "operationId": "DeleteArticleComment",
            "parameters": {
                "slug": "$request.path.slug",
                "comment_id": "$response.body#/comment/id",
            },
        }
    }
