"""JoinStore over Redis: context items as JSON strings, card sightings as event-time sorted sets."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import redis

from fp_core.context import ContextItem, ContextKind
from fp_core.errors import TransientError
from fp_core.ports import TopicPartition


def _ctx_key(run: str, kind: ContextKind | str, key: str) -> str:
    return f"fp:ctx:{run}:{kind}:{key}"


def _card_key(run: str, card_id: str) -> str:
    return f"fp:ofp:card:{run}:{card_id}"


def _positions_key(run: str) -> str:
    return f"fp:jp:positions:{run}"


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
        """One MULTI/EXEC: the items, the card sightings and the positions they reflect land together
        (an AOF truncated by a crash drops a partial transaction whole)."""
        values = [(_ctx_key(platform_run_id, item.kind.value, item.key), item.model_dump_json()) for item in items]
        sightings = [(_card_key(platform_run_id, str(item.payload["card_id"])), item.key, item.ts_ms)
                     for item in items if item.kind is ContextKind.ENTITIES]

        def write() -> Any:  # a pipeline is emptied by execute(), failed or not: built again per attempt
            pipe = self._r.pipeline(transaction=True)
            for key, value in values:
                pipe.set(key, value, ex=self._ttl)
            for card, member, ts in sightings:
                pipe.zadd(card, {member: ts})
            for card in {c for c, _m, _t in sightings}:
                pipe.expire(card, self._ttl)
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
        keys = [_ctx_key(platform_run_id, k.value, key) for k, key in wanted]
        values: list[bytes | None] = self._call("read", lambda: self._r.mget(keys))  # type: ignore[arg-type,return-value]
        return {w: ContextItem.model_validate_json(v) for w, v in zip(wanted, values, strict=True) if v is not None}

    def card_velocity(self, platform_run_id: str, probes: Sequence[tuple[str, int]], window_ms: int) -> list[int]:
        if not probes:
            return []
        def count() -> list[Any]:
            pipe = self._r.pipeline(transaction=False)
            for card, ts in probes:
                pipe.zcount(_card_key(platform_run_id, card), ts - window_ms, f"({ts}")
            return pipe.execute()
        return [int(n) for n in self._call("counter read", count)]
