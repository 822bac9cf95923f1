"""The ``Analytics`` port: tag trends, trending articles and an author's figures, the same
on every store for the same data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from broadsheet.domain.models import NewArticle, User, Window
from broadsheet.domain.ports import Storage
from tests import factories

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
WEEK = Window(start=NOW - timedelta(days=7), end=NOW)


def _days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


async def _article(
    storage: Storage, author: User, slug: str, *, days_ago: float, tags: tuple[str, ...] = ()
) -> int:
    async with storage.unit_of_work() as uow:
        article = await uow.articles.add(
            NewArticle(
                slug=slug,
                title=slug,
                description="d",
                body="b",
                tags=tags,
                author_id=author.id,
                created_at=_days_ago(days_ago),
            )
        )
        await uow.commit()
    return article.id


async def _favorite(storage: Storage, user: User, article_id: int, *, days_ago: float) -> None:
    async with storage.unit_of_work() as uow:
        await uow.favorites.add(user_id=user.id, article_id=article_id, at=_days_ago(days_ago))
        await uow.commit()


async def test_tags_rank_by_articles_in_the_window_beside_the_window_before(
    storage: Storage,
) -> None:
    ann = await factories.user(storage)
    await _article(storage, ann, "a1", days_ago=1, tags=("python", "sql"))
    await _article(storage, ann, "a2", days_ago=2, tags=("python",))
    await _article(storage, ann, "a3", days_ago=6.9, tags=("mongo", "sql"))
    await _article(storage, ann, "b1", days_ago=8, tags=("sql", "mongo"))
    await _article(storage, ann, "b2", days_ago=13, tags=("sql", "old"))
    await _article(storage, ann, "c1", days_ago=15, tags=("python",))  # before both windows
    await _article(storage, ann, "future", days_ago=-1, tags=("python",))  # after the window

    async with storage.unit_of_work() as uow:
        trends = await uow.analytics.tag_trends(WEEK, limit=10)
        top_two = await uow.analytics.tag_trends(WEEK, limit=2)

    assert [(t.tag, t.articles, t.previous, t.change) for t in trends] == [
        ("python", 2, 0, 2),
        ("sql", 2, 2, 0),  # ties alphabetical
        ("mongo", 1, 1, 0),
    ]  # "old" was used only in the window before: not popular now
    assert [t.tag for t in top_two] == ["python", "sql"]


async def test_trending_ranks_articles_by_favorites_received_in_the_window(
    storage: Storage,
) -> None:
    ann, bob, cy, dee = [await factories.user(storage) for _ in range(4)]
    old = await _article(storage, ann, "old-but-loved", days_ago=300)
    new = await _article(storage, ann, "new", days_ago=3)
    tied = await _article(storage, ann, "tied-newer", days_ago=2)
    quiet = await _article(storage, ann, "quiet", days_ago=1)
    for fan in (bob, cy, dee):
        await _favorite(storage, fan, old, days_ago=1)
    await _favorite(storage, bob, new, days_ago=2)
    await _favorite(storage, cy, tied, days_ago=1)
    await _favorite(storage, bob, quiet, days_ago=10)  # before the window
    await _favorite(storage, dee, new, days_ago=0.5)
    async with storage.unit_of_work() as uow:  # taken back: no longer counts
        await uow.favorites.remove(user_id=dee.id, article_id=new)
        await uow.commit()

    async with storage.unit_of_work() as uow:
        trending = await uow.analytics.trending(WEEK, viewer_id=bob.id, limit=10)
        anonymous = await uow.analytics.trending(WEEK, viewer_id=None, limit=1)

    assert [(t.article.slug, t.favorites) for t in trending] == [
        ("old-but-loved", 3),
        ("tied-newer", 1),  # ties: the newer article first
        ("new", 1),
    ]
    assert [t.article.favorited for t in trending] == [True, False, True]
    assert trending[0].article.favorites_count == 3
    assert [(t.article.slug, t.article.favorited) for t in anonymous] == [("old-but-loved", False)]


async def test_an_authors_figures_and_top_articles(storage: Storage) -> None:
    ann, bob, cy = [await factories.user(storage) for _ in range(3)]
    first = await _article(storage, ann, "first", days_ago=30)
    second = await _article(storage, ann, "second", days_ago=20)
    third = await _article(storage, ann, "third", days_ago=10)
    await _article(storage, bob, "bobs", days_ago=5)
    await _favorite(storage, bob, second, days_ago=1)
    await _favorite(storage, cy, second, days_ago=1)
    await _favorite(storage, cy, first, days_ago=1)
    await _favorite(storage, ann, third, days_ago=1)  # her own: still received
    await factories.follow(storage, follower=bob, followee=ann)
    await factories.follow(storage, follower=cy, followee=ann)
    await factories.follow(storage, follower=ann, followee=bob)

    async with storage.unit_of_work() as uow:
        stats = await uow.analytics.author_stats(ann.username, viewer_id=bob.id, top=2)
        cys_view = await uow.analytics.author_stats(ann.username.upper(), viewer_id=cy.id, top=5)
        nobody = await uow.analytics.author_stats("nobody", viewer_id=None, top=5)

    assert stats is not None
    assert cys_view is not None
    assert (stats.profile.username, stats.profile.following) == (ann.username, True)
    assert (stats.articles, stats.favorites_received) == (3, 4)
    assert (stats.followers, stats.following) == (2, 1)
    assert [(a.slug, a.favorites_count, a.favorited) for a in stats.top_articles] == [
        ("second", 2, True),
        ("third", 1, False),  # ties: newest first
    ]
    assert [a.slug for a in cys_view.top_articles] == ["second", "third", "first"]
    assert nobody is None
