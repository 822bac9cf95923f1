"""Wire shapes, named as in the RealWorld OpenAPI spec. camelCase exists only here.

Request fields are optional at this level on purpose: a missing or empty required field is
the domain's "can't be blank", decided once in ``domain.rules`` for every presenter. The
published schema still says what the domain accepts (required, not null, the lengths), so
each field carries a ``WithJsonSchema`` that documents without enforcing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.alias_generators import to_camel

from broadsheet.domain import models, rules


def _iso_millis(moment: datetime) -> str:
    """``2016-02-18T03:22:56.637Z``: UTC, always with three fraction digits."""
    # isoformat() is C and ends in "+00:00" once in UTC; strftime() took ~2/3 longer, and a
    # list page formats two of these per article.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


T = TypeVar("T")
Timestamp = Annotated[
    datetime,
    PlainSerializer(_iso_millis, return_type=str),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "examples": ["2016-02-18T03:22:56.637Z"]},
        mode="serialization",
    ),
]


def _text(
    field: str | None = None, *, min_length: int = 1, max_length: int | None = None, **extra: Any
) -> WithJsonSchema:
    """A string as the domain accepts it: not null, ``min_length`` or more, at most the
    domain's limit for ``field`` (counted after trimming)."""
    schema: dict[str, Any] = {"type": "string", "minLength": min_length, **extra}
    limit = max_length if max_length is not None else rules.MAX_LENGTH.get(field or "")
    if limit is not None:
        schema["maxLength"] = limit
    return WithJsonSchema(schema, mode="validation")


def _nullable_text(field: str) -> WithJsonSchema:
    """Bio and image: a string, or null (and "") to clear it."""
    return WithJsonSchema(
        {"type": ["string", "null"], "maxLength": rules.MAX_LENGTH[field]}, mode="validation"
    )


Username = Annotated[
    str | None,
    _text(
        max_length=rules.MAX_USERNAME_LENGTH,
        description="Unique case-insensitively (NFKC); no spaces, slashes or look-alikes.",
    ),
]
Email = Annotated[str | None, _text("email", format="email")]
NewPassword = Annotated[
    str | None,
    _text("password", min_length=rules.MIN_PASSWORD_LENGTH, description="Never trimmed."),
]
Password = Annotated[str | None, _text()]
TagList = Annotated[
    list[str],
    WithJsonSchema(
        {
            "type": "array",
            "items": {"type": "string", "maxLength": rules.MAX_TAG_LENGTH},
            "maxItems": rules.MAX_TAGS,
            "description": "Trimmed; empty tags and duplicates are dropped; sorted.",
        },
        mode="validation",
    ),
]


def _requires(*fields: str) -> ConfigDict:
    return ConfigDict(json_schema_extra={"required": list(fields)})


class Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        field_title_generator=lambda name, field: field.alias or name,
    )

    def change(self, field: str, value: T) -> models.Change[T]:
        """``value`` if the request sent ``field`` (even as null), else "unchanged"."""
        return value if field in self.model_fields_set else models.UNCHANGED


# Requests


class LoginUser(Wire):
    model_config = _requires("email", "password")

    email: Annotated[str | None, _text()] = None
    password: Password = None


class LoginUserRequest(Wire):
    user: LoginUser


class NewUser(Wire):
    model_config = _requires("username", "email", "password")

    username: Username = None
    email: Email = None
    password: NewPassword = None


class NewUserRequest(Wire):
    user: NewUser


class UpdateUser(Wire):
    """Only the fields sent are changed; ``null`` is a value here, not "unchanged"."""

    email: Email = None
    username: Username = None
    password: NewPassword = None
    bio: Annotated[str | None, _nullable_text("bio")] = None
    image: Annotated[str | None, _nullable_text("image")] = None


class UpdateUserRequest(Wire):
    user: UpdateUser


