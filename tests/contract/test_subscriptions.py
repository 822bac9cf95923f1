"""The ``TagSubscriptions`` port and ``Articles.feed_with_tags``: the wider feed holds the
followed authors' articles and the subscribed tags' articles, each once, newest first, with
an exact total; RealWorld's feed is unchanged by subscriptions."""

from __future__ import annotations

from broadsheet.domain.models import ArticleSummary, NewArticle, Page, User
from broadsheet.domain.ports import Storage
from tests import factories


async def _article(storage: Storage, author: User, slug: str, *tags: str) -> None:
    async with storage.unit_of_work() as uow:
        await uow.articles.add(
            NewArticle(
                slug=slug,
                title=slug,
                description="d",
                body="b",
                tags=tuple(sorted(tags)),
                author_id=author.id,
                created_at=factories.later(),
            )
        )
        await uow.commit()


async def _subscribe(storage: Storage, user: User, *tags: str) -> None:
    async with storage.unit_of_work() as uow:
        for tag in tags:
            await uow.subscriptions.add(user_id=user.id, tag=tag)
        await uow.commit()


async def _feeds(
    storage: Storage, reader: User, *, limit: int = 20, offset: int = 0
) -> tuple[Page[ArticleSummary], Page[ArticleSummary]]:
    async with storage.unit_of_work() as uow:
        wider = await uow.articles.feed_with_tags(viewer_id=reader.id, limit=limit, offset=offset)
        plain = await uow.articles.feed(viewer_id=reader.id, limit=limit, offset=offset)
    return wider, plain


def _slugs(page: Page[ArticleSummary]) -> list[str]:
    return [item.slug for item in page.items]


async def test_the_wider_feed_is_followed_authors_or_subscribed_tags_each_once(
    storage: Storage,
) -> None:
    reader, followed, other = [await factories.user(storage) for _ in range(3)]
    await factories.follow(storage, follower=reader, followee=followed)
    await _subscribe(storage, reader, "dragons", "sql")
    await _article(storage, followed, "f1")
    await _article(storage, other, "o1", "dragons")
    await _article(storage, followed, "f2", "dragons", "sql")  # found both ways: once
    await _article(storage, other, "o2", "python")  # neither
    await _article(storage, other, "o3", "sql", "dragons")  # two subscribed tags: once
    await _article(storage, reader, "mine")  # the reader's own: neither

    wider, plain = await _feeds(storage, reader)

    assert _slugs(wider) == ["o3", "f2", "o1", "f1"]
    assert wider.total == 4
    assert _slugs(plain) == ["f2", "f1"]  # RealWorld's feed ignores subscriptions
    assert plain.total == 2


async def test_the_wider_feed_pages_with_an_exact_total(storage: Storage) -> None:
    reader, followed = [await factories.user(storage) for _ in range(2)]
    await factories.follow(storage, follower=reader, followee=followed)
    await _subscribe(storage, reader, "t")
    for number in range(5):
        await _article(storage, followed, f"a{number}", *(["t"] if number % 2 else []))

    pages = [(await _feeds(storage, reader, limit=2, offset=o))[0] for o in (0, 2, 4, 6)]

    assert [_slugs(p) for p in pages] == [["a4", "a3"], ["a2", "a1"], ["a0"], []]
    assert {p.total for p in pages} == {5}


async def test_subscriptions_are_idempotent_and_listed_with_the_followed_authors(
    storage: Storage,
) -> None:
    reader, bob, ann = [await factories.user(storage, username=n) for n in ("cy", "bob", "Ann")]
    await factories.follow(storage, follower=reader, followee=bob)
    await factories.follow(storage, follower=reader, followee=ann)
    await _subscribe(storage, reader, "sql", "dragons", "sql")
    async with storage.unit_of_work() as uow:
        await uow.subscriptions.remove(user_id=reader.id, tag="sql")
        await uow.subscriptions.remove(user_id=reader.id, tag="never")
        await uow.subscriptions.add(user_id=reader.id, tag="zebra")
        await uow.commit()

    async with storage.unit_of_work() as uow:
        found = await uow.subscriptions.of(reader.id)
        nothing = await uow.subscriptions.of(bob.id)

    assert [(p.username, p.following) for p in found.authors] == [("Ann", True), ("bob", True)]
    assert found.tags == ("dragons", "zebra")
    assert (nothing.authors, nothing.tags) == ((), ())
