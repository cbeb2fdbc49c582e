"""fp-rtdl: the decision loop over the run's admitted offset range (context -> CSFB/OFP, traffic -> DF/AL/DLA)."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_apps.wiring import run_stage


def rtdl(run_id: Annotated[str, typer.Option("--run-id")],
         env: Annotated[str, typer.Option(envvar="FP_ENV")],
         follow: Annotated[bool, typer.Option(help="start before the stream ends; follow it to STREAM_COMPLETE")]
         = False) -> None:
    if follow:
        run_stage(env, lambda c: c.rtdl().follow(c.facts().read(run_id).ready))
    else:
        run_stage(env, lambda c: c.rtdl().for_run(run_id))


def main() -> None:
    typer.run(rtdl)
