"""Cross-site request refusal for every state-changing route (JSON only, same site only)."""

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response

from api.errors import problem

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class CrossSiteGuard(BaseHTTPMiddleware):
    """403 for cross-site or foreign-origin writes; 415 for bodies that are not JSON."""

    def __init__(self, app: Callable[..., Awaitable[None]], *, allowed_origin: str) -> None:
        super().__init__(app)
        self._allowed = _origin(allowed_origin)

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.method in UNSAFE_METHODS:
            if request.headers.get("sec-fetch-site") == "cross-site":
                return problem(403, "cross-site request refused")
            origin = request.headers.get("origin")
            if origin and origin != self._allowed:
                return problem(403, "cross-site request refused")
            has_body = request.headers.get("content-length", "0") != "0" or (
                "transfer-encoding" in request.headers
            )
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if has_body and ctype != "application/json":
                return problem(415, "send JSON (application/json)")
        return await call_next(request)
