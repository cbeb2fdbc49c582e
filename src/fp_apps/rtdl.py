"""fp-rtdl: the decision loop over the run's admitted offset range (context -> CSFB/OFP, traffic -> DF/AL/DLA)."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_adapters.containers import Platform
from fp_adapters.metrics import serve_metrics
from fp_apps.wiring import RunIdOpt, StageEnvOpt, run_stage
from fp_core.services.control import RunFacts, StageComplete


def rtdl(run_id: RunIdOpt,
         env: StageEnvOpt,
         follow: Annotated[bool, typer.Option(help="start before the stream ends; follow it to STREAM_COMPLETE")]
         = False,
         metrics_port: Annotated[int | None, typer.Option(
             "--metrics-port", help="serve Prometheus metrics on 127.0.0.1:PORT/metrics while deciding")] = None,
         ) -> None:
    """RTDL for one run: its admitted input range, or (--follow) the stream as it is written."""

    def follow_run(container: Platform, facts: RunFacts) -> StageComplete:
        if metrics_port is not None:
            serve_metrics(metrics_port, container.rtdl(), run_id)
        return container.rtdl().follow(facts.ready)

    if follow:
        run_stage(env, run_id, "rtdl", follow_run)
    else:
        run_stage(env, run_id, "rtdl", lambda c, f: c.rtdl().decide(f.ready, f.require_stream()))


def main() -> None:
    typer.run(rtdl)
