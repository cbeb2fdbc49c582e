"""Deterministic identities: event ids, payload hashes, dedupe keys, derived record ids."""

from __future__ import annotations

from typing import Any, NamedTuple

from fp_core.canonical import digest, short_digest


class DedupeKey(NamedTuple):
    """The admission identity, exactly ``(platform_run_id, event_class, event_id)``."""

    platform_run_id: str
    event_class: str
    event_id: str


def derive_event_id(scenario_run_id: str, stream: str, natural_key: str) -> str:
    """Stable across retries and replays: a function of scenario, stream and natural key only."""
    return short_digest(["event", scenario_run_id, stream, natural_key])


def payload_hash(payload: Any) -> str:
    """SHA-256 of the canonical payload; key order and whitespace never change it."""
    return digest(payload)


def derive_id(kind: str, *parts: str | int) -> str:
    """A 128-bit id for derived records (decisions, receipts, intents), namespaced by ``kind``."""
    return short_digest([kind, *parts])
