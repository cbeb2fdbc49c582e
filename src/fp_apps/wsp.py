"""fp-wsp: on READY, stream the sealed stream_view into IG (embedded, see docs/decisions.md D4)."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_apps.wiring import run_stage


def wsp(run_id: Annotated[str, typer.Option("--run-id")], env: Annotated[str, typer.Option(envvar="FP_ENV")]) -> None:
    """Stream the run; a WSP restarted after a crash re-submits from the start and IG answers every
    submission it already made durable with its receipts, so it resumes where the last durable one ended."""
    run_stage(env, run_id, "wsp_ig", lambda c, f: c.wsp().stream(f.ready))


def main() -> None:
    typer.run(wsp)
