"""The ingress boundary's rules, pure: who a caller is (an API key per producer, compared in constant
time), which runs it may submit to, how fast (a token bucket per producer), and how a request body
becomes the raw events IG screens (NDJSON split on ``\\n`` only, or a JSON array)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from fp_core.errors import PlatformError

NDJSON = "application/x-ndjson"
JSON = "application/json"


class BatchRejected(PlatformError):
    """A request body that is not a batch at all (a 4xx naming the field), as opposed to bad events
    inside a batch (each gets its QUARANTINE receipt)."""

    def __init__(self, field_name: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.field, self.message, self.status = field_name, message, status


def key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


@dataclass(frozen=True)
class ProducerGrant:
    """A producer: its id, the SHA-256 of its API key (the key itself is not kept), and the runs it may
    submit to (exact ids, or a prefix ending in ``*``; ``*`` is every run)."""

    producer_id: str
    key_sha256: bytes
    runs: tuple[str, ...] = ("*",)

    def may_submit_to(self, platform_run_id: str) -> bool:
        return any(platform_run_id == r or (r.endswith("*") and platform_run_id.startswith(r[:-1]))
                   for r in self.runs)


@dataclass(frozen=True)
class Authenticator:
    grants: tuple[ProducerGrant, ...]

    def authenticate(self, presented: str | None) -> ProducerGrant | None:
        """The producer whose key was presented, or None. Every grant is compared (no early exit) with
        ``hmac.compare_digest`` on digests of equal length, so timing says nothing about the key."""
        if not presented:
            return None
        digest = key_digest(presented)
        found: ProducerGrant | None = None
        for grant in self.grants:
            if hmac.compare_digest(digest, grant.key_sha256):
                found = grant
        return found


@dataclass
class TokenBucket:
    """``rate`` events per second, up to ``burst`` at once, per producer; times come from the caller."""

    rate: float
    burst: float
    _tokens: dict[str, float] = field(default_factory=dict)
    _at: dict[str, float] = field(default_factory=dict)

    def take(self, producer: str, n: int, now: float) -> float:
        """Take ``n`` tokens; 0.0 when granted, else the seconds to wait before asking again (nothing
        is taken). A batch larger than ``burst`` can never pass: the caller caps batches below it."""
        tokens = min(self.burst, self._tokens.get(producer, self.burst) + (now - self._at.get(producer, now))
                     * self.rate)
        self._at[producer] = now
        if n <= tokens:
            self._tokens[producer] = tokens - n
            return 0.0
        self._tokens[producer] = tokens
        return (n - tokens) / self.rate


def split_batch(body: bytes, content_type: str, max_events: int, max_bytes: int) -> list[bytes]:
    """The raw events of a request body: NDJSON lines (split on ``\\n`` only; empty lines skipped), or
    the elements of a JSON array (each re-encoded compactly). Raises BatchRejected naming the field."""
    if len(body) > max_bytes:
        raise BatchRejected("body", f"body is {len(body)} bytes; the limit is {max_bytes}", 413)
    kind = content_type.split(";", 1)[0].strip().lower()
    raws: Sequence[bytes]
    if kind == NDJSON:
        raws = [line for line in body.split(b"\n") if line.strip()]
    elif kind == JSON:
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise BatchRejected("body", f"body is not JSON: {str(exc)[:200]}") from exc
        if not isinstance(doc, list):
            raise BatchRejected("body", f"body must be a JSON array of events, not {type(doc).__name__}")
        try:
            raws = [json.dumps(e, separators=(",", ":"), allow_nan=True).encode() for e in doc]
        except (ValueError, RecursionError) as exc:
            raise BatchRejected("body", f"an element cannot be re-encoded: {str(exc)[:200]}") from exc
    else:
        raise BatchRejected("content-type", f"content-type must be {NDJSON} or {JSON}, not {kind or 'absent'!r}",
                            415)
    if not raws:
        raise BatchRejected("body", "the batch holds no event")
    if len(raws) > max_events:
        raise BatchRejected("body", f"the batch holds {len(raws)} events; the limit is {max_events}", 413)
    return list(raws)
