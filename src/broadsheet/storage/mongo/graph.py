"""The follow graph on documents: suggestions by one two-hop pipeline, paths by ``$graphLookup``.

**Suggestions** are one aggregation on ``follows``: the viewer's follows from the index
``{follower_id 1, followee_id 1}`` in followee order, the first ``rules.SUGGESTIONS_ASK`` of
them; each of those followees' own follows joined by the same index (their ``follower_id``
leads it); counted per followee, less the viewer and those the viewer follows already (one
probe each of ``{followee_id 1, follower_id 1}``); then their users by ``_id``, ranked.

**A shortest path** is searched from both ends at once, in one command: the start's user
by ``_id`` (the one document an aggregate starts from; ``$documents`` would need MongoDB
5.1) carries two ``$graphLookup`` walks of ``follows``, forward from the start (followee
after followee, over ``follower_id``'s index) at most ``ceil(max/2)`` follows deep, and
backward from the end (follower after follower, over ``followee_id``'s) at most
``floor(max/2)``. Each walk returns the follows it crossed, each with its ``depth`` (how
many follows from its end of the walk the nearer user is); Python rebuilds the
breadth-first layers of each side from them, keeping per user the smallest chain of ids
(what the memory store keeps), and joins the halves on a user both reach: the shortest
whole chain, ties by the smallest sequence of ids.

The follows returned are bounded by the depth: the forward walk returns the follows *of*
each user at most ``ceil(max/2) - 1`` follows from the start, the backward walk the follows
*to* each user at most ``floor(max/2) - 1`` follows from the end. With ``MAX_PATH_FOLLOWS``
4, that is the start's follows and its followees' follows, and the end's followers and
their followers: never the follows of anyone two follows away from either end. They come
back in one document, so its 16 MiB cap bounds them too (some 250,000 follows).
"""

from __future__ import annotations

from collections.abc import Iterable

from broadsheet.domain import rules
from broadsheet.domain.models import Profile, Suggestion
from broadsheet.storage.mongo.base import MongoRepository
from broadsheet.storage.mongo.documents import Document, Stage

# By name: SecantusDB matches a key pattern hint in any key order, so the pattern
# {follower_id 1, followee_id 1} would pick {followee_id 1, follower_id 1} there.
BY_FOLLOWER = "follower_id_1_followee_id_1"
FOLLOWED_BY = "followed_by"
Chain = tuple[int, ...]
Edge = tuple[int, int, int]  # (depth, the user nearer the walk's end, the user beyond)


def suggestions_pipeline(viewer_id: int, *, limit: int) -> list[Stage]:
    """Ranked from the follows alone; only then each candidate's user by ``_id``."""
    return [
        {"$match": {"follower_id": viewer_id}},
        {"$sort": {"followee_id": 1}},
        {"$limit": rules.SUGGESTIONS_ASK},
        {
            "$lookup": {
                "from": "follows",
                "localField": "followee_id",
                "foreignField": "follower_id",
                "pipeline": [{"$project": {"_id": 0, "followee_id": 1}}],
                "as": "_theirs",
            }
        },
        {"$unwind": "$_theirs"},
        {"$match": {"_theirs.followee_id": {"$ne": viewer_id}}},
        {"$group": {"_id": "$_theirs.followee_id", FOLLOWED_BY: {"$sum": 1}}},
        # Among all the viewer follows, not only the asked: one indexed probe per candidate.
        {
            "$lookup": {
                "from": "follows",
                "localField": "_id",
                "foreignField": "followee_id",
                "pipeline": [
                    {"$match": {"follower_id": viewer_id}},
                    {"$limit": 1},
                    {"$project": {"_id": 1}},
                ],
                "as": "_mine",
            }
        },
        {"$match": {"_mine": {"$size": 0}}},
        {
            "$lookup": {
                "from": "users",
                "localField": "_id",
                "foreignField": "_id",
                "pipeline": [
                    {"$project": {"username": 1, "bio": 1, "image": 1, "username_key": 1}}
                ],
                "as": "user",
            }
        },
        {"$unwind": "$user"},  # a user deleted meanwhile drops out
        {"$sort": {FOLLOWED_BY: -1, "user.username_key": 1}},
        {"$limit": limit},
    ]


