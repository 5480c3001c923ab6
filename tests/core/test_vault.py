"""The token vault's envelopes (RELIABILITY_SECURITY C2, C3, C6) without a database."""

import uuid
from dataclasses import replace

import pytest

from core.crypto import DecryptionError, KeyRing, UnknownKeyError, new_key_spec
from core.vault import (
    VERSION,
    DataKey,
    TokenDecryptError,
    TokenVault,
    UnknownMasterKeyError,
    WrappedKey,
)

TOKEN = "ya29.canary-access-token"


def vault(spec: str | None = None) -> TokenVault:
    return TokenVault(KeyRing.parse(spec or new_key_spec("m1")))


def sealed(v: TokenVault) -> tuple[DataKey, bytes]:
    key, _ = v.new_data_key(uuid.uuid4())
    return key, v.seal(key, provider="google", kind="access", token=TOKEN)


def test_tokens_round_trip_in_a_self_describing_envelope() -> None:
    v = vault()
    key, envelope = sealed(v)
    assert envelope[0] == VERSION
    assert envelope[1:9] == key.key_id
    assert TOKEN.encode() not in envelope
    assert v.open(key, provider="google", kind="access", envelope=envelope) == TOKEN


def test_every_seal_uses_a_fresh_nonce() -> None:
    v = vault()
    key, _ = v.new_data_key(uuid.uuid4())
    envelopes = [v.seal(key, provider="google", kind="access", token=TOKEN) for _ in range(50)]
    assert len({e[9:21] for e in envelopes}) == 50
    assert len(set(envelopes)) == 50


def test_a_token_opens_only_for_its_user_provider_and_kind() -> None:
    v = vault()
    key, envelope = sealed(v)
    # The same key material under another user id: only the associated data differs.
    other_user = replace(key, user_id=uuid.uuid4())
    for k, provider, kind in [
        (other_user, "google", "access"),
        (key, "todoist", "access"),
        (key, "google", "refresh"),
    ]:
        with pytest.raises(TokenDecryptError):
            v.open(k, provider=provider, kind=kind, envelope=envelope)  # type: ignore[arg-type]


def test_every_tampered_or_truncated_envelope_raises_the_one_declared_error() -> None:
    v = vault()
    key, envelope = sealed(v)
    flipped = [
        envelope[:i] + bytes([envelope[i] ^ 1]) + envelope[i + 1 :] for i in range(len(envelope))
    ]
    truncated = [envelope[:n] for n in range(len(envelope))]
    for bad in flipped + truncated + [envelope + b"\0"]:
        with pytest.raises(TokenDecryptError):
            v.open(key, provider="google", kind="access", envelope=bad)


def test_vault_errors_belong_to_the_crypto_hierarchy() -> None:
    assert issubclass(TokenDecryptError, DecryptionError)
    assert issubclass(UnknownMasterKeyError, UnknownKeyError)


def test_a_wrapped_data_key_is_bound_to_its_user_and_master_key() -> None:
    v = vault()
    user = uuid.uuid4()
    key, wrapped = v.new_data_key(user)
    assert wrapped.master_key_id == "m1"
    assert key.secret not in wrapped.blob
    assert v.unwrap(user, wrapped) == key
    with pytest.raises(TokenDecryptError):
        v.unwrap(uuid.uuid4(), wrapped)
    blob = wrapped.blob
    for i in range(len(blob)):
        with pytest.raises(TokenDecryptError):
            v.unwrap(user, WrappedKey("m1", blob[:i] + bytes([blob[i] ^ 1]) + blob[i + 1 :]))


def test_an_unknown_master_key_id_is_a_clear_error() -> None:
    user = uuid.uuid4()
    _, wrapped = vault(new_key_spec("gone")).new_data_key(user)
    with pytest.raises(UnknownMasterKeyError, match="'gone'"):
        vault().unwrap(user, wrapped)


def test_rewrap_moves_a_data_key_to_the_current_master_key_unchanged() -> None:
    old = new_key_spec("old")
    user = uuid.uuid4()
    key, wrapped = vault(old).new_data_key(user)
    rotated = vault(f"{new_key_spec('new')},{old}")
    moved = rotated.rewrap(user, wrapped)
    assert moved.master_key_id == "new"
    assert rotated.unwrap(user, moved) == key
    assert rotated.rewrap(user, moved) is moved


def test_no_key_material_shows_in_repr() -> None:
    spec = new_key_spec("m1")
    v = vault(spec)
    key, wrapped = v.new_data_key(uuid.uuid4())
    text = repr(v) + repr(key) + str(key) + repr(wrapped)
    assert spec.split(":")[1] not in text
    assert key.secret.hex() not in text and repr(key.secret) not in text
    assert repr(wrapped.blob) not in text
