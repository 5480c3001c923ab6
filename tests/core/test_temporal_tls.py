"""Reaching a Temporal cluster over TLS and mTLS (core/temporal.py): the dev server behind a
TLS-terminating proxy on loopback that demands a client certificate from a private CA."""

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr, ValidationError
from temporalio.client import Client

from core.settings import Settings
from core.temporal import TemporalTLSError, connect, tls_config

SERVER_NAME = "temporal.oo.test"


@dataclass
class Issued:
    cert: Path
    key: Path


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, *, ca: bool
) -> x509.CertificateBuilder:
    """A certificate valid for a day (from five minutes ago) for `key`."""
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )


class PrivateCA:
    """A certificate authority of the test's own, issuing server and client certificates."""

    def __init__(self, folder: Path, name: str = "oO test CA") -> None:
        self.folder = folder
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (
            _builder(self.name, self.name, self.key, ca=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, hashes.SHA256())
        )
        self.pem = folder / f"{name.replace(' ', '-')}.pem"
        self.pem.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, common_name: str, *, server: bool) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        builder = _builder(subject, self.name, key, ca=False).add_extension(
            x509.ExtendedKeyUsage(
                [x509.ExtendedKeyUsageOID.SERVER_AUTH]
                if server
                else [x509.ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        if server:
            names = [x509.DNSName(common_name), x509.IPAddress(IPv4Address("127.0.0.1"))]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        issued = Issued(self.folder / f"{common_name}.crt", self.folder / f"{common_name}.key")
        issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key, issued.key)
        return issued


@dataclass
class TLSProxy:
    """TLS (HTTP/2 by ALPN) on loopback in front of the dev server's plain gRPC port."""

    target: str
    context: ssl.SSLContext
    port: int = 0
    clients: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(ConnectionError, ssl.SSLError, RuntimeError):
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert") or {}
        subject = dict(pair[0] for pair in peer.get("subject", ()))
        self.clients.append(subject.get("commonName", ""))
        host, port = self.target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["TLSProxy"]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.context)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 2)


@pytest.fixture
def ca(tmp_path: Path) -> PrivateCA:
    return PrivateCA(tmp_path)


@pytest.fixture
async def mtls_proxy(ca: PrivateCA, dev_client: Client) -> AsyncIterator[TLSProxy]:
    """The dev server behind TLS that requires a client certificate issued by `ca`."""
    server = ca.issue(SERVER_NAME, server=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server.cert, server.key)
    context.load_verify_locations(ca.pem)
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    proxy = TLSProxy(target=dev_client.service_client.config.target_host, context=context)
    async with proxy.running():
        yield proxy


def tls_settings(proxy: TLSProxy, payload_keys: str, **tls: object) -> Settings:
    return Settings(temporal_address=proxy.address, payload_keys=payload_keys, **tls)  # type: ignore[arg-type]


async def test_mtls_with_a_private_ca_reaches_the_cluster(
    ca: PrivateCA, mtls_proxy: TLSProxy, payload_keys: str
) -> None:
    worker = ca.issue("oo-worker", server=False)
    settings = tls_settings(
        mtls_proxy,
        payload_keys,
        temporal_tls_ca_file=ca.pem,
        temporal_tls_cert_file=worker.cert,
        temporal_tls_key_file=worker.key,
        temporal_tls_server_name=SERVER_NAME,
    )
    client = await connect(settings)
    assert await client.service_client.check_health()
    assert mtls_proxy.clients and set(mtls_proxy.clients) == {"oo-worker"}


async def test_without_a_client_certificate_or_a_trusted_server_the_connect_fails(
    ca: PrivateCA, mtls_proxy: TLSProxy, payload_keys: str, tmp_path: Path
) -> None:
    no_cert = tls_settings(
        mtls_proxy,
        payload_keys,
        temporal_tls_ca_file=ca.pem,
        temporal_tls_server_name=SERVER_NAME,
    )
    stranger = PrivateCA(tmp_path, name="another CA")
    foreign = stranger.issue("oo-intruder", server=False)
    other_ca = tls_settings(
        mtls_proxy,
        payload_keys,
        temporal_tls_ca_file=stranger.pem,  # does not trust the server's certificate
        temporal_tls_cert_file=foreign.cert,
        temporal_tls_key_file=foreign.key,
        temporal_tls_server_name=SERVER_NAME,
    )
    plain = tls_settings(mtls_proxy, payload_keys)
    for settings in (no_cert, other_ca, plain):
        with pytest.raises(RuntimeError):
            await asyncio.wait_for(connect(settings), 20)
    assert "oo-intruder" not in mtls_proxy.clients


def test_tls_settings_are_checked_and_explained(tmp_path: Path, payload_keys: str) -> None:
    assert tls_config(Settings(payload_keys=payload_keys)) is False
    assert tls_config(Settings(temporal_tls=True)) is True
    # An API key (Temporal Cloud) is sent over TLS only.
    keyed = Settings(temporal_api_key=SecretStr("cloud-key"))
    assert tls_config(keyed) is True and "cloud-key" not in repr(keyed)
    with pytest.raises(ValidationError, match="OO_TEMPORAL_TLS_CERT_FILE and OO_TEMPORAL"):
        Settings(temporal_tls_cert_file=tmp_path / "client.crt")
    missing = Settings(temporal_tls_ca_file=tmp_path / "nowhere.pem")
    with pytest.raises(TemporalTLSError, match=r"OO_TEMPORAL_TLS_CA_FILE: cannot read .*nowhere"):
        tls_config(missing)
