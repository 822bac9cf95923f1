"""The data both query-budget suites measure against, written through the API."""

from __future__ import annotations

import httpx

AUTHORS = ("ann", "bob", "cy")


async def _user(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    body = {"user": {"username": name, "email": f"{name}@example.com", "password": "password1"}}
    response = await client.post("/users", json=body)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Token {response.json()['user']['token']}"}


async def seed(client: httpx.AsyncClient) -> dict[str, str]:
    """Three authors; a reader who follows two of them and favorited half of 30 tagged
    articles; three comments on the newest article. Returns the reader's auth headers."""
    authors = {name: await _user(client, name) for name in AUTHORS}
    reader = await _user(client, "reader")
    for name in ("ann", "bob"):
        assert (await client.post(f"/profiles/{name}/follow", headers=reader)).status_code == 200
    slug = ""
    for number in range(30):
        article = {
            "title": f"Article {number}",
            "description": "d",
            "body": "b",
            "tagList": ["common", f"tag{number % 4}", f"own{number}"],
        }
        author = authors[AUTHORS[number % 3]]
        response = await client.post("/articles", json={"article": article}, headers=author)
        assert response.status_code == 201
        slug = response.json()["article"]["slug"]
        if number % 2:
            favorite = await client.post(f"/articles/{slug}/favorite", headers=reader)
            assert favorite.status_code == 200
    for commenter in ("ann", "bob", "reader"):
        headers = reader if commenter == "reader" else authors[commenter]
        comment = {"comment": {"body": f"from {commenter}"}}
        response = await client.post(f"/articles/{slug}/comments", json=comment, headers=headers)
        assert response.status_code == 201, response.text
    return reader
