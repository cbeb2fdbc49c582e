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
        run_stage(env, run_id, "rtdl", lambda c, f: c.rtdl().follow(f.ready))
    else:
        run_stage(env, run_id, "rtdl", lambda c, f: c.rtdl().decide(f.ready, f.require_stream()))


def main() -> None:
    typer.run(rtdl)
