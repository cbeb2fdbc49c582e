"""fp-ls: the run's truth labels as append-only assertions, announced after durable commit."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_apps.wiring import facts_for, platform, print_json
from fp_core.services.stages import Stages


def ls(run_id: Annotated[str, typer.Option("--run-id")], env: Annotated[str, typer.Option(envvar="FP_ENV")]) -> None:
    with platform(env) as (_c, ports):
        done = Stages(ports).labels(facts_for(ports, run_id).ready)
    print_json(done.model_dump(mode="json"))


def main() -> None:
    typer.run(ls)
