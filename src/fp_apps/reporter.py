"""fp-reporter: run closure from the control topic's facts and the stores; writes the evidence bundle."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_apps.wiring import component_versions, git_sha, platform, print_json


def reporter(run_id: Annotated[str, typer.Option("--run-id")],
             env: Annotated[str, typer.Option(envvar="FP_ENV")]) -> None:
    with platform(env) as container:
        workflow = container.workflow(git_sha=git_sha(), component_versions=component_versions())
        prefix, _files, drills = workflow.close(run_id)
        uri = container.adapters.objects().uri(prefix)
    print_json({"platform_run_id": run_id, "evidence_uri": uri, "drills": {d.drill_id: d.passed for d in drills}})


def main() -> None:
    typer.run(reporter)
