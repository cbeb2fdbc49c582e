"""The platform run (seed 12.2): every stage in order; a partial bundle on failure.

Each stage is a service the composition root builds once; the workflow only orders them, times them,
and learns what each finished from the run's fact log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fp_core.envelope import iso_utc
from fp_core.evidence import RunHeader
from fp_core.ports import CheckpointLog, Clock, Log, StageLauncher
from fp_core.run_config import RunConfig, config_digest
from fp_core.services.archive import ARCHIVE_GROUP, ArchiveStage
from fp_core.services.cm import CM_GROUP, CmStage
from fp_core.services.control import ReadySignal, RunFacts, StageComplete, StreamComplete
from fp_core.services.facts import FactLog
from fp_core.services.ls import LabelService
from fp_core.services.reporter import Reporter, run_counts
from fp_core.services.rtdl import RTDL_GROUP
from fp_core.services.sr import ScenarioRunner
from fp_core.services.wsp import WorldStreamer
from fp_core.world import scenario_run_id_for

TRUTH_GROUPS = (RTDL_GROUP, CM_GROUP, ARCHIVE_GROUP)
"""The consumer groups whose consumption wrote truth: their ranges are the replay anchors."""
CLOSING_STAGES = ("rtdl", "cm", "ls", "archive")
"""The stages whose STAGE_COMPLETE a run needs before it can be closed as completed."""


@dataclass
class RunResult:
    platform_run_id: str
    scenario_run_id: str
    status: str
    evidence_uri: str
    summary: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


def _rate(n: int, seconds: float | None) -> float:
    return round(n / seconds, 1) if seconds else 0.0


@dataclass
class RunWorkflow:
    """``env``, the stages and the ports the workflow itself needs come from the composition root;
    the rest are the caller's options."""

    env: str
    sr: ScenarioRunner
    wsp: WorldStreamer
    cm: CmStage
    ls: LabelService
    archive: ArchiveStage
    reporter: Reporter
    launcher: StageLauncher
    facts: FactLog
    checkpoints: CheckpointLog
    clock: Clock
    log: Log
    evidence_uri: Callable[[str], str]
    git_sha: str = "unknown"
    component_versions: Mapping[str, str] = field(default_factory=dict)
    progress: Callable[[str], None] = lambda stage: None
    attachments: Mapping[str, bytes] = field(default_factory=dict)

    def header(self, config: RunConfig, run: str, started_ms: int, ended_ms: int | None,
               ready: ReadySignal | None) -> RunHeader:
        return RunHeader(platform_run_id=run, scenario_run_id=scenario_run_id_for(config.seed, config.events),
                         env=self.env, started_at=iso_utc(started_ms),
                         ended_at=iso_utc(ended_ms) if ended_ms else None, config=config.model_dump(mode="json"),
                         config_digest=config_digest(config),
                         pins=ready.pins.model_dump(mode="json") if ready else {}, git_sha=self.git_sha,
                         component_versions=dict(self.component_versions))

    def close(self, platform_run_id: str) -> RunResult:
        """Close a run from its facts alone (``fp-reporter``): the bundle, without stage timings; a run
        whose stages did not all finish (its orchestrator died) is closed as FAILED, naming the stage."""
        facts = self.facts.read(platform_run_id)
        config = facts.ready.config
        scenario = scenario_run_id_for(config.seed, config.events)
        now = self.clock.now_ms()
        header = self.header(config, platform_run_id, now, now, facts.ready)
        missing = ["wsp_ig"] if facts.stream is None else [s for s in CLOSING_STAGES if s not in facts.stages]
        if missing:
            reason = f"the run's fact log has no completion of {missing}: the stage never finished"
            partial = run_counts(facts.stream, facts.stages) if facts.stream else {}
            key = self.reporter.write_failure(platform_run_id, header, missing[0], reason, partial, TRUTH_GROUPS)
            return RunResult(platform_run_id, scenario, "FAILED", self.evidence_uri(key.rsplit("/", 1)[0]),
                             {"failure_stage": missing[0], "reason": reason, "failure_key": key})
        prefix, files, drills = self.reporter.close_run(facts, header)
        status = "COMPLETED" if all(d.passed for d in drills) else "COMPLETED_WITH_FAILED_DRILLS"
        return RunResult(platform_run_id, scenario, status, self.evidence_uri(prefix),
                         {"drills": {d.drill_id: d.passed for d in drills}}, files)

    def run(self, config: RunConfig, platform_run_id: str) -> RunResult:
        started_ms = self.clock.now_ms()
        scenario = scenario_run_id_for(config.seed, config.events)
        durations: dict[str, float] = {}
        current = "sr_ready"
        ready: ReadySignal | None = None
        stream: StreamComplete | None = None
        done: dict[str, StageComplete] = {}

        def timed(name: str, fn: Callable[[], Any]) -> Any:
            nonlocal current
            current = name
            self.progress(name)
            t0 = self.clock.monotonic()
            out = fn()
            durations[name] = round(self.clock.monotonic() - t0, 3)
            return out

        try:
            ready = timed("sr_ready", lambda: self.sr.ready(config, platform_run_id))
            assert ready is not None
            r = ready
            # RTDL runs beside WSP/IG (its own process on real substrates), following the stream; the
            # event-time readiness gate makes its decisions independent of that timing.
            follower = self.launcher.follow_rtdl(platform_run_id)
            pipeline_t0 = self.clock.monotonic()
            try:
                stream = timed("wsp_ig", lambda: self.wsp.stream(r))
            except BaseException:
                follower.cancel()
                raise
            timed("rtdl_tail", follower.result)
            # RTDL's completion, and what drills recorded during WSP and RTDL, are on the fact log by now:
            # read it once; the later stages' facts are the ones returned to us.
            facts = self.facts.read(platform_run_id)
            done["rtdl"] = facts.stages["rtdl"]
            durations["rtdl"] = round(self.clock.monotonic() - pipeline_t0, 3)
            assert stream is not None
            s = stream
            done["cm"] = timed("cm", lambda: self.cm.run(r, s))
            done["ls"] = timed("ls", lambda: self.ls.run(r))
            done["archive"] = timed("archive", lambda: self.archive.run(r, s))
            pipeline_s = round(self.clock.monotonic() - pipeline_t0, 3)
            durations["pipeline_wall"] = pipeline_s
            rates = {"events_per_s_wsp_ig": _rate(sum(s.sent_by_class.values()), durations.get("wsp_ig")),
                     "events_per_s_rtdl": _rate(int(done["rtdl"].stats["consumed"]), durations.get("rtdl")),
                     "events_per_s_end_to_end": _rate(sum(s.sent_by_class.values()), pipeline_s)}
            header = self.header(config, platform_run_id, started_ms, self.clock.now_ms(), r)
            closing = RunFacts(r, s, {**facts.stages, **done}, facts.extra)
            prefix, files, drills = timed("reporter", lambda: self.reporter.close_run(
                closing, header, durations, rates, self.attachments))
            status = "COMPLETED" if all(d.passed for d in drills) else "COMPLETED_WITH_FAILED_DRILLS"
            self.log.info("run.completed", platform_run_id=platform_run_id, scenario_run_id=scenario, status=status)
            summary = {"counts": run_counts(s, done), "durations_s": durations, "rates_per_s": rates,
                       "drills": {d.drill_id: d.passed for d in drills}}
            return RunResult(platform_run_id, scenario, status, self.evidence_uri(prefix), summary, files)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            self.log.warning("run.failed", platform_run_id=platform_run_id, scenario_run_id=scenario, stage=current,
                             error=reason)
            header = self.header(config, platform_run_id, started_ms, self.clock.now_ms(), ready)
            partial = run_counts(stream, done) if stream else {}
            key = self.reporter.write_failure(platform_run_id, header, current, reason, partial, TRUTH_GROUPS)
            return RunResult(platform_run_id, scenario, "FAILED", self.evidence_uri(key.rsplit("/", 1)[0]),
                             {"failure_stage": current, "reason": str(exc), "counts": partial, "failure_key": key})
