"""The Temporal UI's remote codec (RELIABILITY D3): admin only, CORS for the UI origin only,
a clear error for a key id this server does not hold."""

import base64
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from google.protobuf import json_format
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload, Payloads

from core.crypto import ENCODING, KEY_ID_METADATA, EncryptionCodec, KeyRing, new_key_spec
from core.settings import Settings
from tests.api.conftest import ADMIN_TOKEN, UI_ORIGIN, Login, serve
from tests.factories import persona_user

ADMIN = {"authorization": f"Bearer {ADMIN_TOKEN}"}
FROM_UI = {**ADMIN, "origin": UI_ORIGIN, "x-namespace": "default"}


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def plain(data: bytes = b'{"canary": "codec-canary"}') -> dict[str, Any]:
    return {"metadata": {"encoding": b64(b"json/plain")}, "data": b64(data)}


@pytest.fixture
def codec_settings(offline_settings: Settings) -> Settings:
    return offline_settings.model_copy(
        update={"admin_token": SecretStr(ADMIN_TOKEN), "temporal_ui_url": UI_ORIGIN}
    )


async def test_encode_then_decode_gives_the_payload_back(
    make_app: Callable[..., FastAPI], codec_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(codec_settings)) as client:
        encoded = await client.post("/codec/encode", json={"payloads": [plain()]}, headers=ADMIN)
        assert encoded.status_code == 200, encoded.text
        (sealed,) = encoded.json()["payloads"]
        decoded = await client.post("/codec/decode", json=encoded.json(), headers=ADMIN)
    assert base64.b64decode(sealed["metadata"]["encoding"]) == ENCODING
    assert base64.b64decode(sealed["metadata"][KEY_ID_METADATA]) == b"test-k1"
    assert b"codec-canary" not in base64.b64decode(sealed["data"])
    assert decoded.json() == {"payloads": [plain()]}


async def test_decode_reads_what_the_workers_codec_wrote(
    make_app: Callable[..., FastAPI], codec_settings: Settings, sessions: Any, payload_keys: str
) -> None:
    """The same bytes the Temporal UI fetches from history, in the protobuf JSON mapping."""
    original = Payload(metadata={"encoding": b"json/plain"}, data=b'"history-canary"')
    sealed = await EncryptionCodec(KeyRing.parse(payload_keys)).encode([original])
    body = json_format.MessageToDict(Payloads(payloads=sealed))
    async with serve(make_app(codec_settings)) as client:
        res = await client.post("/codec/decode", json=body, headers=FROM_UI)
    assert res.status_code == 200, res.text
    assert json_format.ParseDict(res.json(), Payloads()).payloads[0] == original


async def test_a_payload_that_is_not_encrypted_passes_through_decode(
    make_app: Callable[..., FastAPI], codec_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(codec_settings)) as client:
        res = await client.post("/codec/decode", json={"payloads": [plain()]}, headers=ADMIN)
    assert res.json() == {"payloads": [plain()]}


# --- authentication ------------------------------------------------------------------------------


async def test_the_codec_needs_the_admin_token_or_an_admin_session(
    make_app: Callable[..., FastAPI],
    codec_settings: Settings,
    sessions: Any,
    login: Login,
) -> None:
    body = {"payloads": [plain()]}
    user_id = await persona_user(sessions)
    async with serve(make_app(codec_settings)) as client:
        anonymous = await client.post("/codec/decode", json=body)
        wrong = await client.post(
            "/codec/decode", json=body, headers={"authorization": "Bearer not-the-token"}
        )
        basic = await client.post(
            "/codec/decode", json=body, headers={"authorization": f"Basic {ADMIN_TOKEN}"}
        )
        await login(client, user_id)
        as_user = await client.post("/codec/decode", json=body)
        admin = await client.post("/api/auth/token", json={"token": ADMIN_TOKEN})
        as_admin_session = await client.post("/codec/decode", json=body)
        await client.post("/auth/logout")
        after_logout = await client.post("/codec/decode", json=body)
    for res in (anonymous, wrong, basic, as_user, after_logout):
        assert res.status_code == 401, res.text
        assert res.headers["www-authenticate"] == "Bearer"
    assert admin.status_code == 200
    assert as_admin_session.status_code == 200


