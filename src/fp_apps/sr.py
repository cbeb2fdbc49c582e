"""fp-sr: seal the scenario's oracle if needed, check the gate, pin the run, emit READY."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_apps.wiring import pinned_config, platform, print_json
from fp_core.run_config import DRILLS


def sr(run_id: Annotated[str, typer.Option("--run-id")], env: Annotated[str, typer.Option(envvar="FP_ENV")],
       events: int = 20_000, seed: int = 7, drill: Annotated[list[str] | None, typer.Option()] = None) -> None:
    drills = DRILLS if drill and "all" in drill else tuple(drill or ())
    with platform(env) as container:
        ready = container.sr().ready(pinned_config(container, env, seed, events, drills), run_id)
    print_json(ready.model_dump(mode="json"))


def main() -> None:
    typer.run(sr)
