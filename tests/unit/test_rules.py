"""The shared domain rules: normalisation, validation, slugs, tags, paging and time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from broadsheet.domain import rules
from broadsheet.domain.errors import Invalid


def _invalid(field: str, reason: str | None = None) -> pytest.RaisesExc[Invalid]:
    """Expect ``Invalid`` on ``field`` (and with ``reason``, when given)."""
    return pytest.raises(Invalid, check=lambda e: e.field == field and reason in (None, e.reason))


@pytest.mark.parametrize("value", [None, "", "   ", "\t\n"])
def test_required_text_rejects_blank(value: str | None) -> None:
    with _invalid("title", rules.BLANK):
        rules.required_text("title", value)


def test_required_text_trims() -> None:
    assert rules.required_text("title", "  Dragons  ") == "Dragons"


@pytest.mark.parametrize("value", [None, ""])
def test_present_rejects_missing(value: str | None) -> None:
    with _invalid("password", rules.BLANK):
        rules.present("password", value)


def test_present_keeps_the_value_exactly() -> None:
    assert rules.present("password", "  spaced  ") == "  spaced  "


def test_username_is_trimmed_and_kept_as_typed() -> None:
    assert rules.username("  JaKe ") == "JaKe"


@pytest.mark.parametrize("value", [None, "", "  "])
def test_username_must_not_be_blank(value: str | None) -> None:
    with _invalid("username", rules.BLANK):
        rules.username(value)


@pytest.mark.parametrize("value", ["jake smith", "jake/smith", "jake\tsmith"])
def test_username_may_not_contain_spaces_or_slashes(value: str) -> None:
    with _invalid("username", "may not contain spaces or slashes"):
        rules.username(value)


def test_username_length_limit() -> None:
    assert rules.username("j" * 64) == "j" * 64
    with _invalid("username", "is too long (maximum is 64 characters)"):
        rules.username("j" * 65)


def test_username_key_is_case_insensitive() -> None:
    assert rules.username_key("Jake") == rules.username_key("jAKE") == "jake"
    assert rules.username_key("Straße") == rules.username_key("STRASSE")
    assert rules.username_key("jake") != rules.username_key("jakes")


def test_email_is_trimmed_and_lower_cased() -> None:
    assert rules.email("  Jake@Example.COM ") == "jake@example.com"


@pytest.mark.parametrize("value", ["jake", "jake@", "@example.com", "jake@@example.com"])
def test_email_must_be_valid(value: str) -> None:
    with _invalid("email", "is invalid"):
        rules.email(value)


@pytest.mark.parametrize("value", [None, "", " "])
def test_email_must_not_be_blank(value: str | None) -> None:
    with _invalid("email", rules.BLANK):
        rules.email(value)


def test_password_needs_eight_characters_and_nothing_else() -> None:
    assert rules.password("12345678") == "12345678"
    assert rules.password("        ") == "        "
    with _invalid("password", "is too short (minimum is 8 characters)"):
        rules.password("1234567")


@pytest.mark.parametrize("value", [None, ""])
def test_password_must_be_present(value: str | None) -> None:
    with _invalid("password", rules.BLANK):
        rules.password(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("   ", None), (" I like dragons ", "I like dragons")],
)
def test_optional_text_turns_blank_into_none(value: str | None, expected: str | None) -> None:
    assert rules.optional_text("bio", value) == expected


@pytest.mark.parametrize(("field", "limit"), sorted(rules.MAX_LENGTH.items()))
def test_text_fields_have_a_length_limit_every_store_can_keep(field: str, limit: int) -> None:
    assert rules.required_text(field, "x" * limit) == "x" * limit
    with _invalid(field, f"is too long (maximum is {limit} characters)"):
        rules.required_text(field, "x" * (limit + 1))


def test_optional_text_has_the_same_limits() -> None:
    with _invalid("bio", "is too long (maximum is 5000 characters)"):
        rules.optional_text("bio", "x" * 5001)


def test_tags_are_trimmed_deduplicated_sorted_and_empty_ones_dropped() -> None:
    assert rules.tags([" dragons", "training ", "", "  ", "dragons", "angular"]) == (
        "angular",
        "dragons",
        "training",
    )


def test_tags_keep_case() -> None:
    assert rules.tags(["Dragons", "dragons"]) == ("Dragons", "dragons")


def test_no_tags() -> None:
    assert rules.tags([]) == ()


def test_tag_length_limit() -> None:
    assert rules.tags(["t" * 64]) == ("t" * 64,)
    with _invalid("tagList", "has a tag longer than 64 characters"):
        rules.tags(["ok", "t" * 65])


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("How to train your dragon", "how-to-train-your-dragon"),
        ("  How   to  TRAIN, your dragon?! ", "how-to-train-your-dragon"),
        ("Crème brûlée", "creme-brulee"),
        ("!!!", "article"),
    ],
)
def test_slug_for(title: str, slug: str) -> None:
    assert rules.slug_for(title) == slug


def test_slug_for_a_long_title_stops_at_a_word_and_leaves_room_for_a_suffix() -> None:
    slug = rules.slug_for("dragon " * 100)

    assert len(slug) <= rules.MAX_SLUG_LENGTH - rules.SLUG_SUFFIX_LENGTH - 1
    assert slug.startswith("dragon-")
    assert set(slug.split("-")) == {"dragon"}


def test_slug_candidates_start_plain_then_add_a_short_suffix() -> None:
    candidates = list(rules.slug_candidates("How to train your dragon"))

    assert candidates[0] == "how-to-train-your-dragon"
    assert len(candidates) == 9
    suffixed = candidates[1:]
    assert all(re.fullmatch(r"how-to-train-your-dragon-[0-9a-f]{6}", c) for c in suffixed)
    assert len(set(suffixed)) > 1
    assert all(len(c) <= rules.MAX_SLUG_LENGTH for c in candidates)


def test_slug_candidates_fit_the_maximum_length_for_a_long_title() -> None:
    assert all(len(c) <= rules.MAX_SLUG_LENGTH for c in rules.slug_candidates("word " * 200))


@pytest.mark.parametrize("title", ["Feed", "feed", " FEED! "])
def test_slug_candidates_never_offer_a_reserved_slug(title: str) -> None:
    candidates = list(rules.slug_candidates(title))

    assert "feed" not in candidates
    assert all(re.fullmatch(r"feed-[0-9a-f]{6}", c) for c in candidates)


def test_page_bounds_defaults() -> None:
    assert rules.page_bounds(None, None) == (rules.DEFAULT_PAGE_SIZE, 0) == (20, 0)


@pytest.mark.parametrize(("limit", "offset"), [(1, 0), (100, 0), (5, 1000)])
def test_page_bounds_accept_the_range(limit: int, offset: int) -> None:
    assert rules.page_bounds(limit, offset) == (limit, offset)


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_page_bounds_reject_limit_out_of_range(limit: int) -> None:
    with _invalid("limit", "must be between 1 and 100"):
        rules.page_bounds(limit, 0)


def test_page_bounds_reject_negative_offset() -> None:
    with _invalid("offset", "must be 0 or more"):
        rules.page_bounds(None, -1)


def test_page_bounds_clamp_a_huge_offset_to_the_id_range() -> None:
    assert rules.page_bounds(10, 2**63) == (10, rules.MAX_ID)


@pytest.mark.parametrize(
    ("value", "storable"), [(1, True), (2**31 - 1, True), (0, False), (-1, False), (2**31, False)]
)
def test_is_storable_id(value: int, storable: bool) -> None:
    assert rules.is_storable_id(value) is storable


def test_timestamp_truncates_to_milliseconds() -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, 123999, tzinfo=UTC)

    assert rules.timestamp(moment) == datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)


def test_timestamp_converts_to_utc() -> None:
    moment = datetime(2024, 5, 6, 1, 0, 0, 500, tzinfo=timezone(timedelta(hours=-5)))

    stamped = rules.timestamp(moment)

    assert stamped == datetime(2024, 5, 6, 6, 0, 0, tzinfo=UTC)
    assert stamped.tzinfo is UTC


def test_timestamp_is_idempotent() -> None:
    stamped = rules.timestamp(datetime(2024, 5, 6, 7, 8, 9, 987654, tzinfo=UTC))

    assert rules.timestamp(stamped) == stamped
    assert stamped.microsecond == 987000
