"""GET, POST and DELETE /api/articles/:slug/comments."""

from __future__ import annotations

import httpx
import pytest

from tests.api.helpers import (
    MISSING_TOKEN,
    Account,
    add_comment,
    assert_comment,
    assert_error,
    assert_invalid,
    assert_no_content,
    blank,
    create_article,
    follow,
    forbidden,
    not_found,
    ok,
)


async def test_add_comment_returns_it_with_201(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    article = await create_article(client, jake)

    response = await client.post(
        f"/articles/{article['slug']}/comments",
        json={"comment": {"body": "Thank you so much!"}},
        headers=jane.headers,
    )

    body = ok(response, 201)
    assert set(body) == {"comment"}
    comment = body["comment"]
    assert_comment(comment)
    assert comment["body"] == "Thank you so much!"
    assert comment["author"] == {"username": "jane", "bio": None, "image": None, "following": False}


async def test_list_comments(client: httpx.AsyncClient, jake: Account, jane: Account) -> None:
    article = await create_article(client, jake)
    first = await add_comment(client, jane, article["slug"], "First")
    second = await add_comment(client, jake, article["slug"], "Second")

    body = ok(await client.get(f"/articles/{article['slug']}/comments"))

    assert set(body) == {"comments"}
    comments = body["comments"]
    assert len(comments) == 2
    for comment in comments:
        assert_comment(comment)
    assert sorted(comments, key=lambda c: c["id"]) == sorted([first, second], key=lambda c: c["id"])


async def test_list_comments_of_an_article_without_any(
    client: httpx.AsyncClient, jake: Account
) -> None:
    article = await create_article(client, jake)

    assert ok(await client.get(f"/articles/{article['slug']}/comments")) == {"comments": []}


async def test_comments_belong_to_their_article(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    one = await create_article(client, jake, "One")
    two = await create_article(client, jake, "Two")
    await add_comment(client, jane, one["slug"], "On one")

    assert ok(await client.get(f"/articles/{two['slug']}/comments")) == {"comments": []}
    listed = ok(await client.get(f"/articles/{one['slug']}/comments"))["comments"]
    assert [c["body"] for c in listed] == ["On one"]


async def test_comment_ids_are_distinct_integers(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    article = await create_article(client, jake)

    ids = [(await add_comment(client, jane, article["slug"], f"c{n}"))["id"] for n in range(3)]

    assert all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    assert len(set(ids)) == 3


async def test_list_comments_is_relative_to_the_viewer(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    article = await create_article(client, jake)
    await add_comment(client, jake, article["slug"])
    await follow(client, jane, "jake")

    mine = ok(await client.get(f"/articles/{article['slug']}/comments", headers=jane.headers))
    anonymous = ok(await client.get(f"/articles/{article['slug']}/comments"))

    assert mine["comments"][0]["author"]["following"] is True
    assert anonymous["comments"][0]["author"]["following"] is False


async def test_comment_body_keeps_inner_newlines(client: httpx.AsyncClient, jake: Account) -> None:
    article = await create_article(client, jake)

    comment = await add_comment(client, jake, article["slug"], "Multi\nline body")

    assert comment["body"] == "Multi\nline body"


@pytest.mark.parametrize("fields", [{}, {"body": ""}, {"body": "   "}, {"body": None}])
async def test_add_blank_comment_is_422(
    client: httpx.AsyncClient, jake: Account, fields: dict[str, str | None]
) -> None:
    article = await create_article(client, jake)

    response = await client.post(
        f"/articles/{article['slug']}/comments", json={"comment": fields}, headers=jake.headers
    )

    assert_error(response, 422, blank("body"))
    assert ok(await client.get(f"/articles/{article['slug']}/comments")) == {"comments": []}


async def test_add_comment_missing_wrapper_is_422(client: httpx.AsyncClient, jake: Account) -> None:
    article = await create_article(client, jake)

    response = await client.post(
        f"/articles/{article['slug']}/comments", json={"body": "no wrapper"}, headers=jake.headers
    )

    assert_invalid(response)


async def test_add_comment_to_unknown_article_is_404(
    client: httpx.AsyncClient, jake: Account
) -> None:
    response = await client.post(
        "/articles/no-such-article/comments", json={"comment": {"body": "x"}}, headers=jake.headers
    )

    assert_error(response, 404, not_found("article"))


async def test_add_comment_requires_a_token(client: httpx.AsyncClient, jake: Account) -> None:
    article = await create_article(client, jake)

    response = await client.post(
        f"/articles/{article['slug']}/comments", json={"comment": {"body": "x"}}
    )

    assert_error(response, 401, MISSING_TOKEN)


async def test_list_comments_of_unknown_article_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/articles/no-such-article/comments")

    assert_error(response, 404, not_found("article"))


async def test_delete_comment(client: httpx.AsyncClient, jake: Account, jane: Account) -> None:
    article = await create_article(client, jake)
    kept = await add_comment(client, jane, article["slug"], "kept")
    gone = await add_comment(client, jane, article["slug"], "gone")

    response = await client.delete(
        f"/articles/{article['slug']}/comments/{gone['id']}", headers=jane.headers
    )

    assert_no_content(response)
    assert ok(await client.get(f"/articles/{article['slug']}/comments")) == {"comments": [kept]}


async def test_delete_someone_elses_comment_is_403(
    client: httpx.AsyncClient, jake: Account, jane: Account
) -> None:
    article = await create_article(client, jake)
    comment = await add_comment(client, jane, article["slug"])

    response = await client.delete(
        f"/articles/{article['slug']}/comments/{comment['id']}", headers=jake.headers
    )

    assert_error(response, 403, forbidden("comment"))
    assert ok(await client.get(f"/articles/{article['slug']}/comments")) == {"comments": [comment]}


async def test_delete_unknown_comment_is_404(client: httpx.AsyncClient, jake: Account) -> None:
    article = await create_article(client, jake)

    response = await client.delete(
        f"/articles/{article['slug']}/comments/999999", headers=jake.headers
    )

    assert_error(response, 404, not_found("comment"))


async def test_delete_comment_twice_is_404(client: httpx.AsyncClient, jake: Account) -> None:
    article = await create_article(client, jake)
    comment = await add_comment(client, jake, article["slug"])
    url = f"/articles/{article['slug']}/comments/{comment['id']}"
    assert_no_content(await client.delete(url, headers=jake.headers))

    assert_error(await client.delete(url, headers=jake.headers), 404, not_found("comment"))


async def test_delete_comment_through_another_article_is_404(
    client: httpx.AsyncClient, jake: Account
) -> None:
    one = await create_article(client, jake, "One")
    two = await create_article(client, jake, "Two")
    comment = await add_comment(client, jake, one["slug"])

    response = await client.delete(
        f"/articles/{two['slug']}/comments/{comment['id']}", headers=jake.headers
    )

    assert_error(response, 404, not_found("comment"))
    assert len(ok(await client.get(f"/articles/{one['slug']}/comments"))["comments"]) == 1


async def test_delete_comment_of_unknown_article_is_404(
    client: httpx.AsyncClient, jake: Account
) -> None:
    response = await client.delete("/articles/no-such-article/comments/1", headers=jake.headers)

    assert_error(response, 404, not_found("article"))


async def test_delete_comment_requires_a_token(client: httpx.AsyncClient, jake: Account) -> None:
    article = await create_article(client, jake)
    comment = await add_comment(client, jake, article["slug"])

    response = await client.delete(f"/articles/{article['slug']}/comments/{comment['id']}")

    assert_error(response, 401, MISSING_TOKEN)
    assert len(ok(await client.get(f"/articles/{article['slug']}/comments"))["comments"]) == 1


async def test_delete_comment_of_unknown_article_without_token_is_401(
    client: httpx.AsyncClient,
) -> None:
    response = await client.delete("/articles/no-such-article/comments/1")

    assert_error(response, 401, MISSING_TOKEN)
