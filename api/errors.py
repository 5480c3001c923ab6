"""Errors to HTTP in one place: problem+json bodies that never echo the request."""

import html
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError

from api.state import TemporalUnavailableError
from contracts.problems import Problem

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_S = 5


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    problem_type: str = "about:blank",
    **headers: str,
) -> JSONResponse:
    body = Problem(type=problem_type, title=title, status=status, detail=detail)
    content = body.model_dump(exclude_none=True)
    return JSONResponse(content, status_code=status, media_type=PROBLEM_JSON, headers=headers)


class FlowError(Exception):
    """A browser flow (sign-in, connecting a provider) stopped with a message for the person.

    Answered as a small HTML page to a browser and as problem+json to anything else.
    """

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.detail = detail


def _page(status: int, title: str, detail: str) -> HTMLResponse:
    page = (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>oO · {html.escape(title)}</title>"
        '<body style="background:#000;color:#ddd;font:18px/1.5 system-ui;margin:20vh 10vw">'
        f'<h1 style="font-weight:400">{html.escape(title)}</h1><p>{html.escape(detail)}</p>'
        '<p><a href="/" style="color:#fff">Back to oO</a></p></body></html>'
    )
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


async def _flow_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FlowError)
    if "text/html" in request.headers.get("accept", ""):
        return _page(exc.status, exc.title, exc.detail)
    return problem(exc.status, exc.title, exc.detail)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail), **(exc.headers or {}))


def _declared_names(app: Any) -> frozenset[str]:
    """Every field and parameter name the API declares (from its OpenAPI document)."""
    names: frozenset[str] | None = getattr(app.state, "declared_names", None)
    if names is None:
        doc = app.openapi()
        found = {"body", "query", "path", "header", "cookie"}
        for schema in doc.get("components", {}).get("schemas", {}).values():
            found.update(schema.get("properties", {}))
        for operations in doc.get("paths", {}).values():
            for operation in operations.values():
                found.update(p["name"] for p in operation.get("parameters", []))
        names = app.state.declared_names = frozenset(found)
    return names


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Field locations and messages only: the offending input is never sent back, not even a
    # key of a body that is a free mapping (a location part the API does not declare).
    declared = _declared_names(request.app)

    def part(p: object) -> str:
        return str(p) if isinstance(p, int) or p in declared else "*"

    where = "; ".join(
        f"{'.'.join(part(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
        for err in exc.errors()
    )
    return problem(422, "invalid request", where)


async def _temporal_down(_: Request, exc: Exception) -> JSONResponse:
    return problem(
        503,
        "temporarily unavailable",
        "the workflow engine is unreachable; try again shortly",
        **{"Retry-After": str(RETRY_AFTER_S)},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(TemporalUnavailableError, _temporal_down)
    # Temporal lost after the client connected: any route's RPC call raises this.
    app.add_exception_handler(RPCError, _temporal_down)
    app.add_exception_handler(FlowError, _flow_error)
