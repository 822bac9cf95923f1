"""A database error names the statement, never the values bound to it: the text of an
error (what ends up in a log line) holds no password hash or other bound user data."""

from __future__ import annotations

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from broadsheet.storage.sql import SqlStorage, tables
from tests import databases

PASSWORD_HASH = "$argon2id$v=19$m=1024,t=1,p=1$c2VjcmV0c2FsdA$leaked-if-you-can-read-this"


async def test_a_failed_statement_does_not_show_its_parameters(sql_url: str) -> None:
    storage = SqlStorage(sql_url)
    await databases.empty(storage)
    row = {
        "username": "ada",
        "username_key": "ada",
        "email": "ada@example.com",
        "password_hash": PASSWORD_HASH,
    }
    try:
        async with storage.engine.begin() as connection:
            await connection.execute(insert(tables.user_account).values(row))
        with pytest.raises(DBAPIError) as failure:  # the same email again: a unique violation
            async with storage.engine.begin() as connection:
                await connection.execute(insert(tables.user_account).values(row))
    finally:
        await databases.empty(storage)
        await storage.close()

    text = str(failure.value)
    assert "INSERT INTO user_account" in text  # the statement is still named
    assert PASSWORD_HASH not in text
    # (MariaDB's own message quotes the duplicate value; the bound values are not shown.)
    assert "hidden" in text
