"""Documents <-> domain objects, and the pipeline stages that build read models.

The model (see docs/storage-models.md): users, articles (tags embedded, favoritesCount kept
as a counter), and references for what grows without bound or is shared: follows,
favorites (with a copy of their article's ``created_at``), comments and tag subscriptions
each live in their own collection, as do the audit log's entries. A user's staff ``role``
and ``suspended`` are fields of their document, absent when they have none. The counters
each list's total is read from sit in ``users`` (``articles_count``, ``favorites_count``),
``tags`` and ``totals`` (see counters.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from broadsheet.domain.models import (
    Article,
    ArticleSummary,
    ArticleView,
    Comment,
    Profile,
    Role,
    User,
)

Document = dict[str, Any]
Stage = dict[str, Any]


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def user_from(doc: Document) -> User:
    return User(
        id=doc["_id"],
        username=doc["username"],
        email=doc["email"],
        password_hash=doc["password_hash"],
        bio=doc.get("bio"),
        image=doc.get("image"),
        # Both absent on a user who never had them (and on every user written before them).
        role=None if doc.get("role") is None else Role(doc["role"]),
        suspended=bool(doc.get("suspended", False)),
    )


def staff_fields(role: Role | None, suspended: bool) -> Document:
    """A role and a suspension as a user document keeps them: only when there is one (a
    field absent means no role, not suspended)."""
    fields: Document = {} if role is None else {"role": role.value}
    return fields | ({"suspended": True} if suspended else {})


def article_from(doc: Document) -> Article:
    return Article(
        id=doc["_id"],
        slug=doc["slug"],
        title=doc["title"],
        description=doc["description"],
        body=doc["body"],
        tags=tuple(doc["tags"]),
        author_id=doc["author_id"],
        created_at=utc(doc["created_at"]),
        updated_at=utc(doc["updated_at"]),
    )


def comment_from(doc: Document) -> Comment:
    return Comment(
        id=doc["_id"],
        article_id=doc["article_id"],
        author_id=doc["author_id"],
        body=doc["body"],
        created_at=utc(doc["created_at"]),
        updated_at=utc(doc["updated_at"]),
    )


def profile_from(doc: Document) -> Profile:
    """From an ``author``-shaped sub-document made by :func:`with_author`."""
    return Profile(
        username=doc["username"],
        bio=doc.get("bio"),
        image=doc.get("image"),
        following=bool(doc["following"]),
    )


def _summary_fields(doc: Document) -> dict[str, Any]:
    return {
        "slug": doc["slug"],
        "title": doc["title"],
        "description": doc["description"],
        "tags": tuple(doc["tags"]),
        "created_at": utc(doc["created_at"]),
        "updated_at": utc(doc["updated_at"]),
        "favorited": bool(doc["favorited"]),
        # The counter may dip below zero for a moment (see favorites.py); never shown so.
        "favorites_count": max(0, doc["favorites_count"]),
        "author": profile_from(doc["author"]),
    }


def summary_from(doc: Document) -> ArticleSummary:
    return ArticleSummary(**_summary_fields(doc))


def view_from(doc: Document) -> ArticleView:
    return ArticleView(**_summary_fields(doc), body=doc["body"])


def _exists(collection: str, local: str, foreign: str, match: Document, into: str) -> Stage:
    """A $lookup that finds at most one matching document: an indexed existence test."""
    return {
        "$lookup": {
            "from": collection,
            "localField": local,
            "foreignField": foreign,
            "pipeline": [{"$match": match}, {"$limit": 1}, {"$project": {"_id": 1}}],
            "as": into,
        }
    }


def with_author(viewer_id: int | None, *, author_field: str = "author_id") -> list[Stage]:
    """Join the author's profile and whether the viewer follows them (as ``author``)."""
    stages: list[Stage] = [
        {
            "$lookup": {
                "from": "users",
                "localField": author_field,
                "foreignField": "_id",
                "pipeline": [{"$project": {"username": 1, "bio": 1, "image": 1}}],
                "as": "author",
            }
        },
        {"$unwind": "$author"},
    ]
    following: Any = False
    if viewer_id is not None:
        stages.append(
            _exists("follows", author_field, "followee_id", {"follower_id": viewer_id}, "_follow")
        )
        following = {"$gt": [{"$size": "$_follow"}, 0]}
    stages.append({"$set": {"author.following": following}})
    return stages


def with_viewer_fields(viewer_id: int | None) -> list[Stage]:
    """Author, following and favorited, relative to the viewer, for a stream of articles."""
    stages = with_author(viewer_id)
    favorited: Any = False
    if viewer_id is not None:
        stages.append(_exists("favorites", "_id", "article_id", {"user_id": viewer_id}, "_fav"))
        favorited = {"$gt": [{"$size": "$_fav"}, 0]}
    stages.append({"$set": {"favorited": favorited}})
    stages.append({"$project": {"_follow": 0, "_fav": 0}})
    return stages
