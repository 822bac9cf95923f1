"""The ``Users`` port: identity, case-insensitive (NFKC) usernames, uniqueness, profiles."""

from __future__ import annotations

from dataclasses import replace

import pytest

from broadsheet.domain.errors import AlreadyExists
from broadsheet.domain.models import NewUser, Profile, UserChanges
from broadsheet.domain.ports import Storage
from tests import factories


async def test_add_assigns_an_integer_id_and_stores_the_fields(storage: Storage) -> None:
    async with storage.unit_of_work() as uow:
        jake = await uow.users.add(
            NewUser(username="Jake", email="jake@jake.jake", password_hash="secret-hash")
        )
        await uow.commit()

    assert isinstance(jake.id, int)
    assert (jake.username, jake.email, jake.password_hash) == (
        "Jake",
        "jake@jake.jake",
        "secret-hash",
    )
    assert (jake.bio, jake.image) == (None, None)
    async with storage.unit_of_work() as uow:
        assert await uow.users.get(jake.id) == jake


async def test_ids_are_distinct(storage: Storage) -> None:
    first = await factories.user(storage)
    second = await factories.user(storage)

    assert first.id != second.id


async def test_get_unknown_user_is_none(storage: Storage) -> None:
    jake = await factories.user(storage)
    async with storage.unit_of_work() as uow:
        assert await uow.users.get(jake.id + 1000) is None
        assert await uow.users.get_by_email("nobody@example.com") is None
        assert await uow.users.get_by_username("nobody") is None


async def test_get_by_email(storage: Storage) -> None:
    jake = await factories.user(storage, username="jake", email="jake@jake.jake")
    await factories.user(storage, username="jane", email="jane@jake.jake")

    async with storage.unit_of_work() as uow:
        assert await uow.users.get_by_email("jake@jake.jake") == jake


async def test_username_lookup_is_case_insensitive_and_keeps_the_typed_name(
    storage: Storage,
) -> None:
    jake = await factories.user(storage, username="JaKe")

    async with storage.unit_of_work() as uow:
        for spelling in ("jake", "JAKE", "JaKe"):
            found = await uow.users.get_by_username(spelling)
            assert found == jake
            assert found is not None
            assert found.username == "JaKe"


async def test_username_lookup_uses_casefold(storage: Storage) -> None:
    street = await factories.user(storage, username="Straße")

    async with storage.unit_of_work() as uow:
        assert await uow.users.get_by_username("STRASSE") == street


async def test_username_lookup_is_compatibility_normalised(storage: Storage) -> None:
    """Fullwidth letters and a decomposed accent name the same user (``rules.username_key``)."""
    jake = await factories.user(storage, username="jake")
    jose = await factories.user(storage, username="Jos\u00e9")

    async with storage.unit_of_work() as uow:
        assert await uow.users.get_by_username("\uff2a\uff41\uff4b\uff45") == jake
        assert await uow.users.get_by_username("JOSE\u0301") == jose
        profile = await uow.users.profile("\uff4aake", viewer_id=None)
    assert profile is not None
    assert profile.username == "jake"


async def test_a_compatibility_spelling_of_a_taken_username_raises(storage: Storage) -> None:
    await factories.user(storage, username="jake")

    with pytest.raises(AlreadyExists) as raised:
        async with storage.unit_of_work() as uow:
            await uow.users.add(
                NewUser(username="\uff4aake", email="other@jake.jake", password_hash="h")
            )
    assert raised.value.field == "username"


async def test_username_lookup_is_not_a_prefix_match(storage: Storage) -> None:
    await factories.user(storage, username="jakeson")

    async with storage.unit_of_work() as uow:
        assert await uow.users.get_by_username("jake") is None


async def test_username_taken_in_another_case_raises(storage: Storage) -> None:
    await factories.user(storage, username="jake")

    with pytest.raises(AlreadyExists) as raised:
        async with storage.unit_of_work() as uow:
            await uow.users.add(
                NewUser(username="JAKE", email="other@jake.jake", password_hash="h")
            )
    assert raised.value.field == "username"


async def test_email_taken_raises(storage: Storage) -> None:
    await factories.user(storage, username="jake", email="jake@jake.jake")

    with pytest.raises(AlreadyExists) as raised:
        async with storage.unit_of_work() as uow:
            await uow.users.add(NewUser(username="jane", email="jake@jake.jake", password_hash="h"))
    assert raised.value.field == "email"


async def test_failed_add_stores_nothing(storage: Storage) -> None:
    await factories.user(storage, username="jake", email="jake@jake.jake")

    with pytest.raises(AlreadyExists):
        async with storage.unit_of_work() as uow:
            await uow.users.add(NewUser(username="jake", email="new@jake.jake", password_hash="h"))

    async with storage.unit_of_work() as uow:
        assert await uow.users.get_by_email("new@jake.jake") is None


