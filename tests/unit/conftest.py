"""Unit tests of the services run over the declared in-memory adapter set, built by the same
composition root as every other environment (each test gets its own memory namespace)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from fp_adapters.containers import Platform, build_container
from fp_adapters.settings import DrillSettings, MemorySettings, load_settings


def memory_container(namespace: str | None = None, commit_interval_s: float | None = None) -> Platform:
    """``commit_interval_s`` overrides how often consumers commit (0: after every batch)."""
    base = load_settings("memory")
    bus = base.bus.model_copy(update={} if commit_interval_s is None else {"commit_interval_s": commit_interval_s})
    settings = base.model_copy(update={"memory": MemorySettings(namespace=namespace or uuid.uuid4().hex),
                                       "drills": DrillSettings(lag_pause_s=0.05), "bus": bus})
    return build_container("memory", settings)


@pytest.fixture
def memory() -> Iterator[Platform]:
    container = memory_container()
    container.init_resources()
    yield container
    container.shutdown_resources()
