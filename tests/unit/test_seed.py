"""The demo-data generator: deterministic, in the documented proportions, and keeping by
construction every rule the bulk loader trusts it with (tests/contract/test_bulk_load.py
loads it into every backend)."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from broadsheet.domain import rules
from broadsheet.domain.models import ArticleRecord, Comment, FavoriteRecord, FollowRecord
from broadsheet.seed import SPAN, Plan, Site

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _site(articles: int, *, users: int | None = None, seed: int = 7, chunk: int = 500) -> Site:
    site = Site(Plan.of(articles=articles, users=users), seed=seed, now=NOW, chunk=chunk)
    site.count(lambda _: None)
    return site


def _rows(site: Site) -> tuple[list[FollowRecord], list[ArticleRecord], list[FavoriteRecord],
                               list[Comment]]:  # fmt: skip
    follows = [f for chunk in site.follows() for f in chunk]
    articles, favorites, comments = [], [], []
    for index in range(site.chunks):
        chunk = site.chunk(index)
        articles += chunk.articles
        favorites += chunk.favorites
        comments += chunk.comments
    return follows, articles, favorites, comments


def test_users_default_to_a_tenth_of_the_articles_and_at_least_twelve() -> None:
    assert Plan.of(articles=40) == Plan(users=12, articles=40)
    assert Plan.of(articles=1_000_000) == Plan(users=100_000, articles=1_000_000)
    assert Plan.of(articles=40, users=3) == Plan(users=3, articles=40)


def test_the_same_seed_makes_the_same_site_and_another_seed_another() -> None:
    first, again, other = _site(700), _site(700), _site(700, seed=8)

    assert _rows(first) == _rows(again)
    assert list(first.users("h")) == list(again.users("h"))
    assert _rows(first)[1] != _rows(other)[1]
    assert first.chunk(1) == first.chunk(1)  # any chunk alone, any number of times


def test_the_first_user_is_ada_and_all_share_one_password_hash() -> None:
    site = _site(40)
    (users,) = site.users("the-hash")

    assert (users[0].id, users[0].username, users[0].email) == (1, "ada", "ada@example.com")
    assert {u.password_hash for u in users} == {"the-hash"}


def test_names_slugs_and_tags_are_unique_and_valid() -> None:
    site = _site(3_000, users=400)
    users = [u for chunk in site.users("h") for u in chunk]
    follows, articles, _, _ = _rows(site)

    assert len({rules.username_key(u.username) for u in users}) == len(users) == 400
    assert len({u.email for u in users}) == len(users)
    assert all(rules.username(u.username) == u.username for u in users)
    assert len({a.slug for a in articles}) == len(articles) == 3_000
    for article in articles:
        assert article.slug == f"{rules.slug_for(article.title)}-{article.id - 1:06x}"
        assert rules.tags(article.tags) == article.tags
    assert all(rules.tags([tag]) == (tag,) for tag in site.tags)
    pairs = [(f.follower_id, f.followee_id) for f in follows]
    assert len(set(pairs)) == len(pairs)
    assert all(a != b for a, b in pairs)


def test_counters_equal_the_rows_they_count() -> None:
    site = _site(2_500, users=300)
    users = [u for chunk in site.users("h") for u in chunk]
    follows, articles, favorites, comments = _rows(site)

    written = Counter(a.author_id for a in articles)
    liked = Counter(f.user_id for f in favorites)
    fans = Counter(f.article_id for f in favorites)
    assert {u.id: u.articles_count for u in users} == {u.id: written[u.id] for u in users}
    assert {u.id: u.favorites_count for u in users} == {u.id: liked[u.id] for u in users}
    assert all(a.favorites_count == fans[a.id] for a in articles)
    assert site.articles_per_tag == dict(Counter(t for a in articles for t in a.tags))
    assert len({(f.user_id, f.article_id) for f in favorites}) == len(favorites)
    created = {a.id: a.created_at for a in articles}
    assert all(f.article_created_at == created[f.article_id] for f in favorites)
    assert [c.id for c in comments] == list(range(1, len(comments) + 1))
    assert site.rows == {
        "users": 300,
        "follows": len(follows),
        "articles": 2_500,
        "article tags": sum(len(a.tags) for a in articles),
        "favorites": len(favorites),
        "comments": len(comments),
    }


def test_proportions_are_the_documented_ones() -> None:
    site = _site(5_000)
    follows, articles, favorites, comments = _rows(site)

    assert site.plan.users == 500
    assert 9 <= len(follows) / 500 <= 11
    assert 1.8 <= statistics.mean(len(a.tags) for a in articles) <= 2.2
    assert all(len(a.tags) <= 4 for a in articles)
    assert 1.8 <= len(favorites) / 5_000 <= 2.2
    assert 0.9 <= len(comments) / 5_000 <= 1.1
    assert 1_000 <= statistics.mean(len(a.body.encode()) for a in articles) <= 2_000
    assert len(site.tags) == round(2 * 5_000**0.5)
    uses = sorted(site.articles_per_tag.values(), reverse=True)
    assert uses[0] > 10 * uses[len(uses) // 2]  # skewed: a few tags are on most articles
    by_author = Counter(a.author_id for a in articles)
    assert by_author[1] == max(by_author.values())  # ada writes most


def test_every_user_favorites_and_has_a_feed() -> None:
    for articles, users in [(40, None), (2_000, None), (5, 30)]:
        site = _site(articles, users=users)
        follows, written, favorites, _ = _rows(site)
        authors = {a.author_id for a in written}
        everyone = set(range(1, site.plan.users + 1))
        assert {f.user_id for f in favorites} == everyone
        assert {f.follower_id for f in follows if f.followee_id in authors} == everyone


def test_moments_are_spread_over_the_past_months_and_never_ahead() -> None:
    _, articles, _, comments = _rows(_site(1_200))
    created = [a.created_at for a in articles]

    assert created == sorted(created)
    assert len(set(created)) == len(created)
    assert NOW - SPAN <= created[0] < NOW - SPAN + timedelta(days=1)
    assert NOW - timedelta(days=1) < created[-1] < NOW
    assert all(rules.timestamp(moment) == moment for moment in created)
    of = {a.id: a.created_at for a in articles}
    assert all(of[c.article_id] < c.created_at <= NOW for c in comments)
    assert all(a.updated_at == a.created_at for a in articles)


@pytest.mark.parametrize(("articles", "users"), [(0, None), (1, 1), (3, 2)])
def test_tiny_sites_hold(articles: int, users: int | None) -> None:
    site = _site(articles, users=users)
    follows, written, _, _ = _rows(site)

    assert len(written) == articles
    assert all(f.follower_id != f.followee_id for f in follows)
