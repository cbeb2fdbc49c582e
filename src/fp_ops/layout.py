"""Where the local substrate lives and which loopback ports it uses, resolved when asked (never at
import): ``FP_SUBSTRATE_DIR`` and ``FP_PG_BIN`` may be set by the caller before the first use."""

from __future__ import annotations

import os
from pathlib import Path

from fp_adapters.settings import REPO_ROOT, state_dir

KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_SASL_PORT = 19092, 19093, 19094
POSTGRES_PORT, REDIS_PORT, MOTO_PORT, OBJECTS_PORT = 15432, 16379, 15000, 17070
VERSITYGW_MODULE = "github.com/versity/versitygw/cmd/versitygw"
VERSITYGW_VERSION = "v1.8.0"
KAFKA_POM = REPO_ROOT / "infra/local_parity/kafka/pom.xml"


def substrate_dir() -> Path:
    return state_dir()


def kafka_dir() -> Path:
    return substrate_dir() / "kafka"


def kafka_libs() -> Path:
    return substrate_dir() / "cache/kafka-libs"


def cache_bin() -> Path:
    """Binaries the substrate builds once (git-ignored, reused across restarts)."""
    return substrate_dir() / "cache/bin"


def pg_bin() -> Path:
    return Path(os.environ.get("FP_PG_BIN", "/usr/lib/postgresql/15/bin"))
