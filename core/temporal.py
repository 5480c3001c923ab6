"""The one Temporal client factory: pydantic converter, encrypting codec, encoded failures."""

import dataclasses

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.service import RetryConfig

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


async def connect(settings: Settings, *, retry: RetryConfig | None = None) -> Client:
    """Connect to Temporal with the project's data converter (and the SDK's RPC retries unless
    `retry` says otherwise)."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        retry_config=retry,
    )
