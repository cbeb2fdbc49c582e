"""The platform run (seed 12.2): stages 1-7 over one port set, with a partial bundle on failure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fp_core import topics
from fp_core.drills import DrillLedger, drill_spacing
from fp_core.event_class import FRAUD_CLASS_MAP
from fp_core.evidence import RunHeader
from fp_core.offsets import OffsetRange
from fp_core.ports import (
    ActionLog,
    AdmissionIndex,
    AuditLog,
    BusConsumer,
    BusProducer,
    CaseStore,
    CheckpointLog,
    Clock,
    JoinStore,
    LabelStore,
    Log,
    ObjectStore,
    QuarantineIndex,
    ReceiptLog,
    TopicPartition,
)
from fp_core.run_config import RunConfig, config_digest
from fp_core.services.archive import ArchiveWriter
from fp_core.services.cm import CaseManager
from fp_core.services.consuming import DrainReport, Flush, Handler, PausePlan, RangeConsumer
from fp_core.services.drill_checks import DrillObserver
from fp_core.services.ig import IngestionGate
from fp_core.services.ls import LabelService
from fp_core.services.reporter import Reporter
from fp_core.services.rtdl import DecisionLoop
from fp_core.services.sr import ScenarioRunner, seal_world
from fp_core.services.wsp import WorldStreamer, iso_utc
from fp_core.world import EVENTS_PER_FLOW, scenario_run_id_for

RTDL_GROUP = "fp-rtdl"
CM_GROUP = "fp-cm"
ARCHIVE_GROUP = "fp-archive"


@dataclass
class PortSet:
    """Everything a run needs from a substrate; built by the environment's DI container."""

    env: str
    objects: ObjectStore
    producer: BusProducer
    consumer: Callable[[str], BusConsumer]
    admission_index: AdmissionIndex
    receipts: ReceiptLog
    quarantine_index: QuarantineIndex
    join_store: JoinStore
    audit_log: AuditLog
    action_log: ActionLog
    cases: CaseStore
    labels: LabelStore
    checkpoints: CheckpointLog
    clock: Clock
    log: Log


