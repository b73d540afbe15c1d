"""/api/v1/docs: Swagger UI served from our own host, so the docs work with no internet.

Swagger UI's files come from the `fastapi-offline` package (kept current with Swagger UI
releases) rather than a CDN; the page starts it from a static script, not an inline one,
so it runs under a Content-Security-Policy that allows no inline scripts.
"""

from __future__ import annotations

from importlib import metadata, resources
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from liveticker.exceptions import NotFound
from liveticker.web import assets
from liveticker.web.services import services_of

router = APIRouter(prefix="/api/v1/docs", include_in_schema=False)

SWAGGER_FILES = Path(str(resources.files("fastapi_offline") / "static"))
# Only what the page loads; the package's other files (ReDoc, FastAPI's icon) stay unserved.
ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}
# Asset URLs carry the package's version, so a year of caching never serves an old copy.
SWAGGER_VERSION = metadata.version("fastapi-offline")
ASSET_CACHE = "public, max-age=31536000, immutable"


@router.api_route("", methods=["GET", "HEAD"])
def api_docs(request: Request) -> Response:
    """The interactive docs of the OpenAPI document (Swagger UI)."""
    root = request.scope.get("root_path", "")
    services = services_of(request)
    context = {
        "title": f"{request.app.title} API",
        "openapi_url": f"{root}{request.app.openapi_url}",
        "css_url": f"{root}{router.prefix}/assets/swagger-ui.css?v={SWAGGER_VERSION}",
        "bundle_url": f"{root}{router.prefix}/assets/swagger-ui-bundle.js?v={SWAGGER_VERSION}",
        "init_url": f"{root}/static/{assets.MANIFEST.path('api-docs.js')}",
        "favicon_url": f"{root}/favicon.ico",
    }
    response: Response = services.templates.TemplateResponse(request, "api_docs.html", context)
    return response


@router.api_route("/assets/{name}", methods=["GET", "HEAD"])
def api_docs_asset(name: str) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound("no such file of the API docs")
    return FileResponse(
        SWAGGER_FILES / name,
        media_type=media_type,
        headers={"Cache-Control": ASSET_CACHE, "X-Content-Type-Options": "nosniff"},
    )
