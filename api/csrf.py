"""Cross-site request refusal for every state-changing route (JSON only, same site only), and
CORS for the few paths another origin may call (the Temporal UI's codec endpoints)."""

from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class CrossSiteGuard:
    """403 for cross-site or foreign-origin writes; 415 for bodies that are not JSON.

    `trusted` maps a path prefix to the one other origin allowed to write there. Plain ASGI:
    reads (most requests) pass straight through.
    """

    def __init__(
        self, app: ASGIApp, *, allowed_origin: str, trusted: Mapping[str, str] | None = None
    ) -> None:
        self.app = app
        self._allowed = origin_of(allowed_origin)
        self._trusted = {prefix: origin_of(url) for prefix, url in (trusted or {}).items()}

    def _trusted_origin(self, path: str) -> str | None:
        return next((o for p, o in self._trusted.items() if path.startswith(p)), None)

    def _refusal(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        trusted = origin is not None and origin == self._trusted_origin(scope["path"])
        if headers.get("sec-fetch-site") == "cross-site" and not trusted:
            return problem(403, "cross-site request refused")
        if origin and origin != self._allowed and not trusted:
            return problem(403, "cross-site request refused")
        has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if has_body and ctype != "application/json":
            return problem(415, "send JSON (application/json)")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            refusal = self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


class ScopedCORS:
    """CORS with credentials for one origin on one path prefix; nothing for anyone else.

    A preflight from that origin is answered here; any other origin gets no CORS header at
    all, so a browser never lets it read a response.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str,
        origin: str,
        methods: tuple[str, ...] = ("POST",),
        headers: tuple[str, ...] = ("Content-Type", "Authorization", "X-Namespace"),
        max_age_s: int = 600,
    ) -> None:
        self.app = app
        self._prefix = prefix
        self._origin = origin_of(origin)
        self._methods = methods
        self._preflight = {
            "Access-Control-Allow-Origin": self._origin,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": ", ".join(methods),
            "Access-Control-Allow-Headers": ", ".join(headers),
            "Access-Control-Max-Age": str(max_age_s),
            "Vary": "Origin",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self._prefix):
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        allowed = request_headers.get("origin") == self._origin
        wanted = request_headers.get("access-control-request-method")
        if scope["method"] == "OPTIONS" and wanted is not None:
            ok = allowed and wanted.upper() in self._methods
            response = Response(
                status_code=204 if ok else 403, headers=self._preflight if ok else None
            )
            await response(scope, receive, send)
            return
        if not allowed:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Access-Control-Allow-Origin"] = self._origin
                headers["Access-Control-Allow-Credentials"] = "true"
                headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)
