"""Envelope encryption of provider tokens: per-user data keys wrapped by the master key ring.

A wrapped data key (stored in `user_keys.wrapped_key`, its master key id in `user_keys.key_id`):

    version (1) | data key id (8) | nonce (12) | AES-256-GCM(master key, data key (32)) + tag (16)
    associated data: "oo/user-key", version, data key id, user id, master key id

A token envelope (stored in `integrations.*_token_enc`):

    version (1) | data key id (8) | nonce (12) | AES-256-GCM(data key, token) + tag (16)
    associated data: "oo/token", version, data key id, user id, provider, token kind

Destroying a user's wrapped data key makes every copy of their token envelopes unreadable.
"""

import os
import uuid
from dataclasses import dataclass, field
from typing import Literal, get_args

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.crypto import DecryptionError, KeyRing, UnknownKeyError

TokenKind = Literal["access", "refresh"]
TOKEN_KINDS: tuple[str, ...] = get_args(TokenKind)

VERSION = 1
_DATA_KEY_ID_BYTES = 8
_KEY_BYTES = 32
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEADER_BYTES = 1 + _DATA_KEY_ID_BYTES
_MIN_SEALED = _HEADER_BYTES + _NONCE_BYTES + _TAG_BYTES
_WRAP_CONTEXT = b"oo/user-key"
_TOKEN_CONTEXT = b"oo/token"


class VaultError(Exception):
    """The token vault could not seal or open a value."""


class TokenDecryptError(VaultError, DecryptionError):
    """A token or data key was tampered with, truncated, sealed for other data, or destroyed."""


class UnknownMasterKeyError(VaultError, UnknownKeyError):
    """A data key is wrapped under a master key id the ring does not hold."""


@dataclass(frozen=True)
class WrappedKey:
    """A data key as stored: the master key id and the sealed bytes."""

    master_key_id: str
    blob: bytes = field(repr=False)


@dataclass(frozen=True)
class DataKey:
    """A user's unwrapped data key; its secret never shows in repr."""

    user_id: uuid.UUID
    key_id: bytes
    secret: bytes = field(repr=False)


def _field(value: bytes) -> bytes:
    """A length-prefixed field, so that concatenated associated data is unambiguous."""
    if len(value) > 0xFFFF:
        raise ValueError("associated data field too long")
    return len(value).to_bytes(2, "big") + value


def _split(sealed: bytes, what: str) -> tuple[bytes, bytes, bytes]:
    """(header, nonce, ciphertext) of a sealed value, or the declared error."""
    if len(sealed) < _MIN_SEALED:
        raise TokenDecryptError(f"{what} is truncated")
    if sealed[0] != VERSION:
        raise TokenDecryptError(f"{what} has unknown envelope version {sealed[0]}")
    nonce_end = _HEADER_BYTES + _NONCE_BYTES
    return sealed[:_HEADER_BYTES], sealed[_HEADER_BYTES:nonce_end], sealed[nonce_end:]


def _open(aead: AESGCM, nonce: bytes, ciphertext: bytes, aad: bytes, what: str) -> bytes:
    try:
        return aead.decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise TokenDecryptError(f"{what} failed authentication") from None


class TokenVault:
    """Wraps per-user data keys with the master ring and seals tokens with them."""

    def __init__(self, master: KeyRing) -> None:
        self._master = master

    def __repr__(self) -> str:
        return f"TokenVault(current={self._master.current!r}, keys={list(self._master.keys)!r})"

    @property
    def current_master_key_id(self) -> str:
        return self._master.current

    def _master_aead(self, kid: str) -> AESGCM:
        try:
            return self._master.aead(kid)
        except UnknownKeyError:
            raise UnknownMasterKeyError(
                f"data key wrapped under master key {kid!r}, which is not in the key ring"
            ) from None

    def new_data_key(self, user_id: uuid.UUID) -> tuple[DataKey, WrappedKey]:
        """A fresh random 256-bit data key for the user, and its wrapping."""
        key = DataKey(user_id, os.urandom(_DATA_KEY_ID_BYTES), AESGCM.generate_key(256))
        return key, self._wrap(key)

    def _wrap(self, key: DataKey) -> WrappedKey:
        kid = self._master.current
        header = bytes([VERSION]) + key.key_id
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._master_aead(kid).encrypt(nonce, key.secret, _wrap_aad(header, key, kid))
        return WrappedKey(kid, header + nonce + sealed)

    def unwrap(self, user_id: uuid.UUID, wrapped: WrappedKey) -> DataKey:
        """The user's data key; fails if the wrapping belongs to another user or was altered."""
        aead = self._master_aead(wrapped.master_key_id)
        header, nonce, ciphertext = _split(wrapped.blob, "wrapped data key")
        probe = DataKey(user_id, header[1:], b"")
        aad = _wrap_aad(header, probe, wrapped.master_key_id)
        secret = _open(aead, nonce, ciphertext, aad, "wrapped data key")
        return DataKey(user_id, probe.key_id, secret)

    def rewrap(self, user_id: uuid.UUID, wrapped: WrappedKey) -> WrappedKey:
        """The same data key wrapped under the current master key (unchanged if it already is)."""
        if wrapped.master_key_id == self._master.current:
            return wrapped
        return self._wrap(self.unwrap(user_id, wrapped))

    def seal(self, key: DataKey, *, provider: str, kind: TokenKind, token: str) -> bytes:
        """A token envelope bound to (user, provider, kind), with a fresh nonce."""
        header = bytes([VERSION]) + key.key_id
        nonce = os.urandom(_NONCE_BYTES)
        aad = _token_aad(header, key.user_id, provider, kind)
        return header + nonce + AESGCM(key.secret).encrypt(nonce, token.encode(), aad)

    def open(self, key: DataKey, *, provider: str, kind: TokenKind, envelope: bytes) -> str:
        """The token, or TokenDecryptError; never partial plaintext."""
        header, nonce, ciphertext = _split(envelope, f"{kind} token")
        if header[1:] != key.key_id:
            raise TokenDecryptError(
                f"{kind} token was sealed under a data key that no longer exists"
            )
        aad = _token_aad(header, key.user_id, provider, kind)
        plain = _open(AESGCM(key.secret), nonce, ciphertext, aad, f"{kind} token")
        return plain.decode()


def _wrap_aad(header: bytes, key: DataKey, master_key_id: str) -> bytes:
    return b"".join(
        (_field(_WRAP_CONTEXT), _field(header), key.user_id.bytes, _field(master_key_id.encode()))
    )


def _token_aad(header: bytes, user_id: uuid.UUID, provider: str, kind: str) -> bytes:
    if kind not in TOKEN_KINDS:
        raise ValueError(f"token kind must be one of {TOKEN_KINDS}, not {kind!r}")
    if not provider:
        raise ValueError("provider must not be empty")
    parts = (_TOKEN_CONTEXT, header, user_id.bytes, provider.encode(), kind.encode())
    return b"".join(_field(p) for p in parts)
