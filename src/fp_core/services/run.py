"""The platform run (seed 12.2): every stage in order over one port set; a partial bundle on failure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fp_core.evidence import RunHeader
from fp_core.offsets import OffsetRange
from fp_core.run_config import RunConfig, config_digest
from fp_core.services.control import StageComplete, StreamComplete
from fp_core.services.ports_set import PortSet
from fp_core.services.sr import ReadySignal
from fp_core.services.stages import RTDL_GROUP, Stages
from fp_core.services.wsp import iso_utc
from fp_core.world import scenario_run_id_for

__all__ = ["PortSet", "RunResult", "RunWorkflow"]


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
    ports: PortSet
    evidence_uri: Callable[[str], str]
    git_sha: str = "unknown"
    component_versions: Mapping[str, str] = field(default_factory=dict)
    progress: Callable[[str], None] = lambda stage: None
    lag_pause_s: float = 1.5
    attachments: Mapping[str, bytes] = field(default_factory=dict)

    def header(self, config: RunConfig, run: str, started_ms: int, ended_ms: int | None,
               ready: ReadySignal | None) -> RunHeader:
        return RunHeader(platform_run_id=run, scenario_run_id=scenario_run_id_for(config.seed, config.events),
                         env=self.ports.env, started_at=iso_utc(started_ms),
                         ended_at=iso_utc(ended_ms) if ended_ms else None, config=config.model_dump(mode="json"),
                         config_digest=config_digest(config),
                         pins=ready.pins.model_dump(mode="json") if ready else {}, git_sha=self.git_sha,
                         component_versions=dict(self.component_versions))

    def run(self, config: RunConfig, platform_run_id: str) -> RunResult:
        p = self.ports
        stages = Stages(p)
        started_ms = p.clock.now_ms()
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
            t0 = p.clock.monotonic()
            out = fn()
            durations[name] = round(p.clock.monotonic() - t0, 3)
            return out

        try:
            ready = timed("sr_ready", lambda: stages.ready(config, platform_run_id))
            assert ready is not None
            r = ready
            # RTDL runs beside WSP/IG (its own process on real substrates), following the stream; the
            # event-time readiness gate makes its decisions independent of that timing.
            follower = p.launcher.follow_rtdl(platform_run_id, self.lag_pause_s)
            pipeline_t0 = p.clock.monotonic()
            try:
                stream = timed("wsp_ig", lambda: stages.stream(r))
            except BaseException:
                follower.cancel()
                raise
            done["rtdl"] = timed("rtdl_tail", lambda: StageComplete.model_validate_json(follower.result()))
            durations["rtdl"] = round(p.clock.monotonic() - pipeline_t0, 3)
            assert stream is not None
            s = stream
            done["cm"] = timed("cm", lambda: stages.cases(r, s))
            done["ls"] = timed("ls", lambda: stages.labels(r))
            done["archive"] = timed("archive", lambda: stages.archive(r, s))
            pipeline_s = round(p.clock.monotonic() - pipeline_t0, 3)
            durations["pipeline_wall"] = pipeline_s
            counts = self._counts(s, done)
            rates = {"events_per_s_wsp_ig": _rate(sum(s.sent_by_class.values()), durations.get("wsp_ig")),
                     "events_per_s_rtdl": _rate(int(done["rtdl"].stats["consumed"]), durations.get("rtdl")),
                     "events_per_s_end_to_end": _rate(sum(s.sent_by_class.values()), pipeline_s)}
            metrics = {"counts": counts, "durations_s": durations, "rates_per_s": rates,
                       "wall_clock": {"lag_drill": done["rtdl"].stats["lag"]}}
            header = self.header(config, platform_run_id, started_ms, p.clock.now_ms(), r)
            prefix, files, drills = timed("reporter", lambda: stages.report(r, s, done, header, metrics,
                                                                                self.attachments))
            status = "COMPLETED" if all(d.passed for d in drills) else "COMPLETED_WITH_FAILED_DRILLS"
            p.log.info("run.completed", platform_run_id=platform_run_id, scenario_run_id=scenario, status=status)
            summary = {"counts": counts, "durations_s": durations, "rates_per_s": rates,
                       "drills": {d.drill_id: d.passed for d in drills}}
            return RunResult(platform_run_id, scenario, status, self.evidence_uri(prefix), summary, files)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            p.log.warning("run.failed", platform_run_id=platform_run_id, scenario_run_id=scenario, stage=current,
                          error=reason)
            header = self.header(config, platform_run_id, started_ms, p.clock.now_ms(), ready)
            partial = self._counts(stream, done) if stream else {}
            consumed: list[OffsetRange] = p.checkpoints.ranges(platform_run_id, RTDL_GROUP)
            prefix = stages.reporter().write_failure(platform_run_id, header, current, reason, partial, consumed)
            return RunResult(platform_run_id, scenario, "FAILED", self.evidence_uri(prefix),
                             {"failure_stage": current, "reason": str(exc), "counts": partial})

    @staticmethod
    def _counts(stream: StreamComplete, done: Mapping[str, StageComplete]) -> dict[str, Any]:
        counts: dict[str, Any] = {"sent": sum(stream.sent_by_class.values()), "ingress": stream.outcomes,
                                  "submissions": stream.submissions, "wsp_retries": stream.retries}
        if "rtdl" in done:
            st = done["rtdl"].stats
            counts.update(decisions=st["decisions"], degraded=st["degraded"], rtdl_consumed=st["consumed"],
                          case_triggers=st["case_triggers"])
        if "cm" in done:
            counts["case_events"] = done["cm"].stats["case_events"]
        if "ls" in done:
            counts["label_assertions"] = done["ls"].stats["label_assertions"]
        if "archive" in done:
            counts["archive_objects"] = len(done["archive"].stats["objects"])
        return counts
