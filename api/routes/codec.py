"""The remote codec of the Temporal UI: encode and decode payloads for an admin only.

Wire format (Temporal's codec server protocol): `temporal.api.common.v1.Payloads` in the
protobuf JSON mapping, `{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}`.
CORS for the configured UI origin is set up in api/app.py (api.csrf.ScopedCORS).
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload, Payloads

from api.deps import Admin, StateDep
from api.errors import problem
from contracts.errors import UNKNOWN_KEY_ID
from core.crypto import DecryptionError, UnknownKeyError

router = APIRouter(prefix="/codec", tags=["codec"])
PREFIX = "/codec/"
MAX_PAYLOADS = 1000
# The Temporal UI sends a history page's payloads at once: more than a page's JSON body.
MAX_BODY_BYTES = 4 * 1024 * 1024
Codec = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]
# Protobuf JSON bytes: standard or URL-safe base64, padding optional.
Base64 = Annotated[str, Field(pattern=r"^[A-Za-z0-9+/_-]*={0,2}$")]


class CodecPayload(BaseModel):
    """One Payload: metadata values and data are base64, as protobuf JSON writes bytes."""

    metadata: dict[str, Base64] = Field(default_factory=dict)
    data: Base64 = ""


class CodecPayloads(BaseModel):
    payloads: list[CodecPayload] = Field(default_factory=list, max_length=MAX_PAYLOADS)


_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed payloads, or a key id this server does not hold"},
    401: {"description": "admin sign-in required"},
    503: {"description": "no payload keys configured"},
}


async def _run(body: CodecPayloads, codec: Codec | None) -> JSONResponse:
    if codec is None:
        return problem(503, "codec unavailable", "OO_PAYLOAD_KEYS is not configured")
    try:
        payloads = json_format.ParseDict(body.model_dump(), Payloads())
    except json_format.ParseError:
        return problem(400, "malformed payloads", "metadata values and data must be base64")
    try:
        out = await codec(list(payloads.payloads))
    except UnknownKeyError as exc:
        return problem(400, "unknown key id", str(exc), problem_type=UNKNOWN_KEY_ID)
    except (DecryptionError, UnicodeDecodeError):
        return problem(400, "payload cannot be decoded", "it failed authentication")
    return JSONResponse(json_format.MessageToDict(Payloads(payloads=out)) or {"payloads": []})


@router.post("/encode", response_model=CodecPayloads, responses=_RESPONSES)
async def encode(body: CodecPayloads, _: Admin, state: StateDep) -> JSONResponse:
    """Encrypt payloads with the current payload key."""
    return await _run(body, state.codec.encode if state.codec else None)


@router.post("/decode", response_model=CodecPayloads, responses=_RESPONSES)
async def decode(body: CodecPayloads, _: Admin, state: StateDep) -> JSONResponse:
    """Decrypt payloads (any key of the ring); payloads that are not encrypted pass through."""
    return await _run(body, state.codec.decode if state.codec else None)
