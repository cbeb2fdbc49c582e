"""BusProducer over confluent-kafka: async produce, every delivery report collected, acks=all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, Producer

from fp_adapters.kafka.names import TopicNames
from fp_adapters.logging import kafka_logger
from fp_core.offsets import OriginOffset
from fp_core.ports import Delivery, OutboundMessage


class KafkaBusProducer:
    def __init__(self, conf: dict[str, Any], names: TopicNames, linger_ms: int = 20,
                 delivery_timeout_s: float = 60.0) -> None:
        self._names = names
        self._timeout = delivery_timeout_s
        self._producer = Producer({
            **conf, "logger": kafka_logger(), "enable.idempotence": True, "acks": "all", "linger.ms": linger_ms,
            "partitioner": "consistent",  # CRC-32 of the key: fp_core.topics.partition_of
            "batch.num.messages": 10_000, "queue.buffering.max.messages": 1_000_000,
            "queue.buffering.max.kbytes": 1_048_576, "message.timeout.ms": int(delivery_timeout_s * 1000),
        })

    def publish(self, messages: Sequence[OutboundMessage]) -> list[Delivery]:
        results: list[Delivery | None] = [None] * len(messages)
        names = self._names

        def report(i: int) -> Any:
            def on_delivery(err: KafkaError | None, msg: Any) -> None:
                if err is None:
                    results[i] = Delivery(OriginOffset(
                        topic=names.logical(msg.topic()), partition=msg.partition(), offset=msg.offset()), None)
                else:
                    results[i] = Delivery(None, f"{err.name()}: {err.str()}")
            return on_delivery

        produce = self._producer.produce
        for i, m in enumerate(messages):
            while True:
                try:
                    produce(names.physical(m.topic), m.value, m.key, on_delivery=report(i))
                    break
                except BufferError:
                    self._producer.poll(0.05)
        remaining = self._producer.flush(self._timeout)
        return [r if r is not None else Delivery(None, f"no delivery report within {self._timeout}s "
                                                       f"({remaining} in flight)") for r in results]

    def close(self) -> None:
        """Deliver what is queued, then let the client go: its threads end with it, so a process that
        builds another container later can still fork (``fp_adapters.stage_process.can_fork``)."""
        self._producer.flush(self._timeout)
        del self._producer
