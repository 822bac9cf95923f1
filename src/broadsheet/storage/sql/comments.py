from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from broadsheet.domain.models import Comment, CommentView
from broadsheet.storage.sql.dialects import inserted_id, missing_reference_as_not_found
from broadsheet.storage.sql.tables import comment, user_account
from broadsheet.storage.sql.users import following, profile_of


@functools.cache
def _list_statement(signed_in: bool) -> Select[Any]:
    author = user_account.alias("author")
    return (
        select(
            comment.c.id,
            comment.c.body,
            comment.c.created_at,
            comment.c.updated_at,
            author.c.username.label("author_username"),
            author.c.bio.label("author_bio"),
            author.c.image.label("author_image"),
            following(signed_in, author.c.id).label("author_following"),
        )
        .join_from(comment, author, comment.c.author_id == author.c.id)
        .where(comment.c.article_id == bindparam("article_id"))
        .order_by(comment.c.created_at, comment.c.id)
    )


class SqlComments:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(
        self, *, article_id: int, author_id: int, body: str, created_at: datetime
    ) -> Comment:
        async with missing_reference_as_not_found("article"):
            result = await self._connection.execute(
                insert(comment).values(
                    article_id=article_id,
                    author_id=author_id,
                    body=body,
                    created_at=created_at,
                    updated_at=created_at,
                )
            )
        return Comment(
            id=inserted_id(result),
            article_id=article_id,
            author_id=author_id,
            body=body,
            created_at=created_at,
            updated_at=created_at,
        )

    async def get(self, comment_id: int) -> Comment | None:
        query = select(comment).where(comment.c.id == comment_id)
        row = (await self._connection.execute(query)).first()
        if row is None:
            return None
        return Comment(
            id=row.id,
            article_id=row.article_id,
            author_id=row.author_id,
            body=row.body,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def delete(self, comment_id: int) -> None:
        await self._connection.execute(delete(comment).where(comment.c.id == comment_id))

    async def list_for(self, article_id: int, *, viewer_id: int | None) -> list[CommentView]:
        query = _list_statement(viewer_id is not None)
        parameters = {"article_id": article_id, "viewer_id": viewer_id}
        return [
            CommentView(
                id=row.id,
                body=row.body,
                created_at=row.created_at,
                updated_at=row.updated_at,
                author=profile_of(row, prefix="author_"),
            )
            for row in await self._connection.execute(query, parameters)
        ]
