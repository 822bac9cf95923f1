"""The follow graph in SQL: suggestions by a two-hop join, paths by recursive CTEs.

**Suggestions**: the viewer's followees (at most ``rules.SUGGESTIONS_ASK``, by the primary
key ``(follower_id, followee_id)``), joined to *their* followees by the same key, grouped
and counted. Two index range reads, one statement.

**A shortest path** is searched from both ends at once: one recursive CTE walks follows
forward from the start (``follow``'s primary key), another walks them backward from the
end (``ix_follow_followee_id``), each at most half the length deep, and the walks meet on a
common user. Reading two halves of depth 2 touches the follows of about a hundred people
where one walk of depth 4 would touch those of ten thousand. Each row carries its walk so
far as text (each id zero-padded, so that comparing the text compares the ids in order:
the tie-break between equally short paths) and never visits a user twice.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Integer, Select, TextClause, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter

from broadsheet.domain import rules
from broadsheet.domain.models import Profile, Suggestion
from broadsheet.storage.sql.tables import follow, user_account

_ID_WIDTH = 10  # digits of rules.MAX_ID
PERCENT = "'%'"


@functools.cache
def _suggestions_statement() -> Select[Any]:
    viewer: BindParameter[int] = bindparam("viewer_id", type_=Integer)
    asked = (
        select(follow.c.followee_id)
        .where(follow.c.follower_id == viewer)
        .order_by(follow.c.followee_id)
        .limit(bindparam("asked"))
        .subquery("asked")
    )
    theirs = follow.alias("theirs")
    already = select(follow.c.followee_id).where(follow.c.follower_id == viewer)
    followed_by = func.count().label("followed_by")
    return (
        select(user_account.c.username, user_account.c.bio, user_account.c.image, followed_by)
        .select_from(
            asked.join(theirs, theirs.c.follower_id == asked.c.followee_id).join(
                user_account, user_account.c.id == theirs.c.followee_id
            )
        )
        .where(theirs.c.followee_id != viewer, theirs.c.followee_id.not_in(already))
        .group_by(
            user_account.c.id,
            user_account.c.username,
            user_account.c.username_key,
            user_account.c.bio,
            user_account.c.image,
        )
        .order_by(followed_by.desc(), user_account.c.username_key)
        .limit(bindparam("top_limit"))
    )


def _padded(dialect: str, expression: str) -> str:
    if dialect == "sqlite":
        return f"printf('%0{_ID_WIDTH}d', {expression})"
    if dialect == "postgresql":
        return f"lpad(CAST({expression} AS TEXT), {_ID_WIDTH}, '0')"
    return f"LPAD({expression}, {_ID_WIDTH}, '0')"


def _joined(dialect: str, *parts: str) -> str:
    if dialect == "mysql":  # || is OR there
        return "CONCAT(" + ", ".join(parts) + ")"
    return " || ".join(parts)


@functools.cache
def _path_statement(dialect: str) -> TextClause:
    def walk(name: str, start: str, depth: str, *, backward: bool) -> str:
        """Follows walked from ``start`` (forward: to followees; backward: to followers),
        each row's ``walked`` in path order (backward walks prepend)."""
        here, there = ("followee_id", "follower_id") if backward else ("follower_id", "followee_id")
        new = _padded(dialect, f"f.{there}")
        first = _padded(dialect, start)
        # MariaDB types a recursive column by its first row: the text must have room.
        anchor = f"CAST({first} AS CHAR(200))" if dialect == "mysql" else first
        walked = (
            _joined(dialect, new, "'/'", "w.walked")
            if backward
            else _joined(dialect, "w.walked", "'/'", new)
        )
        unvisited = f"w.walked NOT LIKE {_joined(dialect, PERCENT, new, PERCENT)}"
        return (
            f"{name}(node, depth, walked) AS ("
            f" SELECT {start}, 0, {anchor}"
            " UNION ALL"
            f" SELECT f.{there}, w.depth + 1, {walked}"
            f" FROM {name} w JOIN follow f ON f.{here} = w.node"
            f" WHERE w.depth < {depth}"
            f" AND {unvisited})"
        )

    forward = walk("forward", ":from_id", ":forward_depth", backward=False)
    backward = walk("backward", ":to_id", ":backward_depth", backward=True)
    # The whole path's text: the forward walk, then the backward one without the user the
    # two meet on (its first id).
    whole = _joined(dialect, "forward.walked", f"substr(backward.walked, {_ID_WIDTH + 1})")
    return text(
        f"WITH RECURSIVE {forward}, {backward}"
        f" SELECT {whole} AS walked, forward.depth + backward.depth AS follows"
        " FROM forward JOIN backward ON forward.node = backward.node"
        f" ORDER BY follows, walked"
        " LIMIT 1"
    ).bindparams(
        *(bindparam(name, type_=Integer) for name in _PATH_PARAMETERS),
    )


_PATH_PARAMETERS = ("from_id", "to_id", "forward_depth", "backward_depth")


class SqlGraph:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def suggestions(self, viewer_id: int, *, limit: int) -> list[Suggestion]:
        parameters = {"viewer_id": viewer_id, "asked": rules.SUGGESTIONS_ASK, "top_limit": limit}
        rows = await self._connection.execute(_suggestions_statement(), parameters)
        return [
            Suggestion(
                profile=Profile(
                    username=row.username, bio=row.bio, image=row.image, following=False
                ),
                followed_by=int(row.followed_by),
            )
            for row in rows
        ]

    async def path(self, from_id: int, to_id: int, *, max_follows: int) -> list[int] | None:
        parameters = {
            "from_id": from_id,
            "to_id": to_id,
            "forward_depth": (max_follows + 1) // 2,
            "backward_depth": max_follows // 2,
        }
        statement = _path_statement(self._connection.dialect.name)
        row = (await self._connection.execute(statement, parameters)).first()
        if row is None:
            return None
        return [int(part) for part in row.walked.split("/")]
