"""The run's stages as functions over a port set: the orchestrator calls them in order, and each
component's entrypoint calls one, reading what it needs from the control topic's run facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fp_core import topics
from fp_core.drills import DrillLedger, DrillRecord, drill_spacing
from fp_core.event_class import FRAUD_CLASS_MAP
from fp_core.evidence import RunHeader
from fp_core.identity import derive_id
from fp_core.ports import TopicPartition
from fp_core.run_config import RunConfig
from fp_core.services.archive import ArchiveWriter
from fp_core.services.cm import CaseManager
from fp_core.services.consuming import (
    DrainReport,
    Ends,
    Flush,
    Handler,
    PausePlan,
    RangeConsumer,
    Throttle,
    resolve_end,
)
from fp_core.services.control import (
    StageComplete,
    StreamComplete,
    StreamEndWatcher,
    decode_positions,
    encode_positions,
    publish_fact,
    stage_complete,
)
from fp_core.services.drill_checks import DrillObserver
from fp_core.services.ig import IngestionGate
from fp_core.services.ls import LabelService
from fp_core.services.ports_set import PortSet
from fp_core.services.reporter import Reporter
from fp_core.services.rtdl import DecisionLoop
from fp_core.services.sr import ReadySignal, ScenarioRunner, seal_world
from fp_core.services.wsp import WorldStreamer
from fp_core.world import EVENTS_PER_FLOW

RTDL_GROUP = "fp-rtdl"
CM_GROUP = "fp-cm"
ARCHIVE_GROUP = "fp-archive"
INPUTS = list(topics.RTDL_INPUTS)


@dataclass
class Stages:
    ports: PortSet

    # ---------------------------------------------------------------- SR
    def ready(self, config: RunConfig, platform_run_id: str) -> ReadySignal:
        """Engine output sealed (reused if already sealed), gate checked, run pinned, READY emitted."""
        manifest = seal_world(self.ports.objects, config.seed, config.events)
        start = encode_positions(self.input_start())
        return ScenarioRunner(self.ports.objects, self.ports.producer, self.ports.log).ready(
            manifest.scenario_run_id, platform_run_id, config, start)

    # ---------------------------------------------------------------- WSP + IG
    def input_start(self) -> dict[TopicPartition, int]:
        """Where this run's input (and case-trigger) records will begin: the current end offsets."""
        return self.end_offsets([*INPUTS, topics.CASE_TRIGGERS])

    def stream(self, ready: ReadySignal, rate: float | None = None, batch: int | None = None) -> StreamComplete:
        """WSP into IG; ``rate`` (events/s) paces the offer, as a live source would (benchmarks)."""
        p, pins, config = self.ports, ready.pins, ready.config
        start = decode_positions(ready.input_start)
        ledger = DrillLedger(drills=config.drills, every=drill_spacing(config.events // EVENTS_PER_FLOW))
        gate = IngestionGate(pins, FRAUD_CLASS_MAP, p.admission_index, p.receipts, p.quarantine_index, p.objects,
                             p.producer, p.log)
        report = WorldStreamer(p.objects, gate, FRAUD_CLASS_MAP, p.clock, p.log, batch or config.ingest_batch,
                               rate).stream(pins, ready.stream_view_keys, ledger)
        end = self.end_offsets(INPUTS)
        fact = StreamComplete(
            message_id=derive_id("stream", pins.platform_run_id), platform_run_id=pins.platform_run_id,
            start_offsets=encode_positions(start), end_offsets=encode_positions(end),
            sent_by_class=dict(sorted(report.sent_by_class.items())), outcomes=dict(sorted(report.outcomes.items())),
            submissions=report.submissions, retries=report.retries, drills=ledger.drills, drill_every=ledger.every,
            drill_txn_keys=ledger.txn_keys, drill_injected=ledger.injected)
        publish_fact(p.producer, pins.platform_run_id, fact)
        return fact

    # ---------------------------------------------------------------- RTDL
    def decide(self, ready: ReadySignal, stream: StreamComplete, lag_pause_s: float = 1.5) -> StageComplete:
        """RTDL over a finished stream (the standalone component)."""
        return self.decide_following(ready, self.input_range(stream)[1], lag_pause_s)

    def follow(self, ready: ReadySignal, lag_pause_s: float = 1.5) -> StageComplete:
        """RTDL while WSP/IG may still be streaming: the end is learnt from STREAM_COMPLETE."""
        watcher = StreamEndWatcher(self.ports.consumer("fp-rtdl-watch"), ready.pins.platform_run_id,
                                   self.ports.clock)
        try:
            return self.decide_following(ready, watcher, lag_pause_s)
        finally:
            watcher.close()

    def decide_following(self, ready: ReadySignal, end: Ends, lag_pause_s: float = 1.5) -> StageComplete:
        """RTDL from the run's pinned start offsets up to ``end`` (known, or followed until known)."""
        p, config, run = self.ports, ready.config, ready.pins.platform_run_id
        start = {tp: o for tp, o in decode_positions(ready.input_start).items() if tp[0] in INPUTS}
        loop = DecisionLoop(ready.pins, config.bundle, config.policy, p.join_store, p.audit_log, p.action_log,
                            p.producer, p.log, start, end, p.clock, config.decision_batch)
        pause = PausePlan(max(1, config.events // 3), lag_pause_s) if "lag" in config.drills else None
        drained = self._drain(RTDL_GROUP, run, config.decision_batch, start, end, loop.handle, loop.flush, pause,
                              loop.ahead)
        final = resolve_end(end) or {}
        admitted = sum(final[tp] - start[tp] for tp in start)
        s = loop.stats
        return self._done(run, "rtdl", {
            "consumed": drained.consumed, "admitted_inputs": admitted, "decisions": s.decisions,
            "degraded": s.degraded, "new_action_outcomes": s.new_outcomes, "case_triggers": s.case_triggers,
            "context_items": s.context_items, "foreign_records": s.foreign_records, "max_pending": s.max_pending,
            "consumed_by_topic": dict(sorted(s.consumed_by_topic.items())),
            "commits": drained.commits, "lag": dict(drained.lag),
            "latency_ms": {"consumed_to_durable": s.consumed_to_durable.percentiles(),
                           "ready_to_durable": s.ready_to_durable.percentiles()}})

    # ---------------------------------------------------------------- CM, LS, archive
    def cases(self, ready: ReadySignal, stream: StreamComplete) -> StageComplete:
        run = ready.pins.platform_run_id
        start = {tp: o for tp, o in decode_positions(stream.start_offsets).items() if tp[0] == topics.CASE_TRIGGERS}
        end = self.end_offsets([topics.CASE_TRIGGERS])
        cm = CaseManager(self.ports.cases, run)
        drained = self._drain(CM_GROUP, run, 5_000, start, end, cm.handle)
        return self._done(run, "cm", {"consumed": drained.consumed, "case_events": cm.appended,
                                      "other_runs": cm.foreign})

    def labels(self, ready: ReadySignal) -> StageComplete:
        p = self.ports
        n = LabelService(p.objects, p.labels, p.producer, p.log).ingest_truth(ready.pins, ready.label_keys)
        return self._done(ready.pins.platform_run_id, "ls", {"label_assertions": n})

    def archive(self, ready: ReadySignal, stream: StreamComplete) -> StageComplete:
        run = ready.pins.platform_run_id
        start, end = self.input_range(stream)
        writer = ArchiveWriter(self.ports.objects, run)
        drained = self._drain(ARCHIVE_GROUP, run, 20_000, start, end, writer.handle)
        return self._done(run, "archive", {"consumed": drained.consumed, "objects": sorted(set(writer.written))})

    # ---------------------------------------------------------------- reporter
    def judge_drills(self, ready: ReadySignal, stream: StreamComplete, rtdl: StageComplete | None
                     ) -> list[DrillRecord]:
        p = self.ports
        ledger = DrillLedger(drills=stream.drills, every=stream.drill_every,
                             txn_keys={k: list(v) for k, v in stream.drill_txn_keys.items()},
                             injected={k: dict(v) for k, v in stream.drill_injected.items()})
        stats: Mapping[str, Any] = rtdl.stats if rtdl else {}
        return DrillObserver(ready.pins, p.receipts, p.admission_index, p.quarantine_index, p.audit_log,
                             p.action_log, p.join_store).judge_all(
            ledger, stats.get("lag"), int(stats.get("admitted_inputs", -1)), int(stats.get("consumed", -2)))

    def report(self, ready: ReadySignal, stream: StreamComplete, stages: Mapping[str, StageComplete],
               header: RunHeader, metrics: Mapping[str, Any], attachments: Mapping[str, bytes] | None = None
               ) -> tuple[str, dict[str, bytes], list[DrillRecord]]:
        run = ready.pins.platform_run_id
        drills = self.judge_drills(ready, stream, stages.get("rtdl"))
        archive = stages.get("archive")
        objects = list(archive.stats["objects"]) if archive else []
        ambiguous = self.ports.receipts.unresolved_publishes(run)
        prefix, files = self.reporter().write(run, header, stream.sent_by_class, metrics, drills, RTDL_GROUP,
                                              objects, ambiguous, attachments)
        return prefix, files, drills

    def reporter(self) -> Reporter:
        p = self.ports
        return Reporter(p.objects, p.receipts, p.audit_log, p.action_log, p.cases, p.labels, p.checkpoints,
                        p.join_store)

    # ---------------------------------------------------------------- helpers
    def input_range(self, stream: StreamComplete) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
        start = {tp: o for tp, o in decode_positions(stream.start_offsets).items() if tp[0] in INPUTS}
        return start, decode_positions(stream.end_offsets)

    def end_offsets(self, names: list[str]) -> dict[TopicPartition, int]:
        consumer = self.ports.consumer("fp-run-probe")
        try:
            return consumer.end_offsets(names)
        finally:
            consumer.close()

    def _done(self, run: str, stage: str, stats: Mapping[str, Any]) -> StageComplete:
        fact = stage_complete(run, stage, stats)
        publish_fact(self.ports.producer, run, fact)
        return fact

    def _drain(self, group: str, run: str, max_batch: int, start: Mapping[TopicPartition, int],
               end: Ends, handle: Handler, flush: Flush | None = None,
               pause: PausePlan | None = None, throttle: Throttle | None = None) -> DrainReport:
        consumer = self.ports.consumer(group)
        try:
            return RangeConsumer(consumer, self.ports.checkpoints, self.ports.clock, self.ports.log, run, group,
                                 max_batch).drain(start, end, handle, flush, pause, throttle)
        finally:
            consumer.close()
