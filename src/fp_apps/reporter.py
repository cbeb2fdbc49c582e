"""fp-reporter: run closure from the control topic's facts and the stores; writes the evidence bundle."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_adapters.s3.object_store import S3ObjectStore
from fp_apps.wiring import component_versions, facts_for, git_sha, platform, print_json
from fp_core.services.run import RunWorkflow
from fp_core.services.stages import Stages


def reporter(run_id: Annotated[str, typer.Option("--run-id")],
             env: Annotated[str, typer.Option(envvar="FP_ENV")]) -> None:
    with platform(env) as (container, ports):
        objects: S3ObjectStore = container.objects()
        facts = facts_for(ports, run_id)
        stream = facts.require_stream()
        now = ports.clock.now_ms()
        header = RunWorkflow(ports, objects.uri, git_sha(), component_versions()).header(
            facts.ready.config, run_id, now, now, facts.ready)
        metrics = {"counts": {stage: done.stats for stage, done in sorted(facts.stages.items())},
                   "ingress": stream.outcomes}
        prefix, _files, drills = Stages(ports).report(facts.ready, stream, facts.stages, header, metrics)
    print_json({"platform_run_id": run_id, "evidence_uri": objects.uri(prefix),
                "drills": {d.drill_id: d.passed for d in drills}})


def main() -> None:
    typer.run(reporter)
