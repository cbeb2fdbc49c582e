"""fp-archive: the run's admitted events to archive/ as write-once objects named by offset range."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_adapters.containers import Platform
from fp_apps.wiring import run_stage
from fp_core.services.control import ReadySignal, StreamComplete


def _facts(c: Platform, run_id: str) -> tuple[ReadySignal, StreamComplete]:
    facts = c.facts().read(run_id)
    return facts.ready, facts.require_stream()


def archive(run_id: Annotated[str, typer.Option("--run-id")],
            env: Annotated[str, typer.Option(envvar="FP_ENV")]) -> None:
    run_stage(env, lambda c: c.archive().run(*_facts(c, run_id)))


def main() -> None:
    typer.run(archive)
