"""The emulated managed-Kafka endpoint: a SASL_SSL/PLAIN listener on the local broker.

At first start a self-signed CA and a broker certificate (SAN 127.0.0.1, localhost) are generated, and
an API key/secret pair becomes the listener's one PLAIN user. The credentials live only in
``.substrate/kafka/`` (git-ignored, mode 600) and in the SSM emulator, never in logs.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fp_ops import layout

SASL_BOOTSTRAP = f"127.0.0.1:{layout.KAFKA_SASL_PORT}"


def tls_dir() -> Path:
    return layout.kafka_dir() / "tls"


def credentials_file() -> Path:
    return layout.kafka_dir() / "sasl_credentials.json"


@dataclass(frozen=True)
class SaslUser:
    api_key: str
    api_secret: str

    def __repr__(self) -> str:
        return "SaslUser(api_key=***, api_secret=***)"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def ensure_tls() -> None:
    ca_file, broker_pem = tls_dir() / "ca.pem", tls_dir() / "broker.pem"
    if ca_file.exists() and broker_pem.exists():
        return
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fraud-platform local CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=825))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                         x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write_private(broker_pem, key_pem + cert.public_bytes(pem) + ca.public_bytes(pem))
    ca_file.write_bytes(ca.public_bytes(pem))


def sasl_user() -> SaslUser:
    path = credentials_file()
    if not path.exists():
        _write_private(path, json.dumps({"api_key": "FPKEY" + secrets.token_hex(6).upper(),
                                                     "api_secret": secrets.token_urlsafe(32)}).encode())
    data = json.loads(path.read_text())
    return SaslUser(data["api_key"], data["api_secret"])


def broker_settings() -> tuple[dict[str, str], str]:
    """Extra listener and the broker properties for it (these contain the secret: file mode 600)."""
    ensure_tls()
    user = sasl_user()
    admin_secret = secrets.token_urlsafe(24)
    extra = "\n".join([
        "sasl.enabled.mechanisms=PLAIN",
        "listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN",
        "listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule "
        f'required username="broker" password="{admin_secret}" user_broker="{admin_secret}" '
        f'user_{user.api_key}="{user.api_secret}";',
        "listener.name.sasl_ssl.ssl.keystore.type=PEM",
        f"listener.name.sasl_ssl.ssl.keystore.location={tls_dir() / 'broker.pem'}",
        "listener.name.sasl_ssl.ssl.client.auth=none",
    ])
    return {"SASL_SSL": SASL_BOOTSTRAP}, extra
