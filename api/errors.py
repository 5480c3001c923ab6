"""Errors to HTTP in one place: problem+json bodies that never echo the request."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.state import TemporalUnavailableError
from contracts.problems import Problem

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_S = 5


def problem(status: int, title: str, detail: str | None = None, **headers: str) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail), **(exc.headers or {}))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Field locations and messages only: the offending input is never sent back.
    where = "; ".join(
        f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
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
