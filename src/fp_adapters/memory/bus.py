"""The in-memory bus: topics of the topic map with their partitions; a keyed record goes to
``crc32(key) % partitions``; consumer groups commit offsets. A topic outside the map is never
acknowledged (the delivery is ambiguous, as a real broker's would be after its timeout)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fp_adapters.memory.substrate import MemorySubstrate
from fp_core.offsets import OriginOffset
from fp_core.ports import BusRecord, Delivery, OutboundMessage, TopicPartition
from fp_core.topics import partition_of


class MemProducer:
    def __init__(self, substrate: MemorySubstrate) -> None:
        self._s = substrate

    def publish(self, messages: Sequence[OutboundMessage]) -> list[Delivery]:
        out = []
        with self._s.lock:
            for m in messages:
                partitions = self._s.partitions.get(m.topic)
                if partitions is None:
                    out.append(Delivery(None, f"_UNKNOWN_TOPIC: {m.topic} is not in the topic map"))
                    continue
                p = partition_of(m.key, partitions)
                records = self._s.log[(m.topic, p)]
                records.append((m.key, m.value))
                out.append(Delivery(OriginOffset(topic=m.topic, partition=p, offset=len(records) - 1), None))
        return out

    def close(self) -> None:
        pass


class MemConsumer:
    def __init__(self, substrate: MemorySubstrate, group: str) -> None:
        self._s, self.group = substrate, group
        self.pos: dict[TopicPartition, int] = {}
        self.paused: set[TopicPartition] = set()

    def assign(self, positions: Mapping[TopicPartition, int]) -> None:
        self.pos = dict(positions)
        self.paused.clear()

    def poll_batch(self, max_records: int, timeout_s: float) -> list[BusRecord]:
        out: list[BusRecord] = []
        with self._s.lock:
            for tp in sorted(self.pos):
                if tp in self.paused:
                    continue
                records = self._s.log[tp]
                while self.pos[tp] < len(records) and len(out) < max_records:
                    key, value = records[self.pos[tp]]
                    out.append(BusRecord(OriginOffset(topic=tp[0], partition=tp[1], offset=self.pos[tp]), key,
                                         value))
                    self.pos[tp] += 1
        return out

    def commit(self, next_offsets: Mapping[TopicPartition, int]) -> None:
        with self._s.lock:
            for tp, off in next_offsets.items():
                self._s.committed[(self.group, tp)] = off

    def committed(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int | None]:
        with self._s.lock:
            return {tp: self._s.committed.get((self.group, tp)) for tp in partitions}

    def end_offsets(self, topics: Sequence[str]) -> dict[TopicPartition, int]:
        with self._s.lock:
            return {(t, p): len(self._s.log[(t, p)]) for t in topics for p in range(self._s.partitions[t])}

    def pause(self, partitions: Sequence[TopicPartition]) -> None:
        self.paused.update(partitions)

    def resume(self, partitions: Sequence[TopicPartition]) -> None:
        self.paused.difference_update(partitions)

    def close(self) -> None:
        pass
