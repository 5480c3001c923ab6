"""The one Temporal client factory: pydantic converter, encrypting codec, encoded failures."""

import dataclasses
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.service import RetryConfig, TLSConfig

from core.crypto import EncryptionCodec, KeyConfigError, KeyRing
from core.settings import Settings


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads, encrypted; failure messages and stack traces encoded too."""
    try:
        ring = KeyRing.parse(settings.payload_keys.get_secret_value())
    except KeyConfigError as exc:
        raise KeyConfigError(f"OO_PAYLOAD_KEYS: {exc}") from None
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(ring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


class TemporalTLSError(RuntimeError):
    """A TLS file named in the settings cannot be read."""


def _read(name: str, path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TemporalTLSError(f"{name}: cannot read {path}: {exc.strerror}") from None


def tls_config(settings: Settings) -> TLSConfig | bool:
    """How to reach Temporal: plain (False), TLS with the system roots (True), or with the
    configured CA, client certificate and server name."""
    if not settings.temporal_uses_tls:
        return False
    ca = _read("OO_TEMPORAL_TLS_CA_FILE", settings.temporal_tls_ca_file)
    cert = _read("OO_TEMPORAL_TLS_CERT_FILE", settings.temporal_tls_cert_file)
    key = _read("OO_TEMPORAL_TLS_KEY_FILE", settings.temporal_tls_key_file)
    if ca is None and cert is None and settings.temporal_tls_server_name is None:
        return True
    return TLSConfig(
        server_root_ca_cert=ca,
        client_cert=cert,
        client_private_key=key,
        domain=settings.temporal_tls_server_name,
    )


async def connect(settings: Settings, *, retry: RetryConfig | None = None) -> Client:
    """Connect to Temporal with the project's data converter, over TLS and with an API key when
    configured (and the SDK's RPC retries unless `retry` says otherwise)."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=tls_config(settings),
        api_key=settings.temporal_api_key.get_secret_value() or None,
        retry_config=retry,
    )
