"""AES-256-GCM: the Temporal payload codec and its key ring."""

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
_NONCE_BYTES = 12
_TAG_BYTES = 16  # AES-GCM's tag, after the ciphertext
_PAYLOAD_AAD = b"oo/temporal-payload"


class CryptoError(Exception):
    """Base of every error of oO's encryption (payload codec and token vault)."""


class UnknownKeyError(CryptoError):
    """A ciphertext names a key id this process does not hold."""


class DecryptionError(CryptoError):
    """A ciphertext was tampered with, truncated or sealed under other data."""


class KeyConfigError(CryptoError, ValueError):
    """The configured key ring is malformed."""


@dataclass(frozen=True)
class KeyRing:
    """Named 256-bit keys; the first is used to encrypt, every one can decrypt."""

    keys: dict[str, bytes] = field(repr=False)
    current: str

    @classmethod
    def parse(cls, spec: str) -> "KeyRing":
        """Parse "kid:base64key,kid2:base64key"."""
        keys: dict[str, bytes] = {}
        for entry in filter(None, (part.strip() for part in spec.split(","))):
            kid, sep, b64 = entry.partition(":")
            if not sep or not kid:
                raise KeyConfigError("each key must be written as key-id:base64")
            try:
                key = base64.b64decode(b64, validate=True)
            except ValueError as exc:
                raise KeyConfigError(f"key {kid!r} is not valid base64") from exc
            if len(key) != 32:
                raise KeyConfigError(f"key {kid!r} must be 32 bytes")
            keys[kid] = key
        if not keys:
            raise KeyConfigError("no key configured")
        return cls(keys=keys, current=next(iter(keys)))

    def aead(self, kid: str) -> AESGCM:
        try:
            return AESGCM(self.keys[kid])
        except KeyError:
            raise UnknownKeyError(f"unknown key id {kid!r}") from None


def new_key_spec(kid: str = "k1") -> str:
    """A fresh key ring entry, as written into .oo/secrets.env."""
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


class EncryptionCodec(PayloadCodec):
    """Encrypts every payload; the key id travels in the payload metadata."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        kid = self._ring.current
        aead = self._ring.aead(kid)
        out = []
        for p in payloads:
            nonce = os.urandom(_NONCE_BYTES)
            sealed = nonce + aead.encrypt(nonce, p.SerializeToString(), _PAYLOAD_AAD)
            out.append(
                Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: kid.encode()}, data=sealed)
            )
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            if p.metadata.get("encoding") != ENCODING:
                out.append(p)
                continue
            kid = p.metadata.get(KEY_ID_METADATA, b"").decode("utf-8", "replace")
            aead = self._ring.aead(kid)
            if len(p.data) < _NONCE_BYTES + _TAG_BYTES:  # AESGCM raises ValueError on those
                raise DecryptionError("payload too short to be sealed")
            nonce, sealed = p.data[:_NONCE_BYTES], p.data[_NONCE_BYTES:]
            try:
                out.append(Payload.FromString(aead.decrypt(nonce, sealed, _PAYLOAD_AAD)))
            except InvalidTag:
                raise DecryptionError("payload failed authentication") from None
        return out
