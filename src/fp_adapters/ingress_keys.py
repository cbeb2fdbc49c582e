"""The HTTP ingress's producers and their API keys, resolved at start-up: from a key file (created with
a random key on first use, mode 600) or an SSM SecureString. Only SHA-256 digests are kept."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from fp_adapters.settings import REPO_ROOT, ProducerSettings, Settings
from fp_core.errors import ConfigError
from fp_core.ingress import Authenticator, ProducerGrant, key_digest
from fp_core.ports import SecretStore


def key_path(producer: ProducerSettings) -> Path:
    assert producer.key_file is not None
    path = Path(producer.key_file)
    return path if path.is_absolute() else REPO_ROOT / path


def read_or_create_key(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def producer_key(name: str, producer: ProducerSettings, secret_store: SecretStore | None) -> str:
    """The key itself (for a client of the ingress, e.g. WSP with ``--ingress``); never logged."""
    if producer.key_file:
        return read_or_create_key(key_path(producer))
    if producer.key_ssm:
        if secret_store is None:
            raise ConfigError(f"ingress.producers.{name}.key_ssm needs an environment with SSM (dev_min)")
        return secret_store.get(producer.key_ssm)
    raise ConfigError(f"ingress.producers.{name}: set key_file or key_ssm")


def authenticator(settings: Settings, secret_store: SecretStore | None) -> Authenticator:
    return Authenticator(tuple(
        ProducerGrant(name, key_digest(producer_key(name, p, secret_store)), tuple(p.runs))
        for name, p in sorted(settings.ingress.producers.items())))
