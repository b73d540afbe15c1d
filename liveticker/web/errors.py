"""One place that turns every error into a response: JSON for the API, HTML for pages.

Whatever goes wrong, a client gets `{"error": {"code", "message"}}` with a 4xx for its own
mistakes, and a plain 500 without a traceback for ours.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from liveticker.domain.inputs import describe_problems
from liveticker.exceptions import LivetickerError, RateLimited
from liveticker.web import i18n
from liveticker.web.deps import SignInRequired

log = logging.getLogger("liveticker")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if _wants_html(request):
        services = getattr(request.app.state, "services", None)
        if services is not None:
            context = {
                "status": status,
                "message": message,
                "site_name": services.settings.site_name,
            }
            # No blog is known here: the site's language, as on the index.
            with i18n.speaking(services.settings.default_language):
                response: Response = services.templates.TemplateResponse(
                    request, "error.html", context, status_code=status, headers=headers
                )
            return response
        return HTMLResponse(f"<h1>{status}</h1>", status_code=status, headers=headers)
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _wants_html(request: Request) -> bool:
    path = request.url.path
    return not path.startswith("/api/") and not path.endswith((".json", ".xml"))


def _describe_validation(
    exc: RequestValidationError | ValidationError,
) -> tuple[int, str, str, str | None]:
    errors = exc.errors()
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return 400, "invalid_json", "the request body is not valid JSON", None
    loc = [str(part) for part in first.get("loc", ())]
    if loc == ["body"] and str(first.get("type", "")).endswith("_type"):
        return 422, "validation_error", "the request body must be a JSON object", None
    field, text = describe_problems(errors, sourced=isinstance(exc, RequestValidationError))
    return 422, "validation_error", text, field


def install(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> Response:
        target = "/login?" + urlencode({"next": exc.next_path})
        return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})

    @app.exception_handler(LivetickerError)
    async def domain_error(request: Request, exc: LivetickerError) -> Response:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        if exc.status_code >= 500:
            log.error("internal error: %s", exc.message)
        return error_response(
            request, exc.status_code, exc.code, exc.message, field=exc.field, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        status, code, message, field = _describe_validation(exc)
        return error_response(request, status, code, message, field=field)

    @app.exception_handler(ValidationError)
    async def late_validation_error(request: Request, exc: ValidationError) -> Response:
        # A model built inside a route (from query text, a form) failed: the client's
        # input, not our fault, so the same 422 as a body FastAPI checked.
        status, code, message, field = _describe_validation(exc)
        return error_response(request, status, code, message, field=field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404 and message == "Not Found":
            message = "there is nothing at this address"
        return error_response(
            request, exc.status_code, code, message, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> Response:
        # Two writers raced for the same unique value (a slug, a pin): the loser retries.
        log.warning("integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
        return error_response(
            request, 409, "conflict", "this conflicts with a change made at the same moment"
        )

    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, exc: OperationalError) -> Response:
        log.error("database error on %s %s: %s", request.method, request.url.path, exc.orig)
        return error_response(
            request,
            503,
            "unavailable",
            "the database is busy or unreachable; try again shortly",
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "internal", "something went wrong on our side")
