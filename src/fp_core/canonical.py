"""Canonical JSON and SHA-256 digests: the one way the platform turns values into stable bytes."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant whitespace, UTF-8, no NaN: equal values give equal bytes."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(value: Any) -> str:
    """SHA-256 over the canonical JSON of ``value``."""
    return sha256_hex(canonical_json(value))


def short_digest(value: Any, length: int = 32) -> str:
    """A digest prefix used for identifiers (128 bits by default)."""
    return digest(value)[:length]
