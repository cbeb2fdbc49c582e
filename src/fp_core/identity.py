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


def event_ids(scenario_run_id: str) -> IdDeriver:
    """``derive_event_id`` for one scenario run, as ``ids(stream, natural_key)`` (WSP derives one per event)."""
    return IdDeriver("event", scenario_run_id)


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


class IdDeriver:
    """``derive_id(kind, *leading, *parts)`` for many ids that share their leading parts (a run's event ids,
    a submission's receipt ids): the shared prefix is hashed once and each id hashes only its own parts
    (a copy of the prefix's hash state), about half the cost per id. The same text is hashed, so the ids
    are derive_id's (a property test holds them equal)."""

    def __init__(self, kind: str, *leading: str | int) -> None:
        self._what = f"identifier parts of {kind!r}"
        prefix = unit_separated([kind, *map(str, leading)], self._what) + ID_SEPARATOR
        self._prefix = hashlib.sha256(prefix.encode("utf-8", "surrogatepass"))

    def __call__(self, *parts: str | int) -> str:
        if not parts:
            raise ValueError("an id needs at least one part of its own")
        text = unit_separated([*map(str, parts)], self._what)
        h = self._prefix.copy()
        h.update(text.encode("utf-8", "surrogatepass"))
        return h.hexdigest()[:32]