class NewArticle(Wire):
    model_config = _requires("title", "description", "body")

    title: Annotated[str | None, _text("title")] = None
    description: Annotated[str | None, _text("description")] = None
    body: Annotated[str | None, _text("body")] = None
    tag_list: TagList = Field(default_factory=list)


class NewArticleRequest(Wire):
    article: NewArticle


class UpdateArticle(Wire):
    title: Annotated[str | None, _text("title")] = None
    description: Annotated[str | None, _text("description")] = None
    body: Annotated[str | None, _text("body")] = None
    tag_list: TagList = Field(default_factory=list)


class UpdateArticleRequest(Wire):
    article: UpdateArticle


class NewComment(Wire):
    model_config = _requires("body")

    body: Annotated[str | None, _text(max_length=rules.MAX_COMMENT_LENGTH)] = None


class NewCommentRequest(Wire):
    comment: NewComment


class ErrorResponse(BaseModel):
    """Every error: ``{"errors": {"<field>": ["<message>", ...]}}``."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"errors": {"title": ["can't be blank"]}}]}
    )

    errors: Annotated[
        dict[str, list[str]],
        WithJsonSchema(
            {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "minLength": 1},
                },
            }
        ),
    ]


# Responses


class User(Wire):
    email: str
    token: str
    username: str
    bio: str | None
    image: str | None

    @classmethod
    def of(cls, user: models.User, token: str) -> User:
        return cls(
            email=user.email, token=token, username=user.username, bio=user.bio, image=user.image
        )


class UserResponse(Wire):
    user: User


class Profile(Wire):
    username: str
    bio: str | None
    image: str | None
    following: bool

    @classmethod
    def of(cls, profile: models.Profile) -> Profile:
        return cls(
            username=profile.username,
            bio=profile.bio,
            image=profile.image,
            following=profile.following,
        )


class ProfileResponse(Wire):
    profile: Profile


class ArticleListItem(Wire):
    slug: str
    title: str
    description: str
    tag_list: list[str]
    created_at: Timestamp
    updated_at: Timestamp
    favorited: bool
    favorites_count: Annotated[int, WithJsonSchema({"type": "integer", "minimum": 0})]
    author: Profile

    @classmethod
    def of(cls, article: models.ArticleSummary) -> ArticleListItem:
        return cls(**_summary_fields(article))


class Article(ArticleListItem):
    body: str

    @classmethod
    def of_view(cls, article: models.ArticleView) -> Article:
        return cls(**_summary_fields(article), body=article.body)


def _summary_fields(article: models.ArticleSummary) -> dict[str, object]:
    return {
        "slug": article.slug,
        "title": article.title,
        "description": article.description,
        "tag_list": list(article.tags),
        "created_at": article.created_at,
        "updated_at": article.updated_at,
        "favorited": article.favorited,
        "favorites_count": article.favorites_count,
        "author": Profile.of(article.author),
    }


class SingleArticleResponse(Wire):
    article: Article


class MultipleArticlesResponse(Wire):
    articles: list[ArticleListItem]
    articles_count: int

    @classmethod
    def of(cls, page: models.Page[models.ArticleSummary]) -> MultipleArticlesResponse:
        return cls(articles=[ArticleListItem.of(a) for a in page.items], articles_count=page.total)


class Comment(Wire):
    id: int
    created_at: Timestamp
    updated_at: Timestamp
    body: str
    author: Profile

    @classmethod
    def of(cls, comment: models.CommentView) -> Comment:
        return cls(
            id=comment.id,
            created_at=comment.created_at,
            updated_at=comment.updated_at,
            body=comment.body,
            author=Profile.of(comment.author),
        )


class SingleCommentResponse(Wire):
    comment: Comment


class MultipleCommentsResponse(Wire):
    comments: list[Comment]


class TagsResponse(Wire):
    tags: list[str]


# -- beyond RealWorld (docs/api.md) --------------------------------------------------------


class Window(Wire):
    """The span an analytics answer covers: ``from`` (included) to ``to`` (not)."""

    model_config = ConfigDict(alias_generator=None, validate_by_name=True)

    from_: Timestamp = Field(alias="from")
    to: Timestamp
    days: int

    @classmethod
    def of(cls, window: models.Window) -> Window:
        return cls(from_=window.start, to=window.end, days=(window.end - window.start).days)


class TagTrend(Wire):
    tag: str
    articles: int  # published with the tag in the window
    previous: int  # in the window of the same length before
    change_: int = Field(alias="change")  # ``change`` itself names Wire's method

    @classmethod
    def of(cls, trend: models.TagTrend) -> TagTrend:
        return cls(
            tag=trend.tag, articles=trend.articles, previous=trend.previous, change_=trend.change
        )


class TagTrendsResponse(Wire):
    window: Window
    tags: list[TagTrend]


class TrendingArticle(ArticleListItem):
    favorites_in_window: int

    @classmethod
    def of_trend(cls, trend: models.TrendingArticle) -> TrendingArticle:
        return cls(**_summary_fields(trend.article), favorites_in_window=trend.favorites)


class TrendingResponse(Wire):
    window: Window
    articles: list[TrendingArticle]


class AuthorStats(Wire):
    profile: Profile
    articles: int
    favorites_received: int
    followers: int
    following: int
    top_articles: list[ArticleListItem]

    @classmethod
    def of(cls, stats: models.AuthorStats) -> AuthorStats:
        return cls(
            profile=Profile.of(stats.profile),
            articles=stats.articles,
            favorites_received=stats.favorites_received,
            followers=stats.followers,
            following=stats.following,
            top_articles=[ArticleListItem.of(a) for a in stats.top_articles],
        )


class AuthorStatsResponse(Wire):
    stats: AuthorStats


class Suggestion(Wire):
    profile: Profile
    followed_by: int  # of the people the reader follows, how many follow them

    @classmethod
    def of(cls, suggestion: models.Suggestion) -> Suggestion:
        return cls(profile=Profile.of(suggestion.profile), followed_by=suggestion.followed_by)


class SuggestionsResponse(Wire):
    suggestions: list[Suggestion]


class PathResponse(Wire):
    path: list[Profile]
    max_follows: int


class Subscriptions(Wire):
    authors: list[Profile]
    tags: list[str]


class SubscriptionsResponse(Wire):
    subscriptions: Subscriptions

    @classmethod
    def of(cls, found: models.Subscriptions) -> SubscriptionsResponse:
        return cls(
            subscriptions=Subscriptions(
                authors=[Profile.of(p) for p in found.authors], tags=list(found.tags)
            )
        )


class TagSubscription(Wire):
    tag: str
    subscribed: bool


class TagSubscriptionResponse(Wire):
    subscription: TagSubscription

    @classmethod
    def of(cls, tag: str, *, subscribed: bool) -> TagSubscriptionResponse:
        return cls(subscription=TagSubscription(tag=tag, subscribed=subscribed))


class Suspension(Wire):
    username: str
    suspended: bool


class SuspensionResponse(Wire):
    suspension: Suspension

    @classmethod
    def of(cls, username: str, *, suspended: bool) -> SuspensionResponse:
        return cls(suspension=Suspension(username=username, suspended=suspended))


class AuditEntry(Wire):
    id: int
    actor: str | None  # null: the command line
    action: str
    target: str
    reason: str | None
    at: Timestamp

    @classmethod
    def of(cls, entry: models.AuditEntry) -> AuditEntry:
        return cls(
            id=entry.id,
            actor=entry.actor,
            action=entry.action.value,
            target=entry.target,
            reason=entry.reason,
            at=entry.at,
        )


class AuditLogResponse(Wire):
    entries: list[AuditEntry]
    entries_count: int

    @classmethod
    def of(cls, page: models.Page[models.AuditEntry]) -> AuditLogResponse:
        return cls(entries=[AuditEntry.of(e) for e in page.items], entries_count=page.total)
