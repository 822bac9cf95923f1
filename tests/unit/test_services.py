"""The use cases over the in-memory store, with fake hashing, tokens and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from broadsheet.domain.errors import (
    AlreadyExists,
    Forbidden,
    Invalid,
    InvalidCredentials,
    NotFound,
    TokenInvalid,
)
from broadsheet.domain.models import ArticleFilter, ArticleView, Profile, TokenClaims, User
from broadsheet.ratelimit import NoRateLimits
from broadsheet.services import articles, comments, profiles, tags, users
from broadsheet.storage.memory import MemoryStorage


class FakeHasher:
    """``hashed:<password>``; remembers every password it hashed."""

    def __init__(self) -> None:
        self.hashed: list[str] = []

    async def hash(self, password: str) -> str:
        self.hashed.append(password)
        return f"hashed:{password}"

    async def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == f"hashed:{password}"


class FakeTokens:
    """``token:<user id>``, issued now and valid for a day."""

    def issue(self, user_id: int) -> str:
        return f"token:{user_id}"

    def read(self, token: str) -> TokenClaims:
        prefix, _, user_id = token.partition(":")
        if prefix != "token" or not user_id.isdigit():
            raise TokenInvalid
        now = datetime.now(UTC)
        return TokenClaims(
            user_id=int(user_id),
            token_id=token,
            issued_at=now,
            expires_at=now + timedelta(days=1),
        )


def presented(user: User) -> TokenClaims:
    """What the token a signed-in ``user`` sends says."""
    return FakeTokens().read(f"token:{user.id}")


class FakeClock:
    """Stands still until told to move."""

    def __init__(self) -> None:
        self.current = datetime(2024, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def store() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
def hasher() -> FakeHasher:
    return FakeHasher()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _register(
    store: MemoryStorage, username: str, *, email: str | None = None, password: str = "password1"
) -> User:
    signed_in = await users.register(
        store.unit_of_work(),
        hasher=FakeHasher(),
        tokens=FakeTokens(),
        username=username,
        email=email or f"{username}@example.com",
        password=password,
    )
    return signed_in.user


async def _write(
    store: MemoryStorage,
    clock: FakeClock,
    author: User,
    title: str = "How to train your dragon",
    tag_list: tuple[str, ...] = (),
) -> ArticleView:
    return await articles.create(
        store.unit_of_work(),
        clock=clock,
        author_id=author.id,
        title=title,
        description="Ever wonder how?",
        body="You have to believe",
        tags=tag_list,
    )


# Accounts


async def test_register_normalises_and_signs_in(store: MemoryStorage, hasher: FakeHasher) -> None:
    signed_in = await users.register(
        store.unit_of_work(),
        hasher=hasher,
        tokens=FakeTokens(),
        username=" Jake ",
        email=" Jake@Jake.JAKE",
        password="jakejake",
    )

    user = signed_in.user
    assert (user.username, user.email, user.bio, user.image) == (
        "Jake",
        "jake@jake.jake",
        None,
        None,
    )
    assert user.password_hash == "hashed:jakejake"
    assert signed_in.token == f"token:{user.id}"
    assert await users.current(store.unit_of_work(), user_id=user.id) == user


async def test_register_refuses_a_username_taken_in_another_case(store: MemoryStorage) -> None:
    await _register(store, "jake")

    with pytest.raises(AlreadyExists, check=lambda e: e.field == "username"):
        await _register(store, "JAKE", email="other@example.com")


async def test_register_refuses_an_email_taken_in_another_case(store: MemoryStorage) -> None:
    await _register(store, "jake", email="jake@example.com")

    with pytest.raises(AlreadyExists, check=lambda e: e.field == "email"):
        await _register(store, "jane", email="JAKE@example.com")


@pytest.mark.parametrize(
    ("username", "email", "password", "field"),
    [
        ("", "jake@example.com", "password1", "username"),
        ("jake", None, "password1", "email"),
        ("jake", "not-an-email", "password1", "email"),
        ("jake", "jake@example.com", "short", "password"),
        ("jake", "jake@example.com", None, "password"),
    ],
)
async def test_register_validates_before_storing(
    store: MemoryStorage, username: str, email: str | None, password: str | None, field: str
) -> None:
    with pytest.raises(Invalid, check=lambda e: field in e.problems):
        await users.register(
            store.unit_of_work(),
            hasher=FakeHasher(),
            tokens=FakeTokens(),
            username=username,
            email=email,
            password=password,
        )
    async with store.unit_of_work() as uow:
        assert await uow.users.get_by_username("jake") is None


async def test_login_with_the_email_in_any_case(store: MemoryStorage) -> None:
    jake = await _register(store, "jake", email="jake@example.com", password="jakejake")

    signed_in = await users.login(
        store.unit_of_work(),
        hasher=FakeHasher(),
        tokens=FakeTokens(),
        limiter=NoRateLimits(),
        email=" JAKE@example.com ",
        password="jakejake",
    )

    assert signed_in.user == jake
    assert signed_in.token == f"token:{jake.id}"


async def test_login_with_a_wrong_password(store: MemoryStorage) -> None:
    await _register(store, "jake", email="jake@example.com", password="jakejake")

    with pytest.raises(InvalidCredentials):
        await users.login(
            store.unit_of_work(),
            hasher=FakeHasher(),
            tokens=FakeTokens(),
            limiter=NoRateLimits(),
            email="jake@example.com",
            password="jakejak",
        )


async def test_login_with_an_unknown_email_still_hashes(
    store: MemoryStorage, hasher: FakeHasher
) -> None:
    with pytest.raises(InvalidCredentials):
        await users.login(
            store.unit_of_work(),
            hasher=hasher,
            tokens=FakeTokens(),
            limiter=NoRateLimits(),
            email="nobody@example.com",
            password="whatever1",
        )
    assert hasher.hashed == ["whatever1"]


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [(None, "pw", "email"), (" ", "pw", "email"), ("a@b.c", "", "password")],
)
async def test_login_requires_both_fields(
    store: MemoryStorage, email: str | None, password: str | None, field: str
) -> None:
    with pytest.raises(Invalid, check=lambda e: field in e.problems):
        await users.login(
            store.unit_of_work(),
            hasher=FakeHasher(),
            tokens=FakeTokens(),
            limiter=NoRateLimits(),
            email=email,
            password=password,
        )


async def test_current_user_who_no_longer_exists_is_an_invalid_token(store: MemoryStorage) -> None:
    with pytest.raises(TokenInvalid):
        await users.current(store.unit_of_work(), user_id=404)


async def test_update_changes_only_the_given_fields(store: MemoryStorage) -> None:
    jake = await _register(store, "jake", email="jake@example.com")

    signed_in = await users.update(
        store.unit_of_work(),
        hasher=FakeHasher(),
        tokens=FakeTokens(),
        revocations=store.revocations,
        claims=presented(jake),
        bio=" I like to skateboard ",
        image="https://example.com/jake.png",
    )

    assert signed_in.user == User(
        id=jake.id,
        username="jake",
        email="jake@example.com",
        password_hash=jake.password_hash,
        bio="I like to skateboard",
        image="https://example.com/jake.png",
    )
    assert signed_in.token == f"token:{jake.id}"
    assert await users.current(store.unit_of_work(), user_id=jake.id) == signed_in.user


async def test_update_with_own_email_and_username_is_not_a_conflict(store: MemoryStorage) -> None:
    jake = await _register(store, "jake", email="jake@example.com")

    signed_in = await users.update(
        store.unit_of_work(),
        hasher=FakeHasher(),
        tokens=FakeTokens(),
        revocations=store.revocations,
        claims=presented(jake),
        email="JAKE@example.com",
        username="Jake",
    )

    assert (signed_in.user.email, signed_in.user.username) == ("jake@example.com", "Jake")


async def test_update_to_someone_elses_email_or_username_conflicts(store: MemoryStorage) -> None:
    await _register(store, "jake", email="jake@example.com")
    jane = await _register(store, "jane", email="jane@example.com")
    uow = store.unit_of_work

    with pytest.raises(AlreadyExists, check=lambda e: e.field == "email"):
        await users.update(
            uow(),
            hasher=FakeHasher(),
            tokens=FakeTokens(),
            revocations=store.revocations,
            claims=presented(jane),
            email="Jake@Example.com",
        )
    with pytest.raises(AlreadyExists, check=lambda e: e.field == "username"):
        await users.update(
            uow(),
            hasher=FakeHasher(),
            tokens=FakeTokens(),
            revocations=store.revocations,
            claims=presented(jane),
            username="JAKE",
        )
    assert await users.current(uow(), user_id=jane.id) == jane


async def test_update_empty_bio_and_image_mean_none(store: MemoryStorage) -> None:
    jake = await _register(store, "jake")
    uow = store.unit_of_work
    await users.update(
        uow(),
        hasher=FakeHasher(),
        tokens=FakeTokens(),
        revocations=store.revocations,
        claims=presented(jake),
        bio="bio",
        image="img",
    )

    signed_in = await users.update(
        uow(),
        hasher=FakeHasher(),
        tokens=FakeTokens(),
        revocations=store.revocations,
        claims=presented(jake),
        bio="",
        image=None,
    )

    assert (signed_in.user.bio, signed_in.user.image) == (None, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [("username", ""), ("username", None), ("email", ""), ("email", None), ("password", "short")],
)
async def test_update_account_validates(
    store: MemoryStorage, field: str, value: str | None
) -> None:
    jake = await _register(store, "jake")

    with pytest.raises(Invalid, check=lambda e: field in e.problems):
        await users.update(
            store.unit_of_work(),
            hasher=FakeHasher(),
            tokens=FakeTokens(),
            revocations=store.revocations,
            claims=presented(jake),
            **{field: value},
        )
    assert await users.current(store.unit_of_work(), user_id=jake.id) == jake


async def test_update_password(store: MemoryStorage) -> None:
    jake = await _register(store, "jake", email="jake@example.com", password="old-password")
    await users.update(
        store.unit_of_work(),
        hasher=FakeHasher(),
        tokens=FakeTokens(),
        revocations=store.revocations,
        claims=presented(jake),
        password="new-password",
    )

    signed_in = await users.login(
        store.unit_of_work(),
        hasher=FakeHasher(),
        tokens=FakeTokens(),
        limiter=NoRateLimits(),
        email="jake@example.com",
        password="new-password",
    )
    assert signed_in.user.id == jake.id
    with pytest.raises(InvalidCredentials):
        await users.login(
            store.unit_of_work(),
            hasher=FakeHasher(),
            tokens=FakeTokens(),
            limiter=NoRateLimits(),
            email="jake@example.com",
            password="old-password",
        )


# Profiles


async def test_show_profile(store: MemoryStorage) -> None:
    jake = await _register(store, "Jake")
    jane = await _register(store, "jane")
    await profiles.follow(store.unit_of_work(), username="jake", viewer_id=jane.id)

    as_jane = await profiles.show(store.unit_of_work(), username="JAKE", viewer_id=jane.id)
    anonymous = await profiles.show(store.unit_of_work(), username="jake", viewer_id=None)

    assert as_jane == Profile(username="Jake", bio=None, image=None, following=True)
    assert anonymous == jake.as_profile(following=False)


async def test_show_unknown_profile(store: MemoryStorage) -> None:
    with pytest.raises(NotFound, check=lambda e: e.what == "profile"):
        await profiles.show(store.unit_of_work(), username="nobody", viewer_id=None)


async def test_follow_and_unfollow(store: MemoryStorage) -> None:
    await _register(store, "jake")
    jane = await _register(store, "jane")
    uow = store.unit_of_work

    followed = await profiles.follow(uow(), username="jake", viewer_id=jane.id)
    again = await profiles.follow(uow(), username="JAKE", viewer_id=jane.id)
    assert followed.following is again.following is True
    assert (await profiles.show(uow(), username="jake", viewer_id=jane.id)).following is True

    unfollowed = await profiles.unfollow(uow(), username="jake", viewer_id=jane.id)
    again = await profiles.unfollow(uow(), username="jake", viewer_id=jane.id)
    assert unfollowed.following is again.following is False
    assert (await profiles.show(uow(), username="jake", viewer_id=jane.id)).following is False


async def test_following_yourself_is_invalid(store: MemoryStorage) -> None:
    jake = await _register(store, "jake")

    with pytest.raises(Invalid, check=lambda e: "profile" in e.problems):
        await profiles.follow(store.unit_of_work(), username="JAKE", viewer_id=jake.id)
    profile = await profiles.show(store.unit_of_work(), username="jake", viewer_id=jake.id)
    assert profile.following is False


async def test_following_an_unknown_user(store: MemoryStorage) -> None:
    jake = await _register(store, "jake")

    with pytest.raises(NotFound, check=lambda e: e.what == "profile"):
        await profiles.follow(store.unit_of_work(), username="nobody", viewer_id=jake.id)
    with pytest.raises(NotFound, check=lambda e: e.what == "profile"):
        await profiles.unfollow(store.unit_of_work(), username="nobody", viewer_id=jake.id)


async def test_a_viewer_who_no_longer_exists_cannot_follow(store: MemoryStorage) -> None:
    await _register(store, "jake")

    with pytest.raises(TokenInvalid):
        await profiles.follow(store.unit_of_work(), username="jake", viewer_id=404)


# Articles


async def test_create_article(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")

    view = await _write(store, clock, jake, tag_list=(" training", "dragons", "dragons", ""))

    assert view.slug == "how-to-train-your-dragon"
    assert (view.title, view.description, view.body) == (
        "How to train your dragon",
        "Ever wonder how?",
        "You have to believe",
    )
    assert view.tags == ("dragons", "training")
    assert view.created_at == view.updated_at == datetime(2024, 1, 1, 12, 0, 0, 123000, tzinfo=UTC)
    assert (view.favorited, view.favorites_count) == (False, 0)
    assert view.author == jake.as_profile(following=False)
    assert await articles.show(store.unit_of_work(), slug=view.slug, viewer_id=None) == view


async def test_create_validates(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")

    with pytest.raises(Invalid, check=lambda e: "title" in e.problems):
        await _write(store, clock, jake, title="  ")
    with pytest.raises(Invalid, check=lambda e: "body" in e.problems):
        await articles.create(
            store.unit_of_work(),
            clock=clock,
            author_id=jake.id,
            title="t",
            description="d",
            body=None,
        )


async def test_same_title_gets_its_own_slug(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")

    first = await _write(store, clock, jake, title="Dragons")
    second = await _write(store, clock, jake, title="dragons!")
    third = await _write(store, clock, jake, title="Dragons")

    assert first.slug == "dragons"
    assert second.slug.startswith("dragons-")
    assert third.slug.startswith("dragons-")
    assert len({first.slug, second.slug, third.slug}) == 3


async def test_a_title_cannot_take_the_feed_route(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")

    view = await _write(store, clock, jake, title="Feed")

    assert view.slug != "feed"
    assert view.slug.startswith("feed-")


async def test_show_unknown_article(store: MemoryStorage) -> None:
    with pytest.raises(NotFound, check=lambda e: e.what == "article"):
        await articles.show(store.unit_of_work(), slug="nothing", viewer_id=None)


async def test_update_a_new_title_brings_a_new_slug(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")
    original = await _write(store, clock, jake, title="Old title", tag_list=("a",))
    clock.advance(seconds=5)

    updated = await articles.update(
        store.unit_of_work(), clock=clock, slug=original.slug, viewer_id=jake.id, title="New title"
    )

    assert (updated.slug, updated.title) == ("new-title", "New title")
    assert (updated.description, updated.body, updated.tags) == (
        original.description,
        original.body,
        ("a",),
    )
    assert updated.created_at == original.created_at
    assert updated.updated_at == original.updated_at + timedelta(seconds=5)
    with pytest.raises(NotFound):
        await articles.show(store.unit_of_work(), slug="old-title", viewer_id=None)
    shown = await articles.show(store.unit_of_work(), slug="new-title", viewer_id=None)
    assert shown == updated


async def test_update_a_title_with_the_same_slug_keeps_it(
    store: MemoryStorage, clock: FakeClock
) -> None:
    jake = await _register(store, "jake")
    await _write(store, clock, jake, title="Dragons")
    second = await _write(store, clock, jake, title="Dragons")

    updated = await articles.update(
        store.unit_of_work(), clock=clock, slug=second.slug, viewer_id=jake.id, title="DRAGONS!"
    )

    assert (updated.slug, updated.title) == (second.slug, "DRAGONS!")


async def test_update_to_a_title_whose_slug_is_taken_gets_a_suffix(
    store: MemoryStorage, clock: FakeClock
) -> None:
    jake = await _register(store, "jake")
    await _write(store, clock, jake, title="Dragons")
    other = await _write(store, clock, jake, title="Griffins")

    updated = await articles.update(
        store.unit_of_work(), clock=clock, slug=other.slug, viewer_id=jake.id, title="Dragons"
    )

    assert updated.slug.startswith("dragons-")


async def test_update_tags(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")
    view = await _write(store, clock, jake, tag_list=("a", "b"))
    uow = store.unit_of_work

    kept = await articles.update(uow(), clock=clock, slug=view.slug, viewer_id=jake.id, body="new")
    replaced = await articles.update(
        uow(), clock=clock, slug=view.slug, viewer_id=jake.id, tags=["c", " c ", "b"]
    )
    removed = await articles.update(uow(), clock=clock, slug=view.slug, viewer_id=jake.id, tags=[])

    assert (kept.tags, kept.body) == (("a", "b"), "new")
    assert replaced.tags == ("b", "c")
    assert removed.tags == ()
    assert await tags.popular(uow()) == []


async def test_updated_at_strictly_increases_even_when_the_clock_does_not(
    store: MemoryStorage, clock: FakeClock
) -> None:
    jake = await _register(store, "jake")
    view = await _write(store, clock, jake)
    stamps = [view.updated_at]

    for body in ("one", "two", "three"):
        edited = await articles.update(
            store.unit_of_work(), clock=clock, slug=view.slug, viewer_id=jake.id, body=body
        )
        assert edited.created_at == view.created_at
        stamps.append(edited.updated_at)

    assert stamps == sorted(set(stamps))
    assert stamps[-1] - stamps[0] == timedelta(milliseconds=3)


async def test_update_article_validates(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")
    view = await _write(store, clock, jake)

    with pytest.raises(Invalid, check=lambda e: "title" in e.problems):
        await articles.update(
            store.unit_of_work(), clock=clock, slug=view.slug, viewer_id=jake.id, title=""
        )
    assert await articles.show(store.unit_of_work(), slug=view.slug, viewer_id=None) == view


async def test_only_the_author_may_update_or_delete(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")
    jane = await _register(store, "jane")
    view = await _write(store, clock, jake)
    uow = store.unit_of_work

    with pytest.raises(Forbidden, check=lambda e: e.what == "article"):
        await articles.update(uow(), clock=clock, slug=view.slug, viewer_id=jane.id, body="mine")
    with pytest.raises(Forbidden, check=lambda e: e.what == "article"):
        await articles.delete(uow(), clock=clock, slug=view.slug, viewer_id=jane.id)
    assert await articles.show(uow(), slug=view.slug, viewer_id=None) == view


async def test_not_found_comes_before_forbidden(store: MemoryStorage, clock: FakeClock) -> None:
    jane = await _register(store, "jane")
    uow = store.unit_of_work

    with pytest.raises(NotFound, check=lambda e: e.what == "article"):
        await articles.update(uow(), clock=clock, slug="nothing", viewer_id=jane.id, body="b")
    with pytest.raises(NotFound, check=lambda e: e.what == "article"):
        await articles.delete(uow(), clock=clock, slug="nothing", viewer_id=jane.id)


async def test_delete_article(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")
    view = await _write(store, clock, jake, tag_list=("gone",))
    await comments.add(
        store.unit_of_work(), clock=clock, slug=view.slug, viewer_id=jake.id, body="c"
    )

    await articles.delete(store.unit_of_work(), clock=clock, slug=view.slug, viewer_id=jake.id)

    with pytest.raises(NotFound):
        await articles.show(store.unit_of_work(), slug=view.slug, viewer_id=None)
    assert await tags.popular(store.unit_of_work()) == []


async def test_favorite_and_unfavorite(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")
    jane = await _register(store, "jane")
    view = await _write(store, clock, jake)
    uow = store.unit_of_work

    favorited = await articles.favorite(uow(), clock=clock, slug=view.slug, viewer_id=jane.id)
    again = await articles.favorite(uow(), clock=clock, slug=view.slug, viewer_id=jane.id)
    by_jake = await articles.favorite(uow(), clock=clock, slug=view.slug, viewer_id=jake.id)
    unfavorited = await articles.unfavorite(uow(), slug=view.slug, viewer_id=jane.id)
    once_more = await articles.unfavorite(uow(), slug=view.slug, viewer_id=jane.id)

    assert (favorited.favorited, favorited.favorites_count) == (True, 1)
    assert (again.favorited, again.favorites_count) == (True, 1)
    assert (by_jake.favorited, by_jake.favorites_count) == (True, 2)
    assert (unfavorited.favorited, unfavorited.favorites_count) == (False, 1)
    assert (once_more.favorited, once_more.favorites_count) == (False, 1)
    with pytest.raises(NotFound, check=lambda e: e.what == "article"):
        await articles.favorite(uow(), clock=clock, slug="nothing", viewer_id=jane.id)


async def test_find_validates_paging_and_lists(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")
    for title in ("one", "two", "three"):
        await _write(store, clock, jake, title=title, tag_list=(title,))
        clock.advance(seconds=1)
    uow = store.unit_of_work

    page = await articles.find(uow(), filters=ArticleFilter(), viewer_id=None, limit=2, offset=0)
    tagged = await articles.find(uow(), filters=ArticleFilter(tag="two"), viewer_id=None)

    assert ([a.slug for a in page.items], page.total) == (["three", "two"], 3)
    assert ([a.slug for a in tagged.items], tagged.total) == (["two"], 1)
    with pytest.raises(Invalid, check=lambda e: "limit" in e.problems):
        await articles.find(uow(), filters=ArticleFilter(), viewer_id=None, limit=101)
    with pytest.raises(Invalid, check=lambda e: "offset" in e.problems):
        await articles.find(uow(), filters=ArticleFilter(), viewer_id=None, offset=-1)


async def test_feed(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")
    jane = await _register(store, "jane")
    viewer = await _register(store, "viewer")
    uow = store.unit_of_work
    await profiles.follow(uow(), username="jake", viewer_id=viewer.id)
    first = await _write(store, clock, jake, title="first")
    clock.advance(seconds=1)
    await _write(store, clock, jane, title="not followed")
    await _write(store, clock, viewer, title="own")
    clock.advance(seconds=1)
    second = await _write(store, clock, jake, title="second")

    feed = await articles.feed(uow(), viewer_id=viewer.id)
    paged = await articles.feed(uow(), viewer_id=viewer.id, limit=1, offset=1)

    assert ([a.slug for a in feed.items], feed.total) == ([second.slug, first.slug], 2)
    assert all(a.author.following for a in feed.items)
    assert ([a.slug for a in paged.items], paged.total) == ([first.slug], 2)
    with pytest.raises(Invalid, check=lambda e: "limit" in e.problems):
        await articles.feed(uow(), viewer_id=viewer.id, limit=0)
    with pytest.raises(TokenInvalid):
        await articles.feed(uow(), viewer_id=404)


# Comments


async def test_add_and_list_comments(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")
    jane = await _register(store, "jane")
    view = await _write(store, clock, jake)
    uow = store.unit_of_work

    first = await comments.add(uow(), clock=clock, slug=view.slug, viewer_id=jane.id, body=" hi ")
    clock.advance(milliseconds=1)
    second = await comments.add(uow(), clock=clock, slug=view.slug, viewer_id=jake.id, body="yo")
    await profiles.follow(uow(), username="jane", viewer_id=jake.id)

    listed = await comments.list_for(uow(), slug=view.slug, viewer_id=jake.id)

    assert first.body == "hi"
    assert first.author == jane.as_profile(following=False)
    assert first.created_at == first.updated_at == view.created_at
    assert [c.id for c in listed] == [first.id, second.id]
    assert [c.author.following for c in listed] == [True, False]


async def test_comment_needs_a_body_and_an_article(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")
    view = await _write(store, clock, jake)
    uow = store.unit_of_work

    with pytest.raises(Invalid, check=lambda e: "body" in e.problems):
        await comments.add(uow(), clock=clock, slug=view.slug, viewer_id=jake.id, body="  ")
    with pytest.raises(NotFound, check=lambda e: e.what == "article"):
        await comments.add(uow(), clock=clock, slug="nothing", viewer_id=jake.id, body="b")
    with pytest.raises(NotFound, check=lambda e: e.what == "article"):
        await comments.list_for(uow(), slug="nothing", viewer_id=None)


async def test_delete_comment_rules(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")
    jane = await _register(store, "jane")
    view = await _write(store, clock, jake)
    other = await _write(store, clock, jake, title="other")
    uow = store.unit_of_work
    comment = await comments.add(uow(), clock=clock, slug=view.slug, viewer_id=jane.id, body="b")

    with pytest.raises(Forbidden, check=lambda e: e.what == "comment"):
        await comments.delete(
            uow(), clock=clock, slug=view.slug, comment_id=comment.id, viewer_id=jake.id
        )
    with pytest.raises(NotFound, check=lambda e: e.what == "comment"):
        await comments.delete(
            uow(), clock=clock, slug=other.slug, comment_id=comment.id, viewer_id=jane.id
        )
    with pytest.raises(NotFound, check=lambda e: e.what == "comment"):
        await comments.delete(
            uow(), clock=clock, slug=view.slug, comment_id=comment.id + 1, viewer_id=jane.id
        )
    with pytest.raises(NotFound, check=lambda e: e.what == "article"):
        await comments.delete(
            uow(), clock=clock, slug="nothing", comment_id=comment.id, viewer_id=jane.id
        )
    for impossible in (0, -1, 2**31, 2**63):
        with pytest.raises(NotFound, check=lambda e: e.what == "comment"):
            await comments.delete(
                uow(), clock=clock, slug=view.slug, comment_id=impossible, viewer_id=jane.id
            )
    assert [c.id for c in await comments.list_for(uow(), slug=view.slug, viewer_id=None)] == [
        comment.id
    ]

    await comments.delete(
        uow(), clock=clock, slug=view.slug, comment_id=comment.id, viewer_id=jane.id
    )

    assert await comments.list_for(uow(), slug=view.slug, viewer_id=None) == []


# Tags


async def test_popular_tags(store: MemoryStorage, clock: FakeClock) -> None:
    jake = await _register(store, "jake")
    await _write(store, clock, jake, tag_list=("b", "a"))
    await _write(store, clock, jake, tag_list=("b", "c"))

    assert await tags.popular(store.unit_of_work()) == ["b", "a", "c"]


# Viewers


async def test_a_token_for_a_vanished_user_is_invalid_even_where_auth_is_optional(
    store: MemoryStorage, clock: FakeClock
) -> None:
    jake = await _register(store, "jake")
    view = await _write(store, clock, jake)
    uow = store.unit_of_work

    for vanished in (jake.id + 1000, 0, 2**63):
        with pytest.raises(TokenInvalid):
            await articles.show(uow(), slug=view.slug, viewer_id=vanished)
        with pytest.raises(TokenInvalid):
            await articles.find(uow(), filters=ArticleFilter(), viewer_id=vanished)
        with pytest.raises(TokenInvalid):
            await comments.list_for(uow(), slug=view.slug, viewer_id=vanished)
        with pytest.raises(TokenInvalid):
            await profiles.show(uow(), username="jake", viewer_id=vanished)
        with pytest.raises(TokenInvalid):
            await users.current(uow(), user_id=vanished)


# Path and query values: checked by the services, so every presenter gets the same answer


@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b"], ids=["NUL", "lone-surrogate"])
async def test_a_path_or_filter_value_no_store_can_hold_is_invalid(
    store: MemoryStorage, clock: FakeClock, bad: str
) -> None:
    """Over HTTP a lone surrogate cannot arrive in a URL (it decodes to U+FFFD); another
    presenter (the CLI, a script) can pass one, and the services refuse it all the same."""
    jake = await _register(store, "jake")
    await _register(store, "jane")
    uow = store.unit_of_work
    by_slug = [
        articles.show(uow(), slug=bad, viewer_id=None),
        articles.update(uow(), clock=clock, slug=bad, viewer_id=jake.id, title="New"),
        articles.delete(uow(), clock=clock, slug=bad, viewer_id=jake.id),
        articles.favorite(uow(), clock=clock, slug=bad, viewer_id=jake.id),
        articles.unfavorite(uow(), slug=bad, viewer_id=jake.id),
        comments.list_for(uow(), slug=bad, viewer_id=None),
        comments.add(uow(), clock=clock, slug=bad, viewer_id=jake.id, body="hi"),
        comments.delete(uow(), clock=clock, slug=bad, comment_id=1, viewer_id=jake.id),
    ]
    by_username = [
        profiles.show(uow(), username=bad, viewer_id=None),
        profiles.follow(uow(), username=bad, viewer_id=jake.id),
        profiles.unfollow(uow(), username=bad, viewer_id=jake.id),
    ]
    by_filter = [
        (articles.find(uow(), filters=ArticleFilter(tag=bad), viewer_id=None), "tag"),
        (articles.find(uow(), filters=ArticleFilter(author=bad), viewer_id=None), "author"),
        (
            articles.find(uow(), filters=ArticleFilter(favorited_by=bad), viewer_id=None),
            "favorited",
        ),
    ]
    calls = [
        *[(call, "slug") for call in by_slug],
        *[(call, "username") for call in by_username],
        *by_filter,
    ]

    for call, parameter in calls:
        with pytest.raises(Invalid) as raised:
            await call
        assert raised.value.problems == {
            parameter: ("may not contain NUL or unpaired surrogate characters",)
        }
