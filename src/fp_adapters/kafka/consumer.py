"""BusConsumer over confluent-kafka: assigned partitions, auto-commit off, synchronous commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from fp_adapters.kafka.names import TopicNames
from fp_adapters.logging import kafka_logger
from fp_core.errors import TransientError
from fp_core.offsets import OriginOffset
from fp_core.ports import BusRecord
from fp_core.ports import TopicPartition as TopicPart


class KafkaBusConsumer:
    def __init__(self, conf: dict[str, Any], group: str, names: TopicNames,
                 max_partition_fetch_bytes: int = 262_144) -> None:
        self._names = names
        self._consumer = Consumer({
            **conf, "logger": kafka_logger(), "group.id": group, "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest", "enable.partition.eof": False,
            "fetch.max.bytes": 52_428_800, "max.partition.fetch.bytes": max_partition_fetch_bytes,
            "queued.max.messages.kbytes": 16_384,
            # librdkafka waits fetch.queue.backoff.ms (default 1,000) before refetching a partition whose
            # local queue filled; a range consumer drains its queue quickly, so ask again soon.
            "fetch.queue.backoff.ms": 10, "fetch.wait.max.ms": 100,
        })

    def _tp(self, tp: TopicPart, offset: int | None = None) -> TopicPartition:
        if offset is None:
            return TopicPartition(self._names.physical(tp[0]), tp[1])
        return TopicPartition(self._names.physical(tp[0]), tp[1], offset)

    def assign(self, positions: Mapping[TopicPart, int]) -> None:
        self._consumer.assign([self._tp(tp, off) for tp, off in sorted(positions.items())])

    def poll_batch(self, max_records: int, timeout_s: float) -> list[BusRecord]:
        out: list[BusRecord] = []
        logical = self._names.logical
        for msg in self._consumer.consume(num_messages=max_records, timeout=timeout_s):
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                raise TransientError(f"consume error: {err.name()}: {err.str()}")
            topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
            assert topic is not None and partition is not None and offset is not None
            out.append(BusRecord(OriginOffset(topic=logical(topic), partition=partition, offset=offset),
                                 msg.key(), msg.value() or b""))
        return out

    def commit(self, next_offsets: Mapping[TopicPart, int]) -> None:
        try:
            result = self._consumer.commit(
                offsets=[self._tp(tp, off) for tp, off in sorted(next_offsets.items())], asynchronous=False)
        except KafkaException as exc:
            raise TransientError(f"offset commit failed: {exc}") from exc
        failed = [f"{p.topic}:{p.partition}" for p in result or [] if p.error is not None]
        if failed:
            raise TransientError(f"offset commit failed for {failed}")

    def committed(self, partitions: Sequence[TopicPart]) -> dict[TopicPart, int | None]:
        got = self._consumer.committed([self._tp(tp) for tp in partitions], timeout=10)
        return {(self._names.logical(p.topic), p.partition): (p.offset if p.offset >= 0 else None) for p in got}

    def end_offsets(self, topics: Sequence[str]) -> dict[TopicPart, int]:
        meta = self._consumer.list_topics(timeout=10)
        out: dict[TopicPart, int] = {}
        for t in topics:
            tmeta = meta.topics.get(self._names.physical(t))
            if tmeta is None or tmeta.error is not None:
                raise TransientError(f"topic {self._names.physical(t)} does not exist on the bus")
            for p in tmeta.partitions:
                _low, high = self._consumer.get_watermark_offsets(self._tp((t, p)), timeout=10, cached=False)
                out[(t, p)] = int(high)
        return out

    def pause(self, partitions: Sequence[TopicPart]) -> None:
        self._consumer.pause([self._tp(tp) for tp in partitions])

    def resume(self, partitions: Sequence[TopicPart]) -> None:
        self._consumer.resume([self._tp(tp) for tp in partitions])

    def close(self) -> None:
        self._consumer.close()