async def test_update_overwrites_the_fields(storage: Storage) -> None:
    jake = await factories.user(storage, username="jake", bio="old bio", image="old.png")
    changed = replace(
        jake,
        username="Jacob",
        email="jacob@jake.jake",
        password_hash="new-hash",
        bio="I work at statefarm",
        image=None,
    )

    changes = UserChanges(
        username="Jacob",
        email="jacob@jake.jake",
        password_hash="new-hash",
        bio="I work at statefarm",
        image=None,
    )

    async with storage.unit_of_work() as uow:
        assert await uow.users.update(jake.id, changes) == changed
        await uow.commit()

    async with storage.unit_of_work() as uow:
        assert await uow.users.get(jake.id) == changed
        assert await uow.users.get_by_username("jacob") == changed
        assert await uow.users.get_by_username("jake") is None
        assert await uow.users.get_by_email("jacob@jake.jake") == changed


async def test_update_to_own_values_is_not_a_conflict(storage: Storage) -> None:
    jake = await factories.user(storage, username="jake", email="jake@jake.jake")

    async with storage.unit_of_work() as uow:
        same = await uow.users.update(jake.id, UserChanges(username="jake", bio="new bio"))
        recased = await uow.users.update(same.id, UserChanges(username="JAKE"))
        await uow.commit()

    assert recased.username == "JAKE"
    async with storage.unit_of_work() as uow:
        assert await uow.users.get(jake.id) == replace(jake, username="JAKE", bio="new bio")


async def test_update_to_a_taken_username_raises(storage: Storage) -> None:
    await factories.user(storage, username="jake")
    jane = await factories.user(storage, username="jane")

    with pytest.raises(AlreadyExists) as raised:
        async with storage.unit_of_work() as uow:
            await uow.users.update(jane.id, UserChanges(username="Jake"))
    assert raised.value.field == "username"
    async with storage.unit_of_work() as uow:
        assert await uow.users.get(jane.id) == jane


async def test_update_to_a_taken_email_raises(storage: Storage) -> None:
    await factories.user(storage, username="jake", email="jake@jake.jake")
    jane = await factories.user(storage, username="jane", email="jane@jake.jake")

    with pytest.raises(AlreadyExists) as raised:
        async with storage.unit_of_work() as uow:
            await uow.users.update(jane.id, UserChanges(email="jake@jake.jake"))
    assert raised.value.field == "email"


async def test_profile_of_an_unknown_user_is_none(storage: Storage) -> None:
    jake = await factories.user(storage)
    async with storage.unit_of_work() as uow:
        assert await uow.users.profile("nobody", viewer_id=jake.id) is None


async def test_profile_is_found_case_insensitively(storage: Storage) -> None:
    await factories.user(storage, username="Jake", bio="bio", image="jake.png")

    async with storage.unit_of_work() as uow:
        profile = await uow.users.profile("jAKE", viewer_id=None)

    assert profile == Profile(username="Jake", bio="bio", image="jake.png", following=False)


async def test_profile_following_is_relative_to_the_viewer(storage: Storage) -> None:
    jake = await factories.user(storage, username="jake")
    fan = await factories.user(storage, username="fan")
    stranger = await factories.user(storage, username="stranger")
    await factories.follow(storage, follower=fan, followee=jake)

    async with storage.unit_of_work() as uow:
        as_fan = await uow.users.profile("jake", viewer_id=fan.id)
        as_stranger = await uow.users.profile("jake", viewer_id=stranger.id)
        as_anonymous = await uow.users.profile("jake", viewer_id=None)
        as_self = await uow.users.profile("jake", viewer_id=jake.id)
        fan_as_jake = await uow.users.profile("fan", viewer_id=jake.id)

    assert as_fan is not None
    assert as_fan.following is True
    assert [p.following if p else None for p in (as_stranger, as_anonymous, as_self)] == [
        False,
        False,
        False,
    ]
    assert fan_as_jake is not None
    assert fan_as_jake.following is False


async def test_update_writes_only_the_changed_fields(storage: Storage) -> None:
    """The fields not named are left as stored (a change another unit of work made to one
    of them included), and the user comes back as stored after the write."""
    jake = await factories.user(storage, username="jake", bio="old bio", image="old.png")

    async with storage.unit_of_work() as uow:
        with_bio = await uow.users.update(jake.id, UserChanges(bio="new bio"))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        with_image = await uow.users.update(jake.id, UserChanges(image=None))
        await uow.commit()

    assert with_bio == replace(jake, bio="new bio")
    assert with_image == replace(jake, bio="new bio", image=None)
    async with storage.unit_of_work() as uow:
        assert await uow.users.get(jake.id) == with_image


async def test_profiles_by_id_are_those_that_exist_as_the_viewer_sees_them(
    storage: Storage,
) -> None:
    jake = await factories.user(storage, username="jake", bio="bio")
    fan = await factories.user(storage, username="fan")
    await factories.follow(storage, follower=fan, followee=jake)
    missing = fan.id + jake.id + 1000

    async with storage.unit_of_work() as uow:
        as_fan = await uow.users.profiles([jake.id, missing, fan.id], viewer_id=fan.id)
        as_anonymous = await uow.users.profiles([jake.id], viewer_id=None)
        none = await uow.users.profiles([], viewer_id=fan.id)

    assert as_fan == {
        jake.id: Profile(username="jake", bio="bio", image=None, following=True),
        fan.id: Profile(username="fan", bio=None, image=None, following=False),
    }
    assert as_anonymous == {
        jake.id: Profile(username="jake", bio="bio", image=None, following=False)
    }
    assert none == {}
