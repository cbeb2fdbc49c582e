"""Context items: what the join plane (CSFB) holds for one run, with the offsets they came from."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import msgspec

from fp_core.offsets import OriginOffset


class ContextKind(StrEnum):
    """The kinds of context the join plane holds."""

    ARRIVAL = "arrival"
    ENTITIES = "entities"
    FLOW_ANCHOR = "flow_anchor"


class ContextItem(msgspec.Struct, frozen=True, gc=False):
    """One admitted context event as the join plane stores it, keyed by ``(kind, key)``. Plain data (one is
    built per context event and per join-plane read): whoever builds one from outside input checks it."""

    kind: ContextKind
    key: str
    ts_ms: int
    payload: dict[str, Any]
    origin: OriginOffset
