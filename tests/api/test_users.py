"""POST /api/users, POST /api/users/login, GET /api/user, PUT /api/user."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.helpers import (
    BAD_CREDENTIALS,
    MISSING_TOKEN,
    PASSWORD,
    USER_KEYS,
    Account,
    assert_error,
    assert_invalid,
    assert_user,
    auth,
    blank,
    ok,
    taken,
)

NEW_USER = {"username": "Jacob", "email": "jake@jake.jake", "password": "jakejake"}


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/users/login", json={"user": {"email": email, "password": password}})


async def update(client: httpx.AsyncClient, account: Account, **fields: Any) -> httpx.Response:
    return await client.put("/user", json={"user": fields}, headers=account.headers)


# --- register -----------------------------------------------------------------------------


async def test_register_returns_the_new_user_with_201(client: httpx.AsyncClient) -> None:
    body = ok(await client.post("/users", json={"user": NEW_USER}), 201)

    assert set(body) == {"user"}
    assert_user(body["user"], username="Jacob", email="jake@jake.jake")
    assert body["user"]["bio"] is None
    assert body["user"]["image"] is None


async def test_register_token_works(client: httpx.AsyncClient) -> None:
    user = ok(await client.post("/users", json={"user": NEW_USER}), 201)["user"]

    me = ok(await client.get("/user", headers=auth(user["token"])))["user"]

    assert_user(me, username="Jacob", email="jake@jake.jake")


async def test_register_keeps_username_as_typed_and_lowercases_email(
    client: httpx.AsyncClient,
) -> None:
    fields = {"username": "JakeTheDog", "email": "Jake.Dog@Example.COM", "password": PASSWORD}
    user = ok(await client.post("/users", json={"user": fields}), 201)["user"]

    assert user["username"] == "JakeTheDog"
    assert user["email"] == "jake.dog@example.com"
    profile = ok(await client.get("/profiles/JakeTheDog"))["profile"]
    assert profile["username"] == "JakeTheDog"


@pytest.mark.parametrize("field", ["username", "email", "password"])
async def test_register_missing_field_is_blank(client: httpx.AsyncClient, field: str) -> None:
    fields = {k: v for k, v in NEW_USER.items() if k != field}

    response = await client.post("/users", json={"user": fields})

    assert_error(response, 422, blank(field))


@pytest.mark.parametrize("field", ["username", "email", "password"])
async def test_register_empty_field_is_blank(client: httpx.AsyncClient, field: str) -> None:
    response = await client.post("/users", json={"user": {**NEW_USER, field: ""}})

    assert_error(response, 422, blank(field))


@pytest.mark.parametrize("field", ["username", "email", "password"])
async def test_register_null_field_is_blank(client: httpx.AsyncClient, field: str) -> None:
    response = await client.post("/users", json={"user": {**NEW_USER, field: None}})

    assert_error(response, 422, blank(field))


@pytest.mark.parametrize("email", ["not-an-email", "jake@", "@example.com", "jake example.com"])
async def test_register_bad_email_is_422(client: httpx.AsyncClient, email: str) -> None:
    response = await client.post("/users", json={"user": {**NEW_USER, "email": email}})

    assert_invalid(response, "email")


@pytest.mark.parametrize("password", ["a", "1234567", "short!!"])
async def test_register_short_password_is_422(client: httpx.AsyncClient, password: str) -> None:
    response = await client.post("/users", json={"user": {**NEW_USER, "password": password}})

    assert_invalid(response, "password")


@pytest.mark.parametrize("password", ["12345678", "        ", "aaaaaaaa", "pässwörd"])
async def test_register_accepts_any_password_of_eight_characters(
    client: httpx.AsyncClient, password: str
) -> None:
    ok(await client.post("/users", json={"user": {**NEW_USER, "password": password}}), 201)

    ok(await login(client, NEW_USER["email"], password))


@pytest.mark.parametrize("username", ["jake", "JAKE", "Jake", "jAkE"])
async def test_register_taken_username_is_409_case_insensitively(
    client: httpx.AsyncClient, jake: Account, username: str
) -> None:
    fields = {"username": username, "email": "other@example.com", "password": PASSWORD}

    response = await client.post("/users", json={"user": fields})

    assert_error(response, 409, taken("username"))


@pytest.mark.parametrize("email", ["jake@example.com", "JAKE@EXAMPLE.COM", "Jake@Example.com"])
async def test_register_taken_email_is_409_case_insensitively(
    client: httpx.AsyncClient, jake: Account, email: str
) -> None:
    fields = {"username": "somebody", "email": email, "password": PASSWORD}

    response = await client.post("/users", json={"user": fields})

    assert_error(response, 409, taken("email"))


async def test_failed_register_creates_nothing(client: httpx.AsyncClient, jake: Account) -> None:
    fields = {"username": "newbie", "email": jake.email, "password": PASSWORD}
    assert_error(await client.post("/users", json={"user": fields}), 409, taken("email"))

    fields = {"username": "newbie", "email": "newbie@example.com", "password": PASSWORD}
    ok(await client.post("/users", json={"user": fields}), 201)


# --- login --------------------------------------------------------------------------------


async def test_login_returns_the_user_with_a_working_token(
    client: httpx.AsyncClient, jake: Account
) -> None:
    body = ok(await login(client, jake.email, jake.password))

    assert set(body) == {"user"}
    assert_user(body["user"], username="jake", email="jake@example.com")
    assert body["user"]["bio"] is None
    assert body["user"]["image"] is None
    me = ok(await client.get("/user", headers=auth(body["user"]["token"])))["user"]
    assert me["username"] == "jake"


async def test_login_email_is_case_insensitive(client: httpx.AsyncClient, jake: Account) -> None:
    user = ok(await login(client, "JAKE@Example.com", jake.password))["user"]

    assert user["email"] == "jake@example.com"


async def test_login_wrong_password_is_401(client: httpx.AsyncClient, jake: Account) -> None:
    assert_error(await login(client, jake.email, "wrong password"), 401, BAD_CREDENTIALS)


async def test_login_password_is_case_sensitive(client: httpx.AsyncClient, jake: Account) -> None:
    assert_error(await login(client, jake.email, PASSWORD.upper()), 401, BAD_CREDENTIALS)


async def test_login_unknown_email_is_401(client: httpx.AsyncClient, jake: Account) -> None:
    assert_error(await login(client, "nobody@example.com", PASSWORD), 401, BAD_CREDENTIALS)


@pytest.mark.parametrize("field", ["email", "password"])
async def test_login_missing_field_is_blank(
    client: httpx.AsyncClient, jake: Account, field: str
) -> None:
    fields = {"email": jake.email, "password": jake.password}
    del fields[field]

    response = await client.post("/users/login", json={"user": fields})

    assert_error(response, 422, blank(field))


@pytest.mark.parametrize("field", ["email", "password"])
async def test_login_empty_field_is_blank(
    client: httpx.AsyncClient, jake: Account, field: str
) -> None:
    fields = {"email": jake.email, "password": jake.password, field: ""}

    response = await client.post("/users/login", json={"user": fields})

    assert_error(response, 422, blank(field))


# --- current user -------------------------------------------------------------------------


async def test_current_user(client: httpx.AsyncClient, jake: Account) -> None:
    body = ok(await client.get("/user", headers=jake.headers))

    assert set(body) == {"user"}
    assert_user(body["user"], username="jake", email="jake@example.com")
    assert body["user"]["bio"] is None
    assert body["user"]["image"] is None
    ok(await client.get("/user", headers=auth(body["user"]["token"])))


async def test_current_user_requires_a_token(client: httpx.AsyncClient, jake: Account) -> None:
    assert_error(await client.get("/user"), 401, MISSING_TOKEN)


# --- update user --------------------------------------------------------------------------


async def test_update_bio_and_image(client: httpx.AsyncClient, jake: Account) -> None:
    user = ok(
        await update(client, jake, bio="I like to skateboard", image="https://i.pravatar.cc/300")
    )["user"]

    assert set(user) == USER_KEYS
    assert user["bio"] == "I like to skateboard"
    assert user["image"] == "https://i.pravatar.cc/300"
    assert user["username"] == "jake"
    assert user["email"] == "jake@example.com"
    me = ok(await client.get("/user", headers=jake.headers))["user"]
    assert me["bio"] == "I like to skateboard"
    assert me["image"] == "https://i.pravatar.cc/300"
    profile = ok(await client.get("/profiles/jake"))["profile"]
    assert profile["bio"] == "I like to skateboard"
    assert profile["image"] == "https://i.pravatar.cc/300"


@pytest.mark.parametrize("field", ["bio", "image"])
async def test_update_empty_string_stores_null(
    client: httpx.AsyncClient, jake: Account, field: str
) -> None:
    ok(await update(client, jake, **{field: "something"}))

    user = ok(await update(client, jake, **{field: ""}))["user"]

    assert user[field] is None
    assert ok(await client.get("/user", headers=jake.headers))["user"][field] is None
    assert ok(await client.get("/profiles/jake"))["profile"][field] is None


@pytest.mark.parametrize("field", ["bio", "image"])
async def test_update_null_clears(client: httpx.AsyncClient, jake: Account, field: str) -> None:
    ok(await update(client, jake, **{field: "something"}))

    user = ok(await update(client, jake, **{field: None}))["user"]

    assert user[field] is None
    assert ok(await client.get("/user", headers=jake.headers))["user"][field] is None


async def test_update_omitted_fields_are_kept(client: httpx.AsyncClient, jake: Account) -> None:
    ok(await update(client, jake, bio="bio", image="https://example.com/a.png"))

    user = ok(await update(client, jake, bio="new bio"))["user"]

    assert user["bio"] == "new bio"
    assert user["image"] == "https://example.com/a.png"
    assert user["username"] == "jake"


async def test_update_nothing_changes_nothing(client: httpx.AsyncClient, jake: Account) -> None:
    user = ok(await update(client, jake))["user"]

    assert_user(user, username="jake", email="jake@example.com")
    ok(await client.get("/user", headers=auth(user["token"])))


async def test_update_username_returns_a_token_that_works(
    client: httpx.AsyncClient, jake: Account
) -> None:
    user = ok(await update(client, jake, username="jacob"))["user"]

    assert user["username"] == "jacob"
    me = ok(await client.get("/user", headers=auth(user["token"])))["user"]
    assert me["username"] == "jacob"
    ok(await client.get("/profiles/jacob"))
    assert_error(await client.get("/profiles/jake"), 404, {"errors": {"profile": ["not found"]}})


async def test_update_email_returns_a_token_that_works(
    client: httpx.AsyncClient, jake: Account
) -> None:
    user = ok(await update(client, jake, email="Jacob@Example.com"))["user"]

    assert user["email"] == "jacob@example.com"
    me = ok(await client.get("/user", headers=auth(user["token"])))["user"]
    assert me["email"] == "jacob@example.com"
    ok(await login(client, "jacob@example.com", jake.password))
    assert_error(await login(client, jake.email, jake.password), 401, BAD_CREDENTIALS)


async def test_update_password(client: httpx.AsyncClient, jake: Account) -> None:
    user = ok(await update(client, jake, password="a new password"))["user"]

    ok(await client.get("/user", headers=auth(user["token"])))
    ok(await login(client, jake.email, "a new password"))
    assert_error(await login(client, jake.email, jake.password), 401, BAD_CREDENTIALS)


async def test_update_to_own_username_and_email_is_not_a_conflict(
    client: httpx.AsyncClient, jake: Account
) -> None:
    user = ok(await update(client, jake, username="jake", email="jake@example.com"))["user"]

    assert_user(user, username="jake", email="jake@example.com")


async def test_update_own_username_case_is_not_a_conflict(
    client: httpx.AsyncClient, jake: Account
) -> None:
    user = ok(await update(client, jake, username="Jake", email="JAKE@example.com"))["user"]

    assert_user(user, username="Jake", email="jake@example.com")


@pytest.mark.parametrize("username", ["jane", "JANE"])
async def test_update_to_a_taken_username_is_409(
    client: httpx.AsyncClient, jake: Account, jane: Account, username: str
) -> None:
    assert_error(await update(client, jake, username=username), 409, taken("username"))

    assert ok(await client.get("/user", headers=jake.headers))["user"]["username"] == "jake"


@pytest.mark.parametrize("email", ["jane@example.com", "Jane@EXAMPLE.com"])
async def test_update_to_a_taken_email_is_409(
    client: httpx.AsyncClient, jake: Account, jane: Account, email: str
) -> None:
    assert_error(await update(client, jake, email=email), 409, taken("email"))

    assert ok(await client.get("/user", headers=jake.headers))["user"]["email"] == jake.email


@pytest.mark.parametrize("field", ["username", "email"])
@pytest.mark.parametrize("value", ["", None])
async def test_update_identity_to_blank_is_422(
    client: httpx.AsyncClient, jake: Account, field: str, value: str | None
) -> None:
    assert_invalid(await update(client, jake, **{field: value}), field)

    me = ok(await client.get("/user", headers=jake.headers))["user"]
    assert_user(me, username="jake", email="jake@example.com")


@pytest.mark.parametrize("password", ["", None, "1234567", "short"])
async def test_update_bad_password_is_422(
    client: httpx.AsyncClient, jake: Account, password: str | None
) -> None:
    assert_invalid(await update(client, jake, password=password), "password")

    ok(await login(client, jake.email, jake.password))


async def test_update_bad_email_is_422(client: httpx.AsyncClient, jake: Account) -> None:
    assert_invalid(await update(client, jake, email="not-an-email"), "email")


async def test_update_accepts_any_password_of_eight_characters(
    client: httpx.AsyncClient, jake: Account
) -> None:
    ok(await update(client, jake, password="12345678"))

    ok(await login(client, jake.email, "12345678"))


async def test_update_requires_a_token(client: httpx.AsyncClient, jake: Account) -> None:
    response = await client.put("/user", json={"user": {"bio": "hacked"}})

    assert_error(response, 401, MISSING_TOKEN)
    assert ok(await client.get("/profiles/jake"))["profile"]["bio"] is None
