"""fp-archive: the run's admitted events to archive/ as write-once objects named by offset range."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_apps.wiring import facts_for, platform, print_json
from fp_core.services.stages import Stages


def archive(run_id: Annotated[str, typer.Option("--run-id")],
            env: Annotated[str, typer.Option(envvar="FP_ENV")]) -> None:
    with platform(env) as (_c, ports):
        facts = facts_for(ports, run_id)
        done = Stages(ports).archive(facts.ready, facts.require_stream())
    print_json(done.model_dump(mode="json"))


def main() -> None:
    typer.run(archive)
