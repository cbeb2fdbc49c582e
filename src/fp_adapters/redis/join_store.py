"""JoinStore over Redis: context items in one hash per run, card sightings as event-time sorted sets."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import orjson
import redis

from fp_core.context import ContextItem, ContextKind
from fp_core.errors import TransientError
from fp_core.offsets import OriginOffset
from fp_core.ports import TopicPartition


def _ctx_key(run: str) -> str:
    return f"fp:ctx:{run}"


def _ctx_field(kind: ContextKind | str, key: str) -> str:
    return f"{kind}:{key}"


def _card_key(run: str, card_id: str) -> str:
    return f"fp:ofp:card:{run}:{card_id}"


def _positions_key(run: str) -> str:
    return f"fp:jp:positions:{run}"


def _encode(item: ContextItem) -> bytes:
    o = item.origin
    return orjson.dumps([item.kind.value, item.key, item.ts_ms, item.payload, o.topic, o.partition, o.offset])


def _decode(value: bytes) -> ContextItem:
    """What ``_encode`` wrote (the join plane holds only what RTDL checked on the way in)."""
    kind, key, ts, payload, topic, partition, offset = orjson.loads(value)
    return ContextItem(kind=ContextKind(kind), key=key, ts_ms=ts, payload=payload,
                       origin=OriginOffset(topic=topic, partition=partition, offset=offset))


# KEYS: one card key per sighting; ARGV: the TTL, then (member, event time) per sighting
_SIGHT = """
local ttl = ARGV[1]
for i, card in ipairs(KEYS) do
  redis.call('ZADD', card, ARGV[2 * i + 1], ARGV[2 * i])
  redis.call('EXPIRE', card, ttl)
end
return #KEYS
"""
# KEYS: one card key per probe; ARGV: the window, then the event time per probe
_VELOCITY = """
local window = tonumber(ARGV[1])
local out = {}
for i, card in ipairs(KEYS) do
  local ts = tonumber(ARGV[i + 1])
  out[i] = redis.call('ZCOUNT', card, ts - window, '(' .. ARGV[i + 1])
end
return out
"""


T = TypeVar("T")
RESTARTING = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, OSError)
"""What a restarting Redis raises: refused or reset connections, timeouts, ``LOADING`` its AOF."""


class RedisJoinStore:
    """Every call outlasts a Redis restart for up to ``reconnect_s`` (retried whole, with capped
    backoff: each is idempotent), then raises TransientError naming Redis."""

    def __init__(self, client: redis.Redis, ttl_s: int, reconnect_s: float = 30.0) -> None:
        self._r = client
        self._ttl = ttl_s
        self._reconnect_s = reconnect_s
        self._velocity = client.register_script(_VELOCITY)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        deadline = time.monotonic() + self._reconnect_s
        delay = 0.05
        while True:
            try:
                return fn()
            except RESTARTING as exc:
                if time.monotonic() + delay > deadline:
                    raise TransientError(f"redis join store {what} failed for {self._reconnect_s:g} s: {exc}") from exc
                time.sleep(delay)
                delay = min(1.0, delay * 2)
            except redis.RedisError as exc:
                raise TransientError(f"redis join store {what} failed: {exc}") from exc

    def put(self, platform_run_id: str, items: Sequence[ContextItem],
            positions: Mapping[TopicPartition, int] | None = None) -> None:
        """One MULTI/EXEC: the items (one hash per run), the card sightings (one script call) and the
        positions they reflect land together (an AOF truncated by a crash drops a partial transaction
        whole). A handful of commands per batch, however many items: redis-py's per-command cost, not
        Redis, was the join plane's price."""
        values = {_ctx_field(item.kind.value, item.key): _encode(item) for item in items}
        sightings = [(_card_key(platform_run_id, str(item.payload["card_id"])), item.key, item.ts_ms)
                     for item in items if item.kind is ContextKind.ENTITIES]
        ctx_key = _ctx_key(platform_run_id)

        def write() -> Any:  # a pipeline is emptied by execute(), failed or not: built again per attempt
            pipe = self._r.pipeline(transaction=True)
            if values:
                pipe.hset(ctx_key, mapping=values)
                pipe.expire(ctx_key, self._ttl)
            if sightings:
                # EVAL, not the registered script: redis-py checks a pipeline's scripts with SCRIPT EXISTS,
                # one more round trip per write; EVAL of the cached body is safe inside MULTI whatever
                # Redis's script cache holds (an EVALSHA that finds no script would fail alone, after
                # the hash was written).
                pipe.eval(_SIGHT, len(sightings), *(c for c, _m, _t in sightings), str(self._ttl),
                          *(v for _c, m, t in sightings for v in (m, str(t))))
            if positions:
                key = _positions_key(platform_run_id)
                pipe.hset(key, mapping={f"{t}:{p}": off for (t, p), off in positions.items()})
                pipe.expire(key, self._ttl)
            return pipe.execute()
        self._call("write", write)

    def positions(self, platform_run_id: str) -> dict[TopicPartition, int]:
        raw: dict[bytes, bytes] = self._call(
            "read", lambda: self._r.hgetall(_positions_key(platform_run_id)))  # type: ignore[arg-type,return-value]
        out: dict[TopicPartition, int] = {}
        for k, v in raw.items():
            topic, part = k.decode().rsplit(":", 1)
            out[(topic, int(part))] = int(v)
        return out

    def get(self, platform_run_id: str, wanted: Sequence[tuple[ContextKind, str]]
            ) -> dict[tuple[ContextKind, str], ContextItem]:
        if not wanted:
            return {}
        fields = [_ctx_field(k.value, key) for k, key in wanted]
        values: list[bytes | None] = self._call(
            "read", lambda: self._r.hmget(_ctx_key(platform_run_id), fields))  # type: ignore[arg-type,return-value]
        return {w: _decode(v) for w, v in zip(wanted, values, strict=True) if v is not None}

    def card_velocity(self, platform_run_id: str, probes: Sequence[tuple[str, int]], window_ms: int) -> list[int]:
        if not probes:
            return []
        keys = [_card_key(platform_run_id, card) for card, _ts in probes]
        args = [window_ms, *(ts for _card, ts in probes)]
        counts: list[Any] = self._call("counter read", lambda: self._velocity(keys=keys, args=args))
        return [int(n) for n in counts]
