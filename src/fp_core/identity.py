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
    return event_ids(scenario_run_id)(stream, natural_key)


def event_ids(scenario_run_id: str) -> IdDeriver:
    """A scenario run's event ids, as ``ids(stream, natural_key)`` (WSP derives one per event):
    ``derive_id("event", scenario_run_id, stream, natural_key)``."""
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


def _id_text(kind: str, parts: tuple[str | int, ...], leading: bool = True) -> bytes:
    """The bytes an id hashes: ``kind`` (when ``leading``) and ``parts``, unit-separated, as UTF-8
    (surrogatepass: a lone surrogate, which JSON's \\ud800 escapes can produce, still hashes)."""
    try:
        text = unit_separated([kind, *map(str, parts)] if leading else [*map(str, parts)])
    except ValueError:  # the message names the kind, built only when it is needed
        raise ValueError(f"identifier parts of {kind!r} must not contain the unit separator") from None
    return text.encode("utf-8", "surrogatepass")


def derive_id(kind: str, *parts: str | int) -> str:
    """A 128-bit id for derived records (decisions, receipts, intents), namespaced by ``kind``.

    Parts are joined with the ASCII unit separator, which no identifier may contain.
    """
    return hashlib.sha256(_id_text(kind, parts)).hexdigest()[:32]


class IdDeriver:
    """``derive_id(kind, *leading, *parts)`` for many ids that share their leading parts (a run's event ids,
    a submission's receipt ids): the shared prefix is hashed once and each id hashes only its own parts
    (a copy of the prefix's hash state). The same bytes are hashed, so the ids are derive_id's (a property
    test holds them equal)."""

    def __init__(self, kind: str, *leading: str | int) -> None:
        self._kind = kind
        self._prefix = hashlib.sha256(_id_text(kind, leading) + ID_SEPARATOR.encode())

    def __call__(self, *parts: str | int) -> str:
        if not parts:
            raise ValueError("an id needs at least one part of its own")
        h = self._prefix.copy()
        h.update(_id_text(self._kind, parts, leading=False))
        return h.hexdigest()[:32]


POSITION_DIGITS = 8


class PositionIds:
    """Ids of the records of one batch by their position in it (a submission's receipt ids): the first 24
    hex digits of ``derive_id(kind, *leading)``, then the position as 8 hex digits. A batch's ids are
    consecutive in any key ordered by them, so an index takes its records as appends, a few pages for a
    batch, rather than a page of its own for each (D65)."""

    def __init__(self, kind: str, *leading: str | int) -> None:
        self._prefix = derive_id(kind, *leading)[:32 - POSITION_DIGITS]

    def __call__(self, position: int) -> str:
        if not 0 <= position < 16 ** POSITION_DIGITS:
            raise ValueError(f"a position must be in [0, {16 ** POSITION_DIGITS}), not {position}")
        return f"{self._prefix}{position:0{POSITION_DIGITS}x}"