@dataclass
class RunResult:
    platform_run_id: str
    scenario_run_id: str
    status: str
    evidence_uri: str
    summary: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class RunWorkflow:
    ports: PortSet
    evidence_uri: Callable[[str], str]
    git_sha: str = "unknown"
    component_versions: Mapping[str, str] = field(default_factory=dict)
    progress: Callable[[str], None] = lambda stage: None
    lag_pause_s: float = 1.5

    def run(self, config: RunConfig, platform_run_id: str) -> RunResult:
        p = self.ports
        started_ms = p.clock.now_ms()
        scenario = scenario_run_id_for(config.seed, config.events)
        durations: dict[str, float] = {}
        counts: dict[str, Any] = {}
        consumed: list[OffsetRange] = []
        header: RunHeader | None = None
        stage = "preconditions"

        def timed(name: str, fn: Callable[[], Any]) -> Any:
            nonlocal stage
            stage = name
            self.progress(name)
            t0 = p.clock.monotonic()
            out = fn()
            durations[name] = round(p.clock.monotonic() - t0, 3)
            return out

        def make_header(ended: int | None) -> RunHeader:
            pins = ready.pins.model_dump(mode="json") if ready else {}
            return RunHeader(platform_run_id=platform_run_id, scenario_run_id=scenario, env=p.env,
                             started_at=iso_utc(started_ms), ended_at=iso_utc(ended) if ended else None,
                             config=config.model_dump(mode="json"), config_digest=config_digest(config),
                             pins=pins, git_sha=self.git_sha, component_versions=dict(self.component_versions))

        ready = None
        try:
            manifest = timed("oracle", lambda: seal_world(p.objects, config.seed, config.events))
            ready = timed("sr_ready", lambda: ScenarioRunner(p.objects, p.producer, p.log).ready(
                manifest.scenario_run_id, platform_run_id, config))
            header = make_header(None)
            pins = ready.pins
            inputs = list(topics.RTDL_INPUTS)
            start = self._end_offsets([*inputs, topics.CASE_TRIGGERS])
            ledger = DrillLedger(drills=config.drills,
                                 every=drill_spacing(config.events // EVENTS_PER_FLOW))
            gate = IngestionGate(pins, FRAUD_CLASS_MAP, p.admission_index, p.receipts, p.quarantine_index,
                                 p.objects, p.producer, p.log)
            streamer = WorldStreamer(p.objects, gate, FRAUD_CLASS_MAP, p.clock, p.log, config.ingest_batch)
            report = timed("wsp_ig", lambda: streamer.stream(pins, ready.stream_view_keys, ledger))
            counts.update(sent=report.sent, ingress=dict(report.outcomes), submissions=report.submissions,
                          wsp_retries=report.retries)
            end = self._end_offsets(inputs)
            in_start = {tp: o for tp, o in start.items() if tp[0] in inputs}
            in_end = {tp: o for tp, o in end.items() if tp[0] in inputs}
            admitted_inputs = sum(in_end[tp] - in_start[tp] for tp in in_end)

            loop = DecisionLoop(pins, config.bundle, config.policy, p.join_store, p.audit_log, p.action_log,
                                p.producer, p.log, in_end, config.decision_batch)
            pause = PausePlan(after_records=max(1, admitted_inputs // 3), pause_s=self.lag_pause_s) \
                if "lag" in config.drills else None
            drained = timed("rtdl", lambda: self._drain(RTDL_GROUP, platform_run_id, config.decision_batch,
                                                        in_start, in_end, loop.handle, loop.flush, pause))
            consumed.extend(drained.ranges)
            counts.update(decisions=loop.stats.decisions, degraded=loop.stats.degraded,
                          rtdl_consumed=drained.consumed, case_triggers=loop.stats.case_triggers)

            ct_end = self._end_offsets([topics.CASE_TRIGGERS])
            cm = CaseManager(p.cases, platform_run_id)
            ct_start = {tp: o for tp, o in start.items() if tp[0] == topics.CASE_TRIGGERS}
            timed("cm", lambda: self._drain(CM_GROUP, platform_run_id, 5_000, ct_start, ct_end, cm.handle))
            labelled = timed("ls", lambda: LabelService(p.objects, p.labels, p.producer, p.log).ingest_truth(
                pins, ready.label_keys))
            archive = ArchiveWriter(p.objects, platform_run_id)
            timed("archive", lambda: self._drain(ARCHIVE_GROUP, platform_run_id, 20_000, in_start, in_end,
                                                 archive.handle))
            counts.update(case_events=cm.appended, label_assertions=labelled,
                          archive_objects=len(archive.written))

            observer = DrillObserver(pins, p.receipts, p.admission_index, p.quarantine_index, p.audit_log,
                                     p.action_log, p.join_store)
            drills = timed("drills", lambda: observer.judge_all(ledger, drained.lag, admitted_inputs,
                                                               drained.consumed))
            rates = {"events_per_s_wsp_ig": _rate(report.sent, durations.get("wsp_ig")),
                     "events_per_s_rtdl": _rate(drained.consumed, durations.get("rtdl")),
                     "events_per_s_end_to_end": _rate(report.sent, sum(
                         durations.get(s, 0.0) for s in ("sr_ready", "wsp_ig", "rtdl", "cm", "ls", "archive")))}
            metrics = {"counts": counts, "durations_s": durations, "rates_per_s": rates,
                       "lag_drill": {k: v for k, v in drained.lag.items() if k != "paused_s"}}
            ambiguous = p.receipts.unresolved_publishes(platform_run_id)
            final_header = header = make_header(p.clock.now_ms())
            prefix, files = timed("reporter", lambda: self._reporter().write(
                platform_run_id, final_header, report.sent_by_class, metrics, drills, RTDL_GROUP,
                archive.written, ambiguous))
            status = "COMPLETED" if all(d.passed for d in drills) else "COMPLETED_WITH_FAILED_DRILLS"
            summary = {"counts": counts, "durations_s": durations, "rates_per_s": rates,
                       "drills": {d.drill_id: d.passed for d in drills}}
            p.log.info("run.completed", platform_run_id=platform_run_id, scenario_run_id=scenario,
                       status=status)
            return RunResult(platform_run_id, scenario, status, self.evidence_uri(prefix), summary, files)
        except Exception as exc:
            p.log.warning("run.failed", platform_run_id=platform_run_id, scenario_run_id=scenario,
                          stage=stage, error=f"{type(exc).__name__}: {exc}")
            if header is None and ready is not None:
                header = make_header(p.clock.now_ms())
            prefix = self._reporter().write_failure(platform_run_id, header, stage, f"{type(exc).__name__}: {exc}",
                                            counts, consumed)
            return RunResult(platform_run_id, scenario, "FAILED", self.evidence_uri(prefix),
                             {"failure_stage": stage, "reason": str(exc), "counts": counts})

    def _reporter(self) -> Reporter:
        p = self.ports
        return Reporter(p.objects, p.receipts, p.audit_log, p.action_log, p.cases, p.labels, p.checkpoints,
                        p.join_store)

    def _end_offsets(self, names: list[str]) -> dict[TopicPartition, int]:
        consumer = self.ports.consumer("fp-run-probe")
        try:
            return consumer.end_offsets(names)
        finally:
            consumer.close()

    def _drain(self, group: str, run: str, max_batch: int, start: Mapping[TopicPartition, int],
               end: Mapping[TopicPartition, int], handle: Handler, flush: Flush | None = None,
               pause: PausePlan | None = None) -> DrainReport:
        consumer = self.ports.consumer(group)
        try:
            return RangeConsumer(consumer, self.ports.checkpoints, self.ports.clock, self.ports.log, run, group,
                                 max_batch).drain(start, end, handle, flush, pause)
        finally:
            consumer.close()


def _rate(n: int, seconds: float | None) -> float:
    return round(n / seconds, 1) if seconds else 0.0

