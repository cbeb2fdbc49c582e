"""JoinStore over Redis: context items as JSON strings, card sightings as event-time sorted sets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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


class RedisJoinStore:
    def __init__(self, client: redis.Redis, ttl_s: int) -> None:
        self._r = client
        self._ttl = ttl_s

    def put(self, platform_run_id: str, items: Sequence[ContextItem],
            positions: Mapping[TopicPartition, int] | None = None) -> None:
        """One MULTI/EXEC: the items, the card sightings and the positions they reflect land together
        (an AOF truncated by a crash drops a partial transaction whole)."""
        pipe = self._r.pipeline(transaction=True)
        cards: set[str] = set()
        for item in items:
            pipe.set(_ctx_key(platform_run_id, item.kind.value, item.key), item.model_dump_json(), ex=self._ttl)
            if item.kind is ContextKind.ENTITIES:
                card = _card_key(platform_run_id, str(item.payload["card_id"]))
                pipe.zadd(card, {item.key: item.ts_ms})
                cards.add(card)
        for card in cards:
            pipe.expire(card, self._ttl)
        if positions:
            key = _positions_key(platform_run_id)
            pipe.hset(key, mapping={f"{t}:{p}": off for (t, p), off in positions.items()})
            pipe.expire(key, self._ttl)
        try:
            pipe.execute()
        except redis.RedisError as exc:
            raise TransientError(f"redis join store write failed: {exc}") from exc

    def positions(self, platform_run_id: str) -> dict[TopicPartition, int]:
        try:
            raw: dict[bytes, bytes] = self._r.hgetall(_positions_key(platform_run_id))  # type: ignore[assignment]
        except redis.RedisError as exc:
            raise TransientError(f"redis join store read failed: {exc}") from exc
        out: dict[TopicPartition, int] = {}
        for k, v in raw.items():
            topic, part = k.decode().rsplit(":", 1)
            out[(topic, int(part))] = int(v)
        return out

    def get(self, platform_run_id: str, wanted: Sequence[tuple[ContextKind, str]]
            ) -> dict[tuple[ContextKind, str], ContextItem]:
        if not wanted:
            return {}
        try:
            values: list[bytes | None] = self._r.mget(  # type: ignore[assignment]
                [_ctx_key(platform_run_id, k.value, key) for k, key in wanted])
        except redis.RedisError as exc:
            raise TransientError(f"redis join store read failed: {exc}") from exc
        return {w: ContextItem.model_validate_json(v) for w, v in zip(wanted, values, strict=True) if v is not None}

    def card_velocity(self, platform_run_id: str, probes: Sequence[tuple[str, int]], window_ms: int) -> list[int]:
        if not probes:
            return []
        pipe = self._r.pipeline(transaction=False)
        for card, ts in probes:
            pipe.zcount(_card_key(platform_run_id, card), ts - window_ms, f"({ts}")
        try:
            return [int(n) for n in pipe.execute()]
        except redis.RedisError as exc:
            raise TransientError(f"redis counter read failed: {exc}") from exc
