"""Wire shapes, named as in the RealWorld OpenAPI spec. camelCase exists only here.

Request fields are optional at this level on purpose: a missing or empty required field is
the domain's "can't be blank", decided once in ``domain.rules`` for every presenter.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from broadsheet.domain import models


def _iso_millis(moment: datetime) -> str:
    """``2016-02-18T03:22:56.637Z``: UTC, always with three fraction digits."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


T = TypeVar("T")
Timestamp = Annotated[datetime, PlainSerializer(_iso_millis, return_type=str)]


class Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True)

    def change(self, field: str, value: T) -> models.Change[T]:
        """``value`` if the request sent ``field`` (even as null), else "unchanged"."""
        return value if field in self.model_fields_set else models.UNCHANGED


# Requests


class LoginUser(Wire):
    email: str | None = None
    password: str | None = None


class LoginUserRequest(Wire):
    user: LoginUser


class NewUser(Wire):
    username: str | None = None
    email: str | None = None
    password: str | None = None


class NewUserRequest(Wire):
    user: NewUser


class UpdateUser(Wire):
    """Only the fields sent are changed; ``null`` is a value here, not "unchanged"."""

    email: str | None = None
    username: str | None = None
    password: str | None = None
    bio: str | None = None
    image: str | None = None


class UpdateUserRequest(Wire):
    user: UpdateUser


class NewArticle(Wire):
    title: str | None = None
    description: str | None = None
    body: str | None = None
    tag_list: list[str] = Field(default_factory=list)


class NewArticleRequest(Wire):
    article: NewArticle


class UpdateArticle(Wire):
    title: str | None = None
    description: str | None = None
    body: str | None = None
    tag_list: list[str] = Field(default_factory=list)


class UpdateArticleRequest(Wire):
    article: UpdateArticle


class NewComment(Wire):
    body: str | None = None


class NewCommentRequest(Wire):
    comment: NewComment


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
    favorites_count: int
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
