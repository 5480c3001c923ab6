"""Request bodies over a size limit are refused with 413 (RELIABILITY_SECURITY F3)."""

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem

TOO_LARGE = "request body too large"
# The rest of a refused body is not read: the connection cannot be reused after the answer.
CLOSE = {"Connection": "close"}


class BodyTooLargeError(HTTPException):
    """Raised while the body streams in; FastAPI passes HTTPExceptions from reading through."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


class BodyLimit:
    """413 for a declared Content-Length over the limit, before anything is read; a body
    without one (chunked) is counted as it streams and refused once it passes the limit.

    Whatever the app answers to a body it could not finish reading is replaced by the 413.
    `wider` maps a path prefix to its own, larger limit.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, wider: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self._wider = {prefix: max(n, max_bytes) for prefix, n in (wider or {}).items()}

    def _limit(self, path: str) -> int:
        return next((n for p, n in self._wider.items() if path.startswith(p)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        length = Headers(scope=scope).get("content-length")
        # A malformed length is the server's to refuse.
        if length is not None and length.isdigit() and int(length) > limit:
            await problem(413, TOO_LARGE, **CLOSE)(scope, receive, send)
            return
        received = 0
        exceeded = started = False

        async def counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLargeError
            return message

        async def answer(message: Message) -> None:
            nonlocal started
            if exceeded:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, answer)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await problem(413, TOO_LARGE, **CLOSE)(scope, receive, send)
