"""Headers on every answer: no content sniffing, no framing by another site, no referrer past
this origin, and no storing of a person's API answers by a shared cache."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Framing only: the page's own policy is its <meta> (web/index.html).
    (b"content-security-policy", b"frame-ancestors 'none'"),
    # Not no-referrer: with it a browser sends `Origin: null` on the page's own POSTs, which
    # the cross-site guard refuses.
    (b"referrer-policy", b"same-origin"),
)
API_PREFIX = "/api/"
# Per person: a browser keeps it only to revalidate, a shared cache not at all.
API_CACHE_CONTROL = (b"cache-control", b"private, no-cache")


_API_HEADERS = (*SECURITY_HEADERS, API_CACHE_CONTROL)


def headers_for(path: str) -> tuple[tuple[bytes, bytes], ...]:
    """What every answer on `path` carries (api/fast_tip.py sends them itself)."""
    return _API_HEADERS if path.startswith(API_PREFIX) else SECURITY_HEADERS


class ResponseHeaders:
    """Adds `headers_for(path)` to every HTTP answer that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                present = {name.lower() for name, _ in raw}
                raw += [(name, value) for name, value in wanted if name not in present]
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_headers)
