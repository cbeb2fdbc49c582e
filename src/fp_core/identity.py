"""Deterministic identities: event ids, payload hashes, dedupe keys, derived record ids."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, NamedTuple

from fp_core.canonical import digest


class DedupeKey(NamedTuple):
    """The admission identity, exactly ``(platform_run_id, event_class, event_id)``."""

    platform_run_id: str
    event_class: str
    event_id: str


ID_SEPARATOR = "\x1f"


def derive_event_id(scenario_run_id: str, stream: str, natural_key: str) -> str:
    """Stable across retries and replays: a function of scenario, stream and natural key only."""
    return derive_id("event", scenario_run_id, stream, natural_key)


def payload_hash(payload: Any) -> str:
    """SHA-256 of the canonical payload; key order and whitespace never change it."""
    return digest(payload)


def unit_separated(values: Sequence[str], what: str = "values") -> str:
    """``values`` joined with the ASCII unit separator; ValueError when one of them holds it (the text
    would not split back into them)."""
    text = ID_SEPARATOR.join(values)
    if text.count(ID_SEPARATOR) != max(len(values) - 1, 0):
        raise ValueError(f"{what} must not contain the unit separator")
    return text


def derive_id(kind: str, *parts: str | int) -> str:
    """A 128-bit id for derived records (decisions, receipts, intents), namespaced by ``kind``.

    Parts are joined with the ASCII unit separator, which no identifier may contain.
    """
    text = unit_separated([kind, *map(str, parts)], f"identifier parts of {kind!r}")
    # surrogatepass: a lone surrogate (which JSON's \ud800 escapes can produce) still hashes, never raises
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