async def test_without_a_configured_admin_token_nobody_gets_in(
    make_app: Callable[..., FastAPI], offline_settings: Settings, sessions: Any
) -> None:
    assert offline_settings.admin_token.get_secret_value() == ""
    async with serve(make_app(offline_settings)) as client:
        bearer = await client.post(
            "/codec/decode", json={"payloads": []}, headers={"authorization": "Bearer "}
        )
        token = await client.post("/api/auth/token", json={"token": " "})
    assert (bearer.status_code, token.status_code) == (401, 401)


# --- CORS -----------------------------------------------------------------------------------------


def cors_headers(res: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in res.headers.items() if k.startswith("access-control-")}


async def test_cors_is_for_the_temporal_ui_origin_only(
    make_app: Callable[..., FastAPI], codec_settings: Settings, sessions: Any
) -> None:
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-namespace,authorization",
    }
    body = {"payloads": [plain()]}
    async with serve(make_app(codec_settings)) as client:
        ui_preflight = await client.options(
            "/codec/decode", headers={**preflight, "origin": UI_ORIGIN}
        )
        evil_preflight = await client.options(
            "/codec/decode", headers={**preflight, "origin": "https://evil.example"}
        )
        ui_post = await client.post("/codec/decode", json=body, headers=FROM_UI)
        evil_post = await client.post(
            "/codec/decode", json=body, headers={**ADMIN, "origin": "https://evil.example"}
        )
        # Cross-site from the UI (another site in production) is accepted on the codec only.
        ui_cross_site = await client.post(
            "/codec/decode", json=body, headers={**FROM_UI, "sec-fetch-site": "cross-site"}
        )
        ui_elsewhere = await client.post(
            "/auth/logout", headers={"origin": UI_ORIGIN, "sec-fetch-site": "cross-site"}
        )
        ui_preflight_elsewhere = await client.options(
            "/api/auth/token", headers={**preflight, "origin": UI_ORIGIN}
        )
    assert ui_preflight.status_code in (200, 204)
    allowed = cors_headers(ui_preflight)
    assert allowed["access-control-allow-origin"] == UI_ORIGIN
    assert allowed["access-control-allow-credentials"] == "true"
    assert "POST" in allowed["access-control-allow-methods"]
    assert {"content-type", "x-namespace", "authorization"} <= {
        h.strip().lower() for h in allowed["access-control-allow-headers"].split(",")
    }
    assert cors_headers(evil_preflight) == {}
    assert ui_post.status_code == 200
    assert cors_headers(ui_post)["access-control-allow-origin"] == UI_ORIGIN
    assert evil_post.status_code == 403 and cors_headers(evil_post) == {}
    assert ui_cross_site.status_code == 200
    assert ui_elsewhere.status_code == 403
    assert cors_headers(ui_preflight_elsewhere) == {}


# --- errors ---------------------------------------------------------------------------------------


async def test_an_unknown_key_id_is_a_clear_400_naming_it(
    make_app: Callable[..., FastAPI], codec_settings: Settings, sessions: Any
) -> None:
    foreign = await EncryptionCodec(KeyRing.parse(new_key_spec("retired-key-7"))).encode(
        [Payload(metadata={"encoding": b"json/plain"}, data=b"1")]
    )
    body = json_format.MessageToDict(Payloads(payloads=foreign))
    async with serve(make_app(codec_settings)) as client:
        res = await client.post("/codec/decode", json=body, headers=ADMIN)
    assert res.status_code == 400
    assert res.headers["content-type"] == "application/problem+json"
    assert res.json()["type"] == "UnknownKeyId"
    assert "retired-key-7" in res.json()["detail"]


async def test_tampered_or_malformed_payloads_are_400_not_500(
    make_app: Callable[..., FastAPI], codec_settings: Settings, sessions: Any
) -> None:
    async with serve(make_app(codec_settings)) as client:
        sealed = (
            await client.post("/codec/encode", json={"payloads": [plain()]}, headers=ADMIN)
        ).json()
        data = bytearray(base64.b64decode(sealed["payloads"][0]["data"]))
        data[-1] ^= 1
        sealed["payloads"][0]["data"] = b64(bytes(data))
        tampered = await client.post("/codec/decode", json=sealed, headers=ADMIN)
        not_base64 = await client.post(
            "/codec/decode", json={"payloads": [{"data": "%%%"}]}, headers=ADMIN
        )
        not_payloads = await client.post("/codec/decode", json={"payloads": 3}, headers=ADMIN)
    assert tampered.status_code == 400 and "codec-canary" not in tampered.text
    assert (not_base64.status_code, not_payloads.status_code) == (422, 422)
