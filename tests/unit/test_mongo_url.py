"""Broadsheet's own MongoDB URL option is removed and every other option kept verbatim."""

from __future__ import annotations

import pytest

from broadsheet.storage.mongo import _split_options


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mongodb://h/db", ("mongodb://h/db", False)),
        ("mongodb://h/db?broadsheet_transactions=off", ("mongodb://h/db", True)),
        ("mongodb://h/db?broadsheet_transactions=auto", ("mongodb://h/db", False)),
        (
            "mongodb://h/db?readPreferenceTags=dc:ny,rack:1&broadsheet_transactions=off&w=1",
            ("mongodb://h/db?readPreferenceTags=dc:ny,rack:1&w=1", True),
        ),
    ],
)
def test_the_transactions_option(url: str, expected: tuple[str, bool]) -> None:
    assert _split_options(url) == expected


def test_an_unknown_value_is_refused() -> None:
    with pytest.raises(ValueError, match="auto or off"):
        _split_options("mongodb://h/db?broadsheet_transactions=maybe")
