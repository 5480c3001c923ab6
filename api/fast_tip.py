"""The page's most frequent request, answered in front of the framework.

`GET /api/tip` with a live session and a current tip is one statement (store/tip_reads.py)
and a stored body; routing, dependencies and the other middleware add more than that costs.
Every other case — no cookie, an expired session or one due for its idle touch, no current
tip, any error — goes on to the route, which answers it in full. No other request is touched.
"""

import logging
from datetime import UTC, datetime

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from api.headers import headers_for
from store.tip_reads import TipReader

log = logging.getLogger(__name__)
PATH = "/api/tip"
JSON = b"application/json"
# What the route's answer carries besides its length, as api.headers.ResponseHeaders adds it.
HEADERS = [(b"content-type", JSON), *headers_for(PATH)]


class TipFastPath:
    """Answers the plain case of GET /api/tip with the reader's body; passes on the rest."""

    def __init__(self, app: ASGIApp, *, cookie: str) -> None:
        self.app = app
        self._cookie = cookie

    def _sid(self, scope: Scope) -> str | None:
        # Every Cookie header, a later one winning, as Starlette's Request.cookies reads them.
        cookies: dict[str, str] = {}
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookies.update(cookie_parser(value.decode("latin-1")))
        return cookies.get(self._cookie)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        reader: TipReader | None = getattr(scope["app"].state.oo, "tip_reader", None)
        body = None
        if reader is not None and (sid := self._sid(scope)):
            try:
                body = await reader.answer(sid=sid, now=datetime.now(UTC))
            except Exception as exc:  # the general path answers, and says what is wrong
                log.warning("fast tip read failed: %s", type(exc).__name__)
        if body is None:
            await self.app(scope, receive, send)
            return
        headers = [(b"content-length", str(len(body)).encode()), *HEADERS]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
