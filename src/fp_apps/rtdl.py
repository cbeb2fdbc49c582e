"""fp-rtdl: the decision loop over the run's admitted offset range (context -> CSFB/OFP, traffic -> DF/AL/DLA)."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_apps.wiring import facts_for, platform, print_json
from fp_core.services.stages import Stages


def rtdl(run_id: Annotated[str, typer.Option("--run-id")], env: Annotated[str, typer.Option(envvar="FP_ENV")],
         lag_pause_s: float = 1.5) -> None:
    with platform(env) as (_c, ports):
        facts = facts_for(ports, run_id)
        done = Stages(ports).decide(facts.ready, facts.require_stream(), lag_pause_s)
    print_json(done.model_dump(mode="json"))


def main() -> None:
    typer.run(rtdl)
