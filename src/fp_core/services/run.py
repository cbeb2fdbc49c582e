"""The platform run (seed 12.2): every stage in order; a partial bundle on failure.

Each stage is a service the composition root builds once; the workflow only orders them, times them,
and learns what each finished from the run's fact log.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fp_core.envelope import iso_utc
from fp_core.errors import TransientError
from fp_core.evidence import RunHeader, substrate_digest
from fp_core.learning import evaluation_key
from fp_core.ports import NO_TRACE, CheckpointLog, Clock, Log, StageLauncher, TaskHandle, Tracer
from fp_core.retry import RetryPolicy
from fp_core.run_config import RunConfig, config_digest
from fp_core.services.archive import ARCHIVE_GROUP
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
    stage_retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=4, base_s=0.5, cap_s=5.0))
    substrate: Callable[[], Mapping[str, Any]] = dict
    """What the run runs on, for run.json (the adapter set's ``substrate_record``)."""
    tracer: Tracer = NO_TRACE
    """Spans: the run, each stage (the trace id goes into run.json)."""
    _substrate: dict[str, Any] | None = field(default=None, init=False, repr=False)

    def header(self, config: RunConfig, run: str, started_ms: int, ended_ms: int | None,
               ready: ReadySignal | None) -> RunHeader:
        if self._substrate is None:
            self._substrate = dict(self.substrate())
        substrate = self._substrate
        return RunHeader(platform_run_id=run, scenario_run_id=scenario_run_id_for(config.seed, config.events),
                         env=self.env, started_at=iso_utc(started_ms),
                         ended_at=iso_utc(ended_ms) if ended_ms else None, config=config.model_dump(mode="json"),
                         config_digest=config_digest(config),
                         pins=ready.pins.model_dump(mode="json") if ready else {}, git_sha=self.git_sha,
                         component_versions=dict(self.component_versions), substrate=dict(substrate),
                         substrate_digest=substrate_digest(substrate, self.component_versions, self.git_sha),
                         bundle_evaluation=evaluation_key(config.bundle), trace_id=self.tracer.trace_id())

    def close(self, platform_run_id: str) -> RunResult:
        """Close a run from its facts alone (``fp-reporter``): the bundle, without stage timings; a run
        whose stages did not all finish (its orchestrator died) is closed as FAILED, naming the stage."""
        closed = self._already_closed(platform_run_id)
        if closed is not None:
            return closed
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
        with self.tracer.span("run", platform_run_id=platform_run_id,
                              scenario_run_id=scenario_run_id_for(config.seed, config.events)):
            return self._drive(config, platform_run_id, None)

    def resume(self, platform_run_id: str) -> RunResult:
        """Continue a run whose orchestrator died, from the facts on its control topic: a stage whose
        completion is there is not run again; the others run and resume from their own durable state
        (WSP's re-submissions are answered with the receipts IG wrote, RTDL/CM/archive from their
        checkpoints). Raises NotFound when the run has no READY."""
        closed = self._already_closed(platform_run_id)
        if closed is not None:
            return closed
        facts = self.facts.read(platform_run_id)
        self.log.info("run.resuming", platform_run_id=platform_run_id,
                      scenario_run_id=facts.ready.pins.scenario_run_id, streamed=facts.stream is not None,
                      stages_done=sorted(facts.stages))
        with self.tracer.span("run.resume", platform_run_id=platform_run_id,
                              scenario_run_id=facts.ready.pins.scenario_run_id):
            return self._drive(facts.ready.config, platform_run_id, facts)

    def _already_closed(self, platform_run_id: str) -> RunResult | None:
        """Closing or resuming a closed run is a no-op that says so (``already_closed`` in the summary)."""
        found = self.reporter.closed_bundle(platform_run_id)
        if found is None:
            return None
        prefix, files, drills_passed = found
        ready = self.facts.read(platform_run_id).ready
        self.log.info("run.already_closed", platform_run_id=platform_run_id)
        return RunResult(platform_run_id, ready.pins.scenario_run_id,
                         "COMPLETED" if drills_passed else "COMPLETED_WITH_FAILED_DRILLS", self.evidence_uri(prefix),
                         {"already_closed": True}, files)

    def _again(self, stage: str, run: str, fn: Callable[[], Any]) -> Any:
        """A stage that fails transiently (a dependency restarting) runs again: every stage is idempotent
        at its boundary and resumes from its durable state, so running it again is recovery."""
        error: TransientError | None = None
        for attempt in self.stage_retry.attempts_on(self.clock):
            try:
                return fn()
            except TransientError as exc:
                error = exc
                self.log.warning("run.stage_retry", platform_run_id=run, stage=stage, attempt=attempt,
                                 error=str(exc)[:300])
        assert error is not None
        raise error

    def _supervise(self, stage: str, run: str, started: TaskHandle[None],
                   again: Callable[[str], TaskHandle[None]]) -> None:
        """Wait for a stage started beside the caller; one that died (killed, or a dependency it could not
        outlast) is started again and resumes from its durable state (its checkpoints)."""
        handle = [started]

        def wait() -> None:
            try:
                handle[0].result()
            except TransientError:
                handle[0] = again(run)
                raise
        try:
            self._again(stage, run, wait)
        finally:
            handle[0].cancel()

    def _drive(self, config: RunConfig, platform_run_id: str, known: RunFacts | None) -> RunResult:
        started_ms = self.clock.now_ms()
        scenario = scenario_run_id_for(config.seed, config.events)
        durations: dict[str, float] = {}
        current = "sr_ready"
        ready: ReadySignal | None = known.ready if known else None
        stream: StreamComplete | None = known.stream if known else None
        done: dict[str, StageComplete] = dict(known.stages) if known else {}

        def timed(name: str, fn: Callable[[], Any], since: float | None = None) -> Any:
            """``fn`` as stage ``name``; its duration counts from ``since`` when the stage began earlier."""
            nonlocal current
            current = name
            self.progress(name)
            t0 = self.clock.monotonic()
            with self.tracer.span(f"stage.{name}", platform_run_id=platform_run_id, scenario_run_id=scenario):
                out = fn()
            durations[name] = round(self.clock.monotonic() - (t0 if since is None else since), 3)
            return out

        archiving: TaskHandle[None] | None = None
        try:
            if ready is None:
                ready = timed("sr_ready", lambda: self.sr.ready(config, platform_run_id))
            assert ready is not None
            r = ready
            pipeline_t0 = self.clock.monotonic()
            # RTDL runs beside WSP/IG (its own process on real substrates), following the stream; the
            # event-time readiness gate makes its decisions independent of that timing.
            follower = self.launcher.follow_rtdl(platform_run_id) if "rtdl" not in done else None
            if stream is None:
                try:
                    stream = timed("wsp_ig", lambda: self._again("wsp_ig", platform_run_id,
                                                                lambda: self.wsp.stream(r)))
                except BaseException:
                    if follower is not None:
                        follower.cancel()
                    raise
            assert stream is not None
            s = stream
            # The archive needs only the admitted range (STREAM_COMPLETE): it runs beside RTDL's tail, CM,
            # LS and the reporter's reading of the stores, not after them.
            archive_t0 = self.clock.monotonic()
            archiving = self.launcher.run_archive(platform_run_id) if "archive" not in done else None
            if follower is not None:
                timed("rtdl_tail", lambda: self._supervise("rtdl", platform_run_id, follower,
                                                           self.launcher.follow_rtdl))
            durations["rtdl"] = round(self.clock.monotonic() - pipeline_t0, 3)
            later: dict[str, Callable[[], StageComplete]] = {"cm": lambda: self.cm.run(r, s),
                                                              "ls": lambda: self.ls.run(r)}
            for name, stage in later.items():
                if name not in done:
                    done[name] = timed(name, functools.partial(self._again, name, platform_run_id, stage))
            reading = timed("reporter_reads", lambda: self._again("reporter", platform_run_id,
                                                                  lambda: self.reporter.read_stores(platform_run_id)))
            if archiving is not None:
                # "archive": from its start to the closing having it (its own time, or more when it finished
                # earlier); "archive_wait": how long the closing waited for it.
                handle, wait_t0 = archiving, self.clock.monotonic()
                timed("archive", lambda: self._supervise("archive", platform_run_id, handle,
                                                         self.launcher.run_archive), since=archive_t0)
                archiving = None
                durations["archive_wait"] = round(self.clock.monotonic() - wait_t0, 3)
            # RTDL's and the archive's completions, and what drills recorded during WSP and RTDL, are on the
            # fact log by now: read it once; the other stages' facts are the ones returned to us.
            facts = self.facts.read(platform_run_id)
            done["rtdl"], done["archive"] = facts.stages["rtdl"], facts.stages["archive"]
            pipeline_s = round(self.clock.monotonic() - pipeline_t0, 3)
            durations["pipeline_wall"] = pipeline_s
            rates = {"events_per_s_wsp_ig": _rate(sum(s.sent_by_class.values()), durations.get("wsp_ig")),
                     "events_per_s_rtdl": _rate(int(done["rtdl"].stats["consumed"]), durations.get("rtdl")),
                     "events_per_s_end_to_end": _rate(sum(s.sent_by_class.values()), pipeline_s)}
            header = self.header(config, platform_run_id, started_ms, self.clock.now_ms(), r)
            closing = RunFacts(r, s, {**facts.stages, **done}, facts.extra)
            prefix, files, drills = timed("reporter", lambda: self._again("reporter", platform_run_id, lambda: (
                self.reporter.close_run(closing, header, durations, rates, self.attachments, reading))))
            status = "COMPLETED" if all(d.passed for d in drills) else "COMPLETED_WITH_FAILED_DRILLS"
            self.log.info("run.completed", platform_run_id=platform_run_id, scenario_run_id=scenario, status=status)
            # READY to closed, the reporter's closure included (so not in the bundle it wrote): a run's fixed
            # cost when it is small.
            closed_s = round(self.clock.monotonic() - pipeline_t0, 3)
            summary = {"counts": run_counts(s, done), "durations_s": {**durations, "ready_to_closed": closed_s},
                       "rates_per_s": rates,
                       "drills": {d.drill_id: d.passed for d in drills},
                       "bundle_id": f"{config.bundle.bundle_id}:{config.bundle.version}"}
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
        finally:
            if archiving is not None:  # the run failed while the archive was still writing
                archiving.cancel()
