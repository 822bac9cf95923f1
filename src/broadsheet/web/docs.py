"""``/docs`` (Swagger UI), served entirely from this origin.

The JavaScript and CSS come from the ``fastapi-offline`` package, so the page works without a
network and loads nothing from a CDN. It sends its own Content-Security-Policy: scripts, styles
and the schema from this origin only (Swagger UI sets inline styles and draws icons from
``data:`` URLs); it still may not be framed or submit anywhere else.

There is no ``/redoc``: ReDoc's bundle fetches its logo from Redocly's CDN, which this policy
blocks, and Swagger UI already shows the same schema.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/static"
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

_SWAGGER_UI = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API documentation</title>
<link rel="icon" href="{assets}/favicon.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""


def install(app: FastAPI, *, openapi_url: str) -> None:
    app.mount(
        ASSETS,
        StaticFiles(packages=[("broadsheet.web", "static"), ("fastapi_offline", "static")]),
        name="docs-assets",
    )

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        html = _SWAGGER_UI.format(title=app.title, assets=root + ASSETS, openapi=root + openapi_url)
        return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CONTENT_SECURITY_POLICY})
