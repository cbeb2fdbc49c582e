"""What every entrypoint shares: logging set-up, the container for ``--env``, run metadata."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import Any

from pydantic import BaseModel

from fp_adapters.containers import PlatformContainer, build_container
from fp_adapters.logging import configure
from fp_adapters.settings import REPO_ROOT
from fp_core.services.control import RunFacts, read_facts
from fp_core.services.ports_set import PortSet
from fp_core.services.stages import Stages


@contextmanager
def platform(env: str, log_level: str = "WARNING") -> Iterator[tuple[PlatformContainer, PortSet]]:
    """Build and start the env's container; shut its resources down (flush producer) on exit."""
    configure(log_level)
    container = build_container(env)
    container.init_resources()
    try:
        yield container, container.port_set()
    finally:
        container.shutdown_resources()


def git_sha() -> str:
    try:
        out = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def component_versions() -> dict[str, str]:
    out = {"fraud-platform": metadata.version("fraud-platform")}
    for dist in ("confluent-kafka", "psycopg", "redis", "boto3", "pydantic"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


def facts_for(ports: PortSet, platform_run_id: str) -> RunFacts:
    consumer = ports.consumer("fp-facts-reader")
    try:
        return read_facts(consumer, platform_run_id)
    finally:
        consumer.close()


def print_json(payload: Any) -> None:
    print(json.dumps(payload, sort_keys=True, default=str))


def run_stage(env: str, platform_run_id: str, stage: Callable[[Stages, RunFacts], BaseModel]) -> None:
    """Build the env's container, read the run's facts from the control topic, run one stage, print it."""
    with platform(env) as (_c, ports):
        done = stage(Stages(ports), facts_for(ports, platform_run_id))
    print_json(done.model_dump(mode="json"))
