"""Typed settings per environment: ``<env>.yaml`` (the packaged ``fp_adapters/config/`` or ``FP_CONFIG_DIR``),
or the adapter set's ``DEFAULT_SETTINGS``, overlaid by ``FP_*`` environment variables."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from fp_core.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
SETTINGS_JSON_ENV = "FP_SETTINGS_JSON"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BusSettings(_Section):
    bootstrap: str = ""
    security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN"] = "PLAIN"
    ca_file: str | None = None
    credentials_ssm_prefix: str | None = Field(
        default=None, description="SSM path holding bootstrap, api_key and api_secret (SecureString)")
    topic_prefix: str = ""
    linger_ms: int = 20
    delivery_timeout_s: float = 60.0
    max_partition_fetch_bytes: int = Field(
        default=262_144, ge=1024, description="smaller values interleave partitions more finely per poll")
    commit_interval_s: float = Field(
        default=0.2, ge=0.0, le=60.0,
        description="consumers checkpoint and commit durable offsets at most this often (and at the end)")

    def ca_path(self) -> str | None:
        """The CA file, relative paths taken from the repository root."""
        if not self.ca_file:
            return None
        path = Path(self.ca_file)
        return str(path if path.is_absolute() else REPO_ROOT / path)


class ObjectStoreSettings(_Section):
    endpoint_url: str | None = None
    region: str = "eu-west-2"
    buckets: dict[str, str] = Field(description="top-level prefix (oracle, archive, quarantine, evidence) -> bucket")


class PostgresSettings(_Section):
    dsn: str
    pool_size: int = Field(default=4, ge=1, le=64)
    reconnect_s: float = Field(default=30.0, gt=0, description="how long a call waits for Postgres to come back")


class RedisSettings(_Section):
    url: str
    context_ttl_s: int = 7 * 86_400
    reconnect_s: float = Field(default=30.0, gt=0, description="how long a call retries a restarting Redis")


class AwsSettings(_Section):
    endpoint_url: str | None = None
    region: str = "eu-west-2"
    emulator_credentials: bool = Field(
        default=False, description="use fixed non-secret credentials (only for an emulator endpoint)")


class MemorySettings(_Section):
    namespace: str = Field(default="default", description="containers of one namespace share one in-memory state")


class DrillSettings(_Section):
    lag_pause_s: float = Field(default=1.5, ge=0, description="how long the lag drill holds RTDL's consumer")


class DynamoSettings(_Section):
    quarantine_table: str = "quarantine_index"


class ProducerSettings(_Section):
    """One producer allowed through the HTTP ingress: where its API key is (a file, created with a random
    key on first use, mode 600 — local_parity; or an SSM SecureString — dev_min) and its runs."""

    key_file: str | None = None
    key_ssm: str | None = None
    runs: list[str] = Field(default_factory=lambda: ["*"], description="run ids, or a prefix ending in *")


class IngressSettings(_Section):
    """``fp-ig serve``: limits, rate, overload shedding, producers, TLS."""

    max_batch_events: int = Field(default=5_000, ge=1, le=100_000)
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    rate_events_per_s: float = Field(default=100_000.0, gt=0, description="per producer")
    burst_events: float = Field(default=200_000.0, gt=0, description="per producer; >= max_batch_events")
    max_in_flight: int = Field(default=4, ge=1, description="batches queued or running; more are shed with 503")
    retry_after_s: int = Field(default=1, ge=1)
    max_connections: int = Field(default=256, ge=8, description="beyond it requests are shed with 503")
    body_timeout_s: float = Field(default=10.0, gt=0, description="a body not received in time is a 408")
    producers: dict[str, ProducerSettings] = Field(default_factory=lambda: {
        "wsp": ProducerSettings(key_file=".substrate/ingress/wsp.key")})
    tls_cert_file: str | None = None
    tls_key_file: str | None = None


class IgSettings(_Section):
    lanes: int = Field(default=1, ge=1, le=16, description=(
        "IG's lanes: a submission's events admitted by this many gates at once, each (topic, partition) by one "
        "of them, with the receipts and offsets of one gate (D64). Where stages run as processes, lanes 2.. are "
        "children forked by `fp run` and `fp-wsp`; elsewhere they are admitted in turn by the caller. Worth it "
        "where IG has cores to itself: on two cores IG alone went from ~20k to ~26-31k events/s with 2, while a "
        "whole run, which keeps both cores busy anyway, did not gain"))


class Settings(BaseSettings):
    """The whole configuration of one environment. Unknown keys are errors naming the key."""

    model_config = SettingsConfigDict(env_prefix="FP_", env_nested_delimiter="__", extra="forbid", frozen=True)

    env: str
    adapter_set: str = Field(default="", description="registered adapter set; empty means the env's own name")
    bus: BusSettings = BusSettings()
    objects: ObjectStoreSettings = ObjectStoreSettings(buckets={})
    postgres: PostgresSettings | None = None
    redis: RedisSettings | None = None
    memory: MemorySettings = MemorySettings()
    drills: DrillSettings = DrillSettings()
    plugin: dict[str, Any] = Field(default_factory=dict,
                                   description="free-form settings of a third-party adapter set (FP_PLUGIN__<KEY>)")
    aws: AwsSettings = AwsSettings()
    quarantine_index: Literal["postgres", "dynamodb"] = "postgres"
    dynamodb: DynamoSettings = DynamoSettings()
    ingress: IngressSettings = IngressSettings()
    ig: IgSettings = IgSettings()

    def require_postgres(self) -> PostgresSettings:
        if self.postgres is None:
            raise ConfigError(f"environment {self.env!r} has no postgres section")
        return self.postgres

    def require_redis(self) -> RedisSettings:
        if self.redis is None:
            raise ConfigError(f"environment {self.env!r} has no redis section")
        return self.redis


def state_dir() -> Path:
    """Where the local substrate and operator state live: ``FP_SUBSTRATE_DIR``, else ``.substrate/``."""
    return Path(os.environ.get("FP_SUBSTRATE_DIR", REPO_ROOT / ".substrate"))


def session_settings_file(env: str) -> Path:
    """Settings an operator tool wrote for ``env`` from the infrastructure it brought up (``fp dev-min
    up`` writes ``dev_min.json`` from the Terraform outputs): they sit over ``<env>.yaml`` and under
    ``FP_*`` variables."""
    return state_dir() / "settings" / f"{env}.json"


def config_dir() -> Path:
    """Where ``<env>.yaml`` files are read: ``FP_CONFIG_DIR``, else the packaged defaults."""
    return Path(os.environ.get("FP_CONFIG_DIR", Path(__file__).with_name("config")))


def known_envs() -> list[str]:
    """Environments that can be loaded: every registered adapter set, and every ``<env>.yaml`` in the
    settings directory whose ``env`` key is its own name."""
    from fp_adapters.environments import registered

    envs = set(registered())
    for path in config_dir().glob("*.yaml"):
        try:
            doc = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(doc, dict) and doc.get("env") == path.stem:
            envs.add(path.stem)
    return sorted(envs)


def _defaults_of(env: str) -> dict[str, Any] | None:
    from fp_adapters.environments import adapter_set_class, registered

    if env not in registered():
        return None
    defaults = getattr(adapter_set_class(env), "DEFAULT_SETTINGS", None)
    return dict(defaults) if isinstance(defaults, dict) else None


def load_settings(env: str) -> Settings:
    """Settings for ``env``; an unknown environment fails with the list of valid ones."""
    inherited = os.environ.get(SETTINGS_JSON_ENV)
    if inherited:  # a stage process started by an orchestrator runs with the orchestrator's settings
        settings = Settings.model_validate_json(inherited)
        if settings.env == env:
            return settings
    path = config_dir() / f"{env}.yaml"
    defaults = None if path.is_file() else _defaults_of(env)
    if not path.is_file() and defaults is None:
        raise ConfigError(f"unknown environment {env!r}; valid: {known_envs()}")
    source_name = path.name if defaults is None else f"{env} DEFAULT_SETTINGS"
    session_file = session_settings_file(env)
    try:
        session: dict[str, Any] = json.loads(session_file.read_text()) if session_file.is_file() else {}
    except ValueError as exc:
        raise ConfigError(f"{session_file}: not JSON ({exc}); remove it or run `fp dev-min up` again") from exc

    class EnvSettings(Settings):
        model_config = SettingsConfigDict(yaml_file=path if defaults is None else None)

        @classmethod
        def settings_customise_sources(
            cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            written = InitSettingsSource(settings_cls, session)
            if defaults is not None:  # the adapter set's defaults, under the environment's FP_* variables
                return (env_settings, written, InitSettingsSource(settings_cls, defaults))
            return (init_settings, env_settings, written, YamlConfigSettingsSource(settings_cls))

    try:
        settings = EnvSettings()
    except ValueError as exc:
        raise ConfigError(f"{source_name}: {exc}") from exc
    if settings.env != env:
        raise ConfigError(f"{source_name}: env is {settings.env!r}, expected {env!r}")
    return settings
