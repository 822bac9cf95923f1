"""``Articles.search``: every store finds the same set for the same data and query.

One small corpus is written to each store; each query's expected slugs are written out
here, so a store that tokenises, stems or matches phrases and prefixes its own way fails.
The order within equal relevance is newest first everywhere; relevance itself is each
engine's own, so only queries whose matches the corpus makes equally relevant (or a single
match) assert an order.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from broadsheet.domain import search
from broadsheet.domain.models import ArticleChanges, ArticleSummary, NewArticle, Page, User
from broadsheet.domain.ports import Storage
from tests import factories

CORPUS = {
    # slug: (title, description, body)
    "dragons": (
        "How to train your dragon",
        "Ever wonder how?",
        "Dragons need training, patience and a very large barn.",
    ),
    "databases": (
        "Databases at scale",
        "Indexes, plans and caching",
        "A full-text index turns a search into a lookup; training the planner is another story.",
    ),
    "cafe": (
        "Café culture",
        "Über coffee",
        "The ÉCLAIR is a pastry. Don't confuse it with a dragon fruit.",
    ),
    "short": ("Go", "A to Z of Go", "It is a language: go, run, do it."),
    "barns": ("Barn raising", "Large barns", "A very large barn needs a large crew."),
}


async def _corpus(storage: Storage) -> tuple[User, dict[str, int]]:
    author = await factories.user(storage)
    ids = {}
    async with storage.unit_of_work() as uow:
        for slug, (title, description, body) in CORPUS.items():
            article = await uow.articles.add(
                NewArticle(
                    slug=slug,
                    title=title,
                    description=description,
                    body=body,
                    tags=(),
                    author_id=author.id,
                    created_at=factories.later(),
                )
            )
            ids[slug] = article.id
        await uow.commit()
    return author, ids


async def _search(
    storage: Storage, q: str, *, limit: int = 20, offset: int = 0, viewer: User | None = None
) -> Page[ArticleSummary]:
    async with storage.unit_of_work() as uow:
        return await uow.articles.search(
            search.parse(q), viewer_id=viewer.id if viewer else None, limit=limit, offset=offset
        )


def _slugs(page: Page[ArticleSummary]) -> set[str]:
    return {item.slug for item in page.items}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("dragon", {"dragons", "cafe"}),  # the body's "Dragons" and "dragon"
        ("dragons", {"dragons", "cafe"}),  # stemmed alike
        ("training", {"dragons", "databases"}),  # "train" in the title, "training" in bodies
        ("train", {"dragons", "databases"}),
        ("DRAGON barn", {"dragons"}),  # every word must match; case does not matter
        ('"very large barn"', {"dragons", "barns"}),  # a phrase, in order
        ('"large very barn"', set()),  # the same words out of order
        ('"large barn" crew', {"barns"}),
        ("dat*", {"databases"}),  # a prefix of the terms (stems), not of the text
        ("pla*", {"databases"}),  # "plans", "planner"
        ("caf*", {"cafe"}),
        ("café", {"cafe"}),  # accents are kept: "cafe" is another word
        ("cafe", set()),
        ("éclair", {"cafe"}),
        ("uber", set()),
        ("über", {"cafe"}),
        ("don't", {"cafe"}),  # "don" next to "t"
        ("go", {"short"}),  # two letters: found (MariaDB's own index would not)
        ("a", set(CORPUS)),  # a stop word to some engines: found here
        ("z", {"short"}),
        ("the", {"databases", "cafe"}),  # "another" does not count
        ("full-text", {"databases"}),
        ("nothing-like-this", set()),
    ],
)
async def test_a_query_finds_the_same_articles_on_every_store(
    storage: Storage, q: str, expected: set[str]
) -> None:
    await _corpus(storage)

    page = await _search(storage, q)

    assert _slugs(page) == expected
    assert page.total == len(expected)


async def test_matches_come_most_relevant_first_and_newest_first_among_equals(
    storage: Storage,
) -> None:
    await _corpus(storage)

    # "barn" once in "dragons", thrice in "barns": every ranking puts "barns" first.
    assert [a.slug for a in (await _search(storage, "barn")).items] == ["barns", "dragons"]
    # Once each; "barns" is the newer and the shorter: first by every ranking.
    assert [a.slug for a in (await _search(storage, "need")).items] == ["barns", "dragons"]


async def test_search_pages_with_an_exact_total(storage: Storage) -> None:
    await _corpus(storage)

    everything = [a.slug for a in (await _search(storage, "a")).items]
    pages = [await _search(storage, "a", limit=2, offset=offset) for offset in (0, 2, 4, 6)]

    assert [a.slug for page in pages for a in page.items] == everything
    assert [page.total for page in pages] == [5, 5, 5, 5]
    assert len(pages[2].items) == 1
    assert pages[3].items == ()


async def test_search_keeps_up_with_edits_and_deletes(storage: Storage) -> None:
    _, ids = await _corpus(storage)
    async with storage.unit_of_work() as uow:
        article = await uow.articles.get_by_slug("short")
        assert article is not None
        await uow.articles.update(
            article,
            ArticleChanges(body="Now it is about wyverns."),
            updated_at=factories.later(),
        )
        await uow.articles.delete(ids["barns"])
        await uow.commit()

    assert _slugs(await _search(storage, "wyvern")) == {"short"}
    assert _slugs(await _search(storage, "run")) == set()  # the old body is gone
    assert _slugs(await _search(storage, "go")) == {"short"}  # the title stays
    assert _slugs(await _search(storage, "barn")) == {"dragons"}


async def test_an_edit_that_is_rolled_back_leaves_the_search_as_it_was(
    transactional_storage: Storage,
) -> None:
    storage = transactional_storage
    await _corpus(storage)
    async with storage.unit_of_work() as uow:
        article = await uow.articles.get_by_slug("short")
        assert article is not None
        await uow.articles.update(
            article, ArticleChanges(title="Wyverns"), updated_at=factories.later()
        )
        # left without commit()

    assert _slugs(await _search(storage, "wyvern")) == set()
    assert _slugs(await _search(storage, "go")) == {"short"}


async def test_search_results_are_told_from_the_viewers_side(storage: Storage) -> None:
    author, ids = await _corpus(storage)
    reader = await factories.user(storage)
    async with storage.unit_of_work() as uow:
        await uow.favorites.add(user_id=reader.id, article_id=ids["barns"], at=factories.later())
        await uow.follows.add(follower_id=reader.id, followee_id=author.id)
        await uow.commit()

    [barns] = (await _search(storage, "crew", viewer=reader)).items
    [anonymous] = (await _search(storage, "crew")).items

    assert (barns.favorited, barns.favorites_count, barns.author.following) == (True, 1, True)
    assert replace(anonymous, favorited=True, author=barns.author) == barns