def _walk(start: int, near: str, far: str, follows: int, into: str) -> Stage:
    """The follows crossed walking at most ``follows`` of them from user ``start``, each from its
    ``near`` user (reached first) to its ``far`` one."""
    return {
        "$graphLookup": {
            "from": "follows",
            "startWith": {"$literal": start},
            "connectFromField": far,
            "connectToField": near,
            "maxDepth": follows - 1,  # depth 0 is the follows of the start itself
            "depthField": "depth",
            "as": into,
        }
    }


def path_pipeline(from_id: int, to_id: int, *, max_follows: int) -> list[Stage]:
    """On ``users``: one document, ``forward`` and ``backward``, the follows each walk
    crossed (none if the start is no user)."""
    forward, backward = (max_follows + 1) // 2, max_follows // 2
    walks = [_walk(from_id, "follower_id", "followee_id", forward, "forward")]
    if backward:
        walks.append(_walk(to_id, "followee_id", "follower_id", backward, "backward"))
    # Each follow crossed as its two ids and depth (a nested _id is left out by naming the rest).
    kept = {
        f"{walk}.{field}": 1
        for walk in ("forward", "backward")
        for field in ("follower_id", "followee_id", "depth")
    }
    return [
        {"$match": {"_id": from_id}},
        *walks,
        {"$project": {"_id": 0, **kept}},
    ]


def _edges(follows: Iterable[Document], near: str, far: str) -> list[Edge]:
    return [(int(f["depth"]), int(f[near]), int(f[far])) for f in follows]


def _layers(end: int, edges: list[Edge], *, backward: bool) -> dict[int, Chain]:
    """Each user one walk reached, with its smallest shortest chain from (forward) or to
    (backward) ``end``: breadth first, a layer (one depth) at a time."""
    best: dict[int, Chain] = {end: (end,)}
    for _, near, far in sorted(edges):
        chain = best.get(near)
        if chain is None:  # not crossed from a reached user: cannot happen, skipped all the same
            continue
        longer = (far, *chain) if backward else (*chain, far)
        known = best.get(far)
        if known is None or (len(longer), longer) < (len(known), known):
            best[far] = longer
    return best


def _joined(forward: dict[int, Chain], backward: dict[int, Chain]) -> Chain | None:
    """The shortest chain through a user both halves reach, ties by the smallest ids."""
    whole = [chain + backward[user][1:] for user, chain in forward.items() if user in backward]
    return min(whole, key=lambda chain: (len(chain), chain), default=None)


class MongoGraph(MongoRepository):
    async def suggestions(self, viewer_id: int, *, limit: int) -> list[Suggestion]:
        cursor = await self._db.follows.aggregate(
            suggestions_pipeline(viewer_id, limit=limit), session=self._session, hint=BY_FOLLOWER
        )
        return [
            Suggestion(
                profile=Profile(
                    username=doc["user"]["username"],
                    bio=doc["user"].get("bio"),
                    image=doc["user"].get("image"),
                    following=False,
                ),
                followed_by=int(doc[FOLLOWED_BY]),
            )
            async for doc in cursor
        ]

    async def path(self, from_id: int, to_id: int, *, max_follows: int) -> list[int] | None:
        if from_id == to_id:
            return [from_id] if max_follows >= 0 else None
        if max_follows < 1:
            return None
        pipeline = path_pipeline(from_id, to_id, max_follows=max_follows)
        cursor = await self._db.users.aggregate(pipeline, session=self._session)
        found = await cursor.to_list(length=1)
        if not found:
            return None
        walked = found[0]
        forward = _layers(
            from_id, _edges(walked["forward"], "follower_id", "followee_id"), backward=False
        )
        backward = _layers(
            to_id, _edges(walked.get("backward", []), "followee_id", "follower_id"), backward=True
        )
        chain = _joined(forward, backward)
        return None if chain is None else list(chain)
