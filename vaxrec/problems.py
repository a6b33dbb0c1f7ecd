"""RFC 9457 problem+json responses, and the middleware that makes every error one."""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import ValidationError

log = structlog.get_logger("vaxrec.http")

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return web.json_response(body, status=status, content_type=PROBLEM_JSON, headers=headers)


def invalid_fields(exc: ValidationError) -> web.Response:
    """422 naming each bad field. Messages only, never the submitted value (it may be a PIN)."""
    errors = [
        {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]
    return problem(422, "Invalid request", "One or more fields are invalid.", errors=errors)


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        return problem(exc.status, exc.reason, headers=headers)
    except Exception:
        # Logged with its traceback for operators; the client sees no stack trace.
        log.exception("http.unhandled_error", path=request.path)
        return problem(500, "Internal Server Error")
