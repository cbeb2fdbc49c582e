"""librdkafka client settings for PLAINTEXT (local_parity) and SASL_SSL/PLAIN (managed Kafka)."""

from __future__ import annotations

from dataclasses import dataclass

from fp_adapters.settings import BusSettings
from fp_core.errors import ConfigError
from fp_core.ports import SecretStore

CREDENTIAL_NAMES = ("bootstrap", "api_key", "api_secret")


@dataclass(frozen=True)
class BusCredentials:
    """Resolved at start-up (from SSM for dev_min); ``repr`` never shows the secret."""

    bootstrap: str
    api_key: str | None = None
    api_secret: str | None = None

    def __repr__(self) -> str:
        return f"BusCredentials(bootstrap={self.bootstrap!r}, api_key=***, api_secret=***)"


def client_config(bus: BusSettings, creds: BusCredentials) -> dict[str, str | int | float | bool]:
    conf: dict[str, str | int | float | bool] = {
        "bootstrap.servers": creds.bootstrap.removeprefix("SASL_SSL://"),
        "security.protocol": bus.security_protocol,
    }
    if bus.security_protocol == "SASL_SSL":
        conf.update({"sasl.mechanism": bus.sasl_mechanism, "sasl.username": creds.api_key or "",
                     "sasl.password": creds.api_secret or ""})
        ca = bus.ca_path()
        if ca:
            conf["ssl.ca.location"] = ca
    return conf


def credential_parameters(bus: BusSettings) -> list[str]:
    """The SSM names of bootstrap, api_key and api_secret under ``bus.credentials_ssm_prefix`` (in
    ``CREDENTIAL_NAMES`` order); empty when the bus reads no credentials from SSM."""
    prefix = (bus.credentials_ssm_prefix or "").rstrip("/")
    return [f"{prefix}/{name}" for name in CREDENTIAL_NAMES] if bus.credentials_ssm_prefix else []


def credentials_from_ssm(bus: BusSettings, secrets: SecretStore) -> BusCredentials:
    """Read bootstrap, api_key and api_secret under ``bus.credentials_ssm_prefix`` (start-up only)."""
    names = credential_parameters(bus)
    if not names:
        raise ConfigError("bus.credentials_ssm_prefix is not set: nowhere to read the bus credentials from")
    bootstrap, key, secret = (secrets.get(name) for name in names)
    return BusCredentials(bootstrap=bootstrap, api_key=key, api_secret=secret)
