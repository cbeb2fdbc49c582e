"""The one consume loop every bus consumer runs: poll a batch, make it durable, checkpoint, commit.

Offsets advance only to what the handler reports durable; the consumed ranges are appended to the
checkpoint log before the commit, so evidence never claims less than what was committed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from fp_core.errors import TransientError
from fp_core.offsets import OffsetRange
from fp_core.ports import NO_TRACE, BusConsumer, BusRecord, CheckpointLog, Clock, Log, TopicPartition, Tracer

Handler = Callable[[Sequence[BusRecord]], Mapping[TopicPartition, int]]
Flush = Callable[[], Mapping[TopicPartition, int]]
Throttle = Callable[[], Collection[TopicPartition]]
EndSource = Callable[[], Mapping[TopicPartition, int] | None]
Ends = Mapping[TopicPartition, int] | EndSource


def resolve_end(end: Ends) -> Mapping[TopicPartition, int] | None:
    return end() if callable(end) else end


@dataclass
class DrainReport:
    consumed: int = 0
    batches: int = 0
    commits: int = 0
    final_lag: int = 0
    """Records between what was committed and the end, when the drain finished (0 when caught up)."""
    ranges: list[OffsetRange] = field(default_factory=list)
    max_lag_by_topic: dict[str, int] = field(default_factory=dict)
    """Per topic, the most records seen between the committed position and the known end offsets."""


@dataclass
class RangeConsumer:
    consumer: BusConsumer
    checkpoints: CheckpointLog
    clock: Clock
    log: Log
    platform_run_id: str
    group: str
    max_batch: int = 5_000
    stall_timeout_s: float = 60.0
    tracer: Tracer = NO_TRACE
    poll_timeout_s: float = 0.02
    """How long a poll waits to fill a batch: a backlog fills it at once, a trickle is handled every
    ``poll_timeout_s`` (so batches are small under low load and large under high; D51)."""
    commit_interval_s: float = 0.2
    """Durable offsets are checkpointed and committed at most this often (and always at the end): a
    checkpoint per 20 ms poll cost RTDL a tenth of its time; a crash redoes at most this much work,
    which every handler does idempotently (D52)."""

    def drain(self, start: Mapping[TopicPartition, int], end: Ends, handle: Handler,
              flush: Flush | None = None, throttle: Throttle | None = None) -> DrainReport:
        """Consume every partition from ``start`` up to (excluding) ``end``, then flush and commit.

        ``end`` may be a callable returning None while the producing side is still writing: the
        consumer follows it and finishes once the end offsets are known and reached.
        """
        report = DrainReport()
        held: set[TopicPartition] = set()
        position = dict(start)
        committed = dict(start)
        end_now = resolve_end(end)
        todo = set(start) if end_now is None else {tp for tp in start if start[tp] < end_now.get(tp, 0)}
        if todo:
            self.consumer.assign({tp: start[tp] for tp in todo})
        self.log.info("consumer.assigned", platform_run_id=self.platform_run_id, group=self.group,
                      partitions=len(todo), following=end_now is None)
        last_progress = self.clock.monotonic()
        last_commit = -self.commit_interval_s
        pending: dict[TopicPartition, int] = {}  # durable, not yet committed
        while True:
            if end_now is None:
                end_now = resolve_end(end)
                last_progress = self.clock.monotonic()
            if end_now is not None and not any(position[tp] < end_now.get(tp, 0) for tp in todo):
                break
            # Ask only for what remains: a poll for more than the range holds waits out its timeout.
            remaining = (self.max_batch if end_now is None else
                         sum(max(0, end_now.get(tp, 0) - position[tp]) for tp in todo))
            records = self.consumer.poll_batch(max(1, min(self.max_batch, remaining)), self.poll_timeout_s)
            if not records and pending:  # idle: make what is durable committed now
                self._commit(pending, committed, report)
                pending.clear()
            if not records:
                if end_now is not None and self.clock.monotonic() - last_progress > self.stall_timeout_s:
                    missing = {f"{t}:{p}": end_now[(t, p)] - position[(t, p)] for t, p in todo
                               if position[(t, p)] < end_now[(t, p)]}
                    raise TransientError(f"{self.group}: no records for {self.stall_timeout_s}s; "
                                         f"still expected {missing}")
                continue
            last_progress = self.clock.monotonic()
            for r in records:
                tp = (r.origin.topic, r.origin.partition)
                position[tp] = max(position.get(tp, 0), r.origin.offset + 1)
            report.consumed += len(records)
            report.batches += 1
            with self.tracer.span(f"{self.group}.batch", platform_run_id=self.platform_run_id, records=len(records)):
                for tp, off in handle(records).items():
                    pending[tp] = max(off, pending.get(tp, off))
                if last_progress - last_commit >= self.commit_interval_s:
                    if self._commit(pending, committed, report):
                        last_commit = last_progress
                    pending.clear()
            if end_now is not None:
                self._observe_lag(end_now, committed, todo, report)
            if throttle is not None:
                held = self._hold(set(throttle()) & todo, held)
        self._commit(pending, committed, report)
        if flush is not None:
            self._commit(flush(), committed, report)
        assert end_now is not None
        report.final_lag = sum(max(0, end_now[tp] - committed.get(tp, 0)) for tp in todo)
        return report

    @staticmethod
    def _observe_lag(end: Mapping[TopicPartition, int], committed: Mapping[TopicPartition, int],
                     todo: set[TopicPartition], report: DrainReport) -> None:
        lag: dict[str, int] = {}
        for tp in todo:
            lag[tp[0]] = lag.get(tp[0], 0) + max(0, end.get(tp, 0) - committed.get(tp, 0))
        for topic, n in lag.items():
            if n > report.max_lag_by_topic.get(topic, -1):
                report.max_lag_by_topic[topic] = n

    def _hold(self, wanted: set[TopicPartition], held: set[TopicPartition]) -> set[TopicPartition]:
        """Flow control: pause the partitions the handler says are too far ahead, resume the others."""
        if wanted - held:
            self.consumer.pause(sorted(wanted - held))
        if held - wanted:
            self.consumer.resume(sorted(held - wanted))
        return wanted

    def _commit(self, safe: Mapping[TopicPartition, int], committed: dict[TopicPartition, int],
                report: DrainReport) -> bool:
        """Checkpoint and commit what advanced; whether anything did."""
        advanced = {tp: off for tp, off in safe.items() if off > committed.get(tp, 0)}
        if not advanced:
            return False
        ranges = [OffsetRange(topic=t, partition=p, start_offset=committed.get((t, p), 0), end_offset=off - 1)
                  for (t, p), off in sorted(advanced.items())]
        self.checkpoints.record(self.platform_run_id, self.group, ranges)
        self.consumer.commit(advanced)
        committed.update(advanced)
        report.ranges.extend(ranges)
        report.commits += 1
        return True


class OffsetProbe:
    """End offsets of topics, read on a short-lived consumer."""

    def __init__(self, consumer: Callable[[str], BusConsumer]) -> None:
        self._consumer = consumer

    def end_offsets(self, names: Sequence[str]) -> dict[TopicPartition, int]:
        consumer = self._consumer("fp-run-probe")
        try:
            return consumer.end_offsets(list(names))
        finally:
            consumer.close()


@dataclass
class Drainer:
    """Runs ``RangeConsumer.drain`` for a consumer group on a consumer of its own, closed afterwards."""

    consumer: Callable[[str], BusConsumer]
    checkpoints: CheckpointLog
    clock: Clock
    log: Log
    tracer: Tracer = NO_TRACE
    commit_interval_s: float = 0.2

    def resume_positions(self, group: str, platform_run_id: str, start: Mapping[TopicPartition, int],
                         rewind: Mapping[TopicPartition, int] | None = None) -> dict[TopicPartition, int]:
        """Where a (re)started consumer of this run picks up: after the ranges its checkpoint log says are
        durable (never before the run's start), lowered to ``rewind`` where state must be re-read."""
        done = dict(start)
        for r in self.checkpoints.ranges(platform_run_id, group):
            tp = (r.topic, r.partition)
            if tp in done:
                done[tp] = max(done[tp], r.end_offset + 1)
        for tp, pos in (rewind or {}).items():
            done[tp] = max(start[tp], min(done[tp], pos))
        return done

    def drain(self, group: str, platform_run_id: str, max_batch: int, start: Mapping[TopicPartition, int],
              end: Ends, handle: Handler, flush: Flush | None = None, throttle: Throttle | None = None,
              decorate: Callable[[BusConsumer], BusConsumer] | None = None) -> DrainReport:
        """``decorate`` wraps the group's consumer (a drill's pausing consumer) before the drain."""
        consumer = self.consumer(group)
        if decorate is not None:
            consumer = decorate(consumer)
        try:
            return self.drain_on(consumer, group, platform_run_id, max_batch, start, end, handle, flush, throttle)
        finally:
            consumer.close()

    def drain_on(self, consumer: BusConsumer, group: str, platform_run_id: str, max_batch: int,
                 start: Mapping[TopicPartition, int], end: Ends, handle: Handler, flush: Flush | None = None,
                 throttle: Throttle | None = None, record: bool = True) -> DrainReport:
        """The consume loop on a given consumer; ``record=False`` (a replay) leaves the checkpoint log alone."""
        return RangeConsumer(consumer, self.checkpoints if record else NoCheckpoints(), self.clock, self.log,
                             platform_run_id, group, max_batch, tracer=self.tracer,
                             commit_interval_s=self.commit_interval_s).drain(start, end, handle, flush, throttle)


class NoCheckpoints:
    """Records no consumed ranges: for a replay, which must leave the run's checkpoint log untouched."""

    def record(self, platform_run_id: str, consumer_group: str, ranges: Sequence[OffsetRange]) -> None:
        pass

    def ranges(self, platform_run_id: str, consumer_group: str) -> list[OffsetRange]:
        return []
