"""What every entrypoint shares: logging set-up, the started container for ``--env``, run metadata."""

from __future__ import annotations

import functools
import gc
import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from fp_adapters.containers import Platform, build_container
from fp_adapters.di import providers
from fp_adapters.ig_lanes import LanePool
from fp_adapters.ig_lanes import serve as serve_lane
from fp_adapters.logging import LOG_FILE_ENV, bind_run, configure, log_dir, register_secrets
from fp_adapters.settings import REPO_ROOT
from fp_adapters.stage_process import WARM_APPS, ProcessStageLauncher, WarmChild
from fp_adapters.tracing import TRACE_FILE_ENV, configure_tracing, shutdown_tracing
from fp_core.pins import ContextPins
from fp_core.run_config import RunConfig
from fp_core.services.control import RunFacts

JsonOpt = Annotated[bool, typer.Option("--json", help="last stdout line is a JSON summary")]
"""The ``--json`` option every command shares."""
EnvOpt = Annotated[str, typer.Option("--env", envvar="FP_ENV",
                                     help="a registered environment (`fp environments` lists them)")]
"""The ``--env`` option every command shares."""
RunIdOpt = Annotated[str, typer.Option("--run-id", help="the run's platform_run_id")]
"""The ``--run-id`` option every stage app shares."""
StageEnvOpt = Annotated[str, typer.Option("--env", envvar="FP_ENV",
                                          help="a registered environment (`fp environments` lists them)")]
"""The ``--env`` option of the stage apps (required: a stage runs where its run was started)."""


@contextmanager
def platform(env: str, log_level: str | None = None, component: str = "fp",
             warm_stages: bool = False, ig_lanes: bool | None = None) -> Iterator[Platform]:
    """Build and start the env's container; shut its resources down (flush producer) on exit. Logs are
    JSON lines at ``log_level`` (else ``FP_LOG_LEVEL``, else INFO) with the run's correlation keys; the
    credentials the adapters read are scrubbed from every line; spans go where ``FP_TRACE_FILE`` and
    ``FP_OTLP_ENDPOINT`` say. ``warm_stages``: where stages run as their own processes, fork RTDL's and
    the archive's now, before any client or thread exists, so a run starts them without importing the
    platform again (D57). ``ig_lanes`` (default: ``warm_stages``; a process that will stream a run): fork
    IG's lanes 2.. there too, each a gate with its own connections (D64)."""
    container = build_container(env)
    # Every component reads the fact log through the object store. Its client opens no connection until
    # used; building it loads ~25k objects (the service models): start-up state, loaded once for this
    # process and the stage processes it forks, and frozen out of the collector's sight below (D63).
    container.adapters.objects()
    processes = container.adapters.rtdl_launch() == "process"  # stores every process shares
    forking = warm_stages and processes
    warm = [child for child in (WarmChild.fork(app, preload) for app, preload in WARM_APPS.items() if forking)
            if child is not None]
    lanes = (LanePool.fork(container.settings().ig.lanes, functools.partial(_serve_lane, container, log_level))
             if processes and (warm_stages if ig_lanes is None else ig_lanes) else None)
    if lanes is not None:
        container.lanes.override(providers.Object(lanes))
    # The launcher holds the warm children from now on: it starts its stages in them, or ends them at exit.
    launcher: ProcessStageLauncher | None = container.launcher() if warm else None
    if launcher is not None:
        for child in warm:
            launcher.keep_warm(child)
    configure(log_level)
    configure_tracing(component)
    try:
        _start(container)
        yield container
    finally:
        if launcher is not None:
            launcher.discard_warm()
        if lanes is not None:
            lanes.close()
        container.shutdown_resources()
        shutdown_tracing()


def _start(container: Platform) -> None:
    container.init_resources()
    secrets = getattr(container.adapters, "secrets_in_use", None)
    register_secrets(secrets() if secrets is not None else [])
    tune_gc()


def _serve_lane(container: Platform, log_level: str | None, conn: Connection) -> None:
    """An IG lane's child (forked by ``platform``): its own connections, its gate per run, until this
    process's end of the socket closes. Ctrl-C is the parent's to handle; the lane ends when it does."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure(log_level)

    def on_run(pins: ContextPins, file: Path | None) -> None:
        configure(log_level, file)
        bind_run(pins.platform_run_id, pins.scenario_run_id)

    _start(container)
    try:
        serve_lane(conn, container.gate, on_run)
    finally:
        container.shutdown_resources()


def log_run_to_files(platform_run_id: str, scenario_run_id: str) -> Path:
    """This process (``fp run``) and the stage processes it starts log to ``logs/<platform_run_id>/``:
    ``run.jsonl`` here, ``<component>.jsonl`` for each child, ``traces.jsonl`` for every span."""
    folder = log_dir(platform_run_id)
    os.environ[LOG_FILE_ENV] = str(folder / "run.jsonl")
    os.environ[TRACE_FILE_ENV] = str(folder / "traces.jsonl")
    bind_run(platform_run_id, scenario_run_id)
    return folder


def pinned_config(container: Platform, env: str, seed: int, events: int, drills: tuple[str, ...],
                  bundle_id: str | None = None) -> RunConfig:
    """The run's configuration with the bundle it will pin at READY: ``bundle_id`` if named (it must be
    registered), else the registry's active bundle. Activation therefore takes effect at a run boundary."""
    bundles = container.bundles()
    bundle = bundles.bundle(bundle_id) if bundle_id else bundles.active()
    return RunConfig(env=env, seed=seed, events=events, drills=drills, bundle=bundle)


def tune_gc() -> None:
    """Long-running stages allocate many short-lived objects per event: collect the young generation
    less often, and move what start-up built (modules, the container) out of the collector's sight."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def git_sha() -> str:
    try:
        out = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def component_versions() -> dict[str, str]:
    out = {"fraud-platform": metadata.version("fraud-platform")}
    for dist in ("confluent-kafka", "psycopg", "redis", "boto3", "pydantic"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


def print_json(payload: Any) -> None:
    print(json.dumps(payload, sort_keys=True, default=str))


def emit(payload: Any, as_json: bool) -> None:
    """``--json``: the summary as the last stdout line."""
    if as_json:
        print_json(payload)


def run_stage(env: str, run_id: str, name: str, stage: Callable[[Platform, RunFacts], BaseModel]) -> None:
    """Build the env's container, run one stage of the run with it, print the stage's fact. A stage
    whose completion is already on the run's fact log is not run again: its fact is printed with
    ``"already_complete": true`` (crash-only: restarting a finished stage is harmless)."""
    bind_run(run_id)
    with platform(env, component=name, ig_lanes=name == "wsp_ig") as container:
        facts = container.facts().read(run_id)
        bind_run(run_id, facts.ready.pins.scenario_run_id)
        finished = facts.stream if name == "wsp_ig" else facts.stages.get(name)
        if finished is not None:
            print_json({**finished.model_dump(mode="json"), "already_complete": True})
            return
        done = stage(container, facts)
    print_json(done.model_dump(mode="json"))
