"""Canonical JSON and SHA-256 digests: the one way the platform turns values into stable bytes.

The reference form is the standard library's ``json.dumps`` (sorted keys, no insignificant whitespace,
UTF-8, no NaN). ``canonical_json`` produces exactly those bytes, faster: orjson encodes first, and the
output is used only when it cannot differ from the reference; orjson writes small floats without an
exponent (``0.00001``), pads no exponent (``e-8``) and turns NaN into ``null``, so any output with those
shapes (even inside a string, where it only costs the slower path) is encoded again by the reference.
A property test holds the two equal over floats, non-ASCII text, nesting and key order.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
_MAY_DIFFER = re.compile(rb"null|0\.0000|e[-+][0-9](?![0-9])")


def reference_json(value: Any) -> bytes:
    """The definition of canonical JSON (the standard library's encoder)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant whitespace, UTF-8, no NaN: equal values give equal bytes
    (byte-identical to ``reference_json``)."""
    try:
        out = orjson.dumps(value, option=_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):  # big integers, non-string keys, other types
        return reference_json(value)
    return reference_json(value) if _may_differ(out) else out


def _may_differ(out: bytes) -> bool:
    """``_MAY_DIFFER`` matches only where one of these substrings is (a substring test is a memchr scan,
    the regex a Python-level one), so the regex runs only when it may match."""
    return ((b"null" in out or b"0.0000" in out or b"e-" in out or b"e+" in out)
            and _MAY_DIFFER.search(out) is not None)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(value: Any) -> str:
    """SHA-256 over the canonical JSON of ``value``."""
    return sha256_hex(canonical_json(value))


def short_digest(value: Any, length: int = 32) -> str:
    """A digest prefix used for identifiers (128 bits by default)."""
    return digest(value)[:length]
