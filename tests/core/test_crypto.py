import pytest
from temporalio.api.common.v1 import Payload

from core.crypto import (
    DecryptionError,
    EncryptionCodec,
    KeyConfigError,
    KeyRing,
    UnknownKeyError,
    new_key_spec,
)
from core.settings import Settings


async def test_payloads_round_trip_and_hide_their_content() -> None:
    codec = EncryptionCodec(KeyRing.parse(new_key_spec("k1")))
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"token":"canary-123"}')
    [sealed] = await codec.encode([plain])
    assert b"canary-123" not in sealed.SerializeToString()
    assert sealed.metadata["encryption-key-id"] == b"k1"
    assert await codec.decode([sealed]) == [plain]


async def test_old_keys_still_decrypt_after_rotation_and_unknown_keys_fail_clearly() -> None:
    old = new_key_spec("old")
    [sealed] = await EncryptionCodec(KeyRing.parse(old)).encode([Payload(data=b"x")])
    rotated = EncryptionCodec(KeyRing.parse(f"{new_key_spec('new')},{old}"))
    assert (await rotated.decode([sealed]))[0].data == b"x"
    with pytest.raises(UnknownKeyError, match="old"):
        await EncryptionCodec(KeyRing.parse(new_key_spec("other"))).decode([sealed])


async def test_a_tampered_payload_is_refused() -> None:
    codec = EncryptionCodec(KeyRing.parse(new_key_spec()))
    [sealed] = await codec.encode([Payload(data=b"secret")])
    flipped = Payload(
        metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    )
    truncated = Payload(metadata=sealed.metadata, data=sealed.data[:20])
    # Shorter than a nonce: AESGCM itself would raise ValueError (a 500 at the codec endpoint).
    stub = Payload(metadata=sealed.metadata, data=sealed.data[:5])
    empty = Payload(metadata=sealed.metadata, data=b"")
    for bad in (flipped, truncated, stub, empty):
        with pytest.raises(DecryptionError):
            await codec.decode([bad])


@pytest.mark.parametrize("spec", ["", "k1", "k1:not-base64!", "k1:c2hvcnQ="])
def test_malformed_key_specs_are_rejected(spec: str) -> None:
    with pytest.raises(KeyConfigError):
        KeyRing.parse(spec)


def test_secrets_never_show_in_settings_repr() -> None:
    spec = new_key_spec()
    settings = Settings(payload_keys=spec, litellm_api_key="sk-canary")  # type: ignore[arg-type]
    assert spec.split(":")[1] not in repr(settings)
    assert "sk-canary" not in repr(settings)


def test_a_key_ring_never_shows_its_keys() -> None:
    spec = new_key_spec("k9")
    ring = KeyRing.parse(spec)
    assert "k9" in repr(ring)
    assert spec.split(":")[1] not in repr(ring) and str(ring.keys["k9"]) not in repr(ring)
