"""The shared domain rules: normalisation, validation, slugs, tags, paging and time."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from broadsheet.domain import rules
from broadsheet.domain.errors import Invalid
from broadsheet.domain.models import ArticleFilter


def _invalid(field: str, reason: str | None = None) -> pytest.RaisesExc[Invalid]:
    """Expect ``Invalid`` on ``field`` (and with ``reason``, when given)."""
    return pytest.raises(
        Invalid, check=lambda e: field in e.problems and reason in (None, *e.problems[field])
    )


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


def test_username_key_is_compatibility_normalised() -> None:
    fullwidth = "\uff2a\uff41\uff4b\uff45"
    assert rules.username_key(fullwidth) == rules.username_key("JAKE") == "jake"
    assert rules.username_key("Jose\u0301") == rules.username_key("JOS\u00c9") == "jos\u00e9"
    assert rules.username_key("\ufb01sh") == "fish"  # the "fi" ligature


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("\uff41lice", "alice"), ("Jose\u0301", "Jos\u00e9"), ("\u2167", "VIII"), ("x\u00b2", "x2")],
)
def test_username_is_kept_in_nfkc_form(typed: str, kept: str) -> None:
    assert rules.username(typed) == kept


@pytest.mark.parametrize(
    "value",
    ["\u0430lice", "b\u03bfb", "\u0430\u03b1", "abc\u0967", "\u0561lice", "\u05d0b"],
    ids=[
        "latin-cyrillic",
        "latin-greek",
        "cyrillic-greek",
        "devanagari-digit",
        "armenian",
        "hebrew",
    ],
)
def test_username_may_not_mix_scripts(value: str) -> None:
    with _invalid("username", "may not mix scripts (such as Latin with Cyrillic or Greek)"):
        rules.username(value)


@pytest.mark.parametrize(
    "value",
    [
        "\u0430\u043b\u0438\u0441\u0430",
        "\u03b1\u03bb\u03af\u03ba\u03b7",
        "\u5c71\u7530\u305f\u308d\u3046",  # Han + Hiragana
        "\u30b8\u30e7\u30f3\u30fc",  # Katakana with the (Common) prolonged sound mark
        "\u7530\u4e2dtanaka",  # Han + Latin
        "\ud55c\uae00kim",  # Hangul + Latin
        "\u0627\u0644\u0639\u0631\u0628\u064a\u0629",  # Arabic
        "jake_99.x-y",
        "Jos\u00e9",
        "a\u0301\u0302b",  # combining marks (Inherited) go with their letter
    ],
)
def test_a_username_in_one_script_or_one_cjk_combination_is_fine(value: str) -> None:
    assert rules.username(value) == unicodedata.normalize("NFKC", value)


def test_hangul_and_hiragana_are_not_one_name() -> None:
    with _invalid("username", "may not mix scripts (such as Latin with Cyrillic or Greek)"):
        rules.username("\ud55c\u305f")


@pytest.mark.parametrize(
    "value",
    [
        "ali\u202ece",
        "al\u200dice",
        "al\u200cice",
        "\u2066alice",
        "ali\u0007",
        "ali\u009b",
        "ali\ue000",
        "ali\U000e0041",
        "ali\u0378",
    ],
    ids=["rlo", "zwj", "zwnj", "isolate", "bell", "c1", "private-use", "tag-char", "unassigned"],
)
def test_username_may_not_contain_invisible_characters(value: str) -> None:
    with _invalid(
        "username", "may not contain control, formatting, private-use or unassigned characters"
    ):
        rules.username(value)


def test_username_length_counts_the_case_folded_form() -> None:
    assert rules.username("\u00df" * 32) == "\u00df" * 32
    with _invalid("username", "is too long (maximum is 64 characters)"):
        rules.username("\u00df" * 33)  # "ss" * 33


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


def test_at_most_32_tags_counted_after_cleaning() -> None:
    names = [f"t{n:02d}" for n in range(32)]
    assert len(rules.tags([*names, *names, " t00 ", ""])) == 32
    with _invalid("tagList", "has too many tags (maximum is 32)"):
        rules.tags([*names, "one more"])


@pytest.mark.parametrize("tag", ["a\tb", "a\nb", "\x1b[0m", "a\x7f", "a\x85b"])
def test_a_tag_may_not_contain_control_characters(tag: str) -> None:
    with _invalid("tagList", "has a tag with control characters"):
        rules.tags(["fine", tag])


def test_a_tag_may_contain_format_characters_such_as_emoji_joiners() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert rules.tags([family]) == (family,)


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


# --- text every store keeps --------------------------------------------------------------


UNSTORABLE = [
    pytest.param("a\x00b", id="NUL"),
    pytest.param("a\ud800b", id="lone-high-surrogate"),
    pytest.param("\udfff", id="lone-low-surrogate"),
    pytest.param("\ud83d\ude00", id="surrogate-pair-as-two-code-points"),
]


@pytest.mark.parametrize("value", UNSTORABLE)
def test_storable_refuses_nul_and_surrogates(value: str) -> None:
    with _invalid("slug", rules.UNSTORABLE):
        rules.storable("slug", value)


def test_storable_keeps_any_other_text() -> None:
    text = "tab\t newline\n \U0001f600 \ufffd \uffff \u202e \x7f"
    assert rules.storable("body", text) == text


@pytest.mark.parametrize("value", UNSTORABLE)
@pytest.mark.parametrize(
    ("field", "rule"),
    [
        ("title", lambda v: rules.required_text("title", v)),
        ("body", rules.comment_body),
        ("bio", lambda v: rules.optional_text("bio", v)),
        ("password", lambda v: rules.present("password", v)),
        ("password", rules.password),
        ("username", rules.username),
        ("email", rules.email),
        ("email", rules.login_email),
        ("tagList", lambda v: rules.tags(["ok", v])),
    ],
)
def test_every_text_rule_refuses_unstorable_text(
    field: str, rule: Callable[[str], object], value: str
) -> None:
    with _invalid(field, rules.UNSTORABLE):
        rule(value + "-padding-to-eight")


def test_article_filter_names_each_bad_parameter() -> None:
    filters = ArticleFilter(tag="a\x00", author="ok", favorited_by="\ud800")

    with pytest.raises(Invalid) as raised:
        rules.article_filter(filters)

    assert raised.value.problems == {"tag": (rules.UNSTORABLE,), "favorited": (rules.UNSTORABLE,)}
    assert rules.article_filter(ArticleFilter(tag="ok")) == ArticleFilter(tag="ok")


# --- bounds -------------------------------------------------------------------------------


def test_email_and_password_bounds() -> None:
    address = "a" * 64 + "@" + "b" * 185 + ".com"
    assert len(address) == 254
    with _invalid("email", "is too long (maximum is 254 characters)"):
        rules.email("x" + address)
    with _invalid("email", "is too long (maximum is 254 characters)"):
        rules.login_email("x" + address)
    assert rules.login_email(" Jake@Example.com ") == "jake@example.com"
    assert rules.password("p" * 4096) == "p" * 4096
    with _invalid("password", "is too long (maximum is 4096 characters)"):
        rules.password("p" * 4097)
    with _invalid("password", "is too long (maximum is 4096 characters)"):
        rules.present("password", "p" * 4097)


def test_a_comment_has_its_own_limit() -> None:
    assert rules.comment_body("c" * 20_000) == "c" * 20_000
    with _invalid("body", "is too long (maximum is 20000 characters)"):
        rules.comment_body("c" * 20_001)


# --- every problem at once ----------------------------------------------------------------


def test_checks_raise_one_error_naming_every_bad_field() -> None:
    titles = []

    def validate() -> None:
        with rules.Checks() as check:
            check(rules.username, "")
            check(rules.email, "not-an-email")
            titles.append(check(rules.required_text, "title", " Fine "))
            check(rules.password, "short")

    with pytest.raises(Invalid) as raised:
        validate()

    assert titles == ["Fine"]

    assert raised.value.problems == {
        "username": (rules.BLANK,),
        "email": ("is invalid",),
        "password": ("is too short (minimum is 8 characters)",),
    }
    assert str(raised.value) == (
        "username can't be blank; email is invalid; password is too short (minimum is 8 characters)"
    )


def test_checks_keep_the_first_problem_of_a_field() -> None:
    def validate() -> None:
        with rules.Checks() as check:
            check(rules.storable, "slug", "\x00")
            check.refuse("slug", "is something else")

    with pytest.raises(Invalid) as raised:
        validate()

    assert raised.value.problems == {"slug": (rules.UNSTORABLE,)}


def test_checks_pass_quietly_when_all_is_well() -> None:
    with rules.Checks() as check:
        name = check(rules.username, "jake")

    assert name == "jake"


def test_checks_let_other_errors_through() -> None:
    def validate() -> None:
        with rules.Checks() as check:
            check(rules.username, "")
            check(lambda: 1 // 0)

    with pytest.raises(ZeroDivisionError):
        validate()


def test_a_single_field_error_is_as_easy_as_ever() -> None:
    error = Invalid("limit", "must be between 1 and 100")

    assert error.problems == {"limit": ("must be between 1 and 100",)}
    assert str(error) == "limit must be between 1 and 100"


def test_invalid_of_needs_a_reason_for_each_field() -> None:
    with pytest.raises(ValueError, match="at least one reason"):
        Invalid.of({})
    with pytest.raises(ValueError, match="at least one reason"):
        Invalid.of({"title": []})


def test_page_bounds_name_limit_and_offset_together() -> None:
    with pytest.raises(Invalid) as raised:
        rules.page_bounds(0, -1)

    assert set(raised.value.problems) == {"limit", "offset"}


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
