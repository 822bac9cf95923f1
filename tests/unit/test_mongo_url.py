"""Broadsheet's own MongoDB URL option is removed and every other option kept verbatim; the
server version Broadsheet needs."""

from __future__ import annotations

import pytest

from broadsheet.storage.mongo import _split_options, server_too_old


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


@pytest.mark.parametrize(
    ("version", "too_old"), [([4, 4, 29, 0], True), ([5, 0, 0, 0], False), ([8, 2, 11, 0], False)]
)
def test_servers_older_than_5_0_are_refused(version: list[int], too_old: bool) -> None:
    problem = server_too_old({"version": ".".join(map(str, version[:3])), "versionArray": version})

    assert (problem is not None) is too_old
    if problem is not None:
        assert "Broadsheet needs 5.0 or newer" in problem
