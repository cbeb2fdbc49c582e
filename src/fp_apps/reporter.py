"""fp-reporter: run closure from the control topic's facts and the stores; writes the evidence bundle."""

from __future__ import annotations

import typer

from fp_apps.wiring import RunIdOpt, StageEnvOpt, component_versions, git_sha, platform, print_json


def reporter(run_id: RunIdOpt,
             env: StageEnvOpt) -> None:
    with platform(env) as container:
        workflow = container.workflow(git_sha=git_sha(), component_versions=component_versions())
        result = workflow.close(run_id)
    print_json({"platform_run_id": run_id, "status": result.status, "evidence_uri": result.evidence_uri,
                **result.summary})
    if result.status != "COMPLETED":
        raise typer.Exit(1)


def main() -> None:
    typer.run(reporter)
