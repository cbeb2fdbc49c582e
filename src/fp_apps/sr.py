"""fp-sr: seal the scenario's oracle if needed, check the gate, pin the run, emit READY."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_apps.wiring import RunIdOpt, StageEnvOpt, pinned_config, platform, print_json
from fp_core.run_config import DRILLS


def sr(run_id: RunIdOpt, env: StageEnvOpt,
       events: Annotated[int, typer.Option(help="events in the world's stream_view")] = 20_000,
       seed: Annotated[int, typer.Option(help="world seed")] = 7,
       drill: Annotated[list[str] | None, typer.Option(help="an incident drill, repeatable, or all")] = None) -> None:
    """Seal the scenario's oracle if needed, check the gate, pin the run (the active bundle), emit READY."""
    drills = DRILLS if drill and "all" in drill else tuple(drill or ())
    with platform(env) as container:
        ready = container.sr().ready(pinned_config(container, env, seed, events, drills), run_id)
    print_json(ready.model_dump(mode="json"))


def main() -> None:
    typer.run(sr)
