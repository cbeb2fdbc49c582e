"""``fp``: the operator CLI (substrate, run, evidence)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fp_adapters.containers import Platform
from fp_adapters.logging import log_dir
from fp_adapters.settings import REPO_ROOT
from fp_apps.dev_min_cli import app as dev_min_app
from fp_apps.learning_cli import bundle_app, dataset_app, model_app
from fp_apps.progress import run_progress
from fp_apps.wiring import EnvOpt, JsonOpt, component_versions, emit, git_sha, log_run_to_files, pinned_config, platform
from fp_core.errors import ConfigError, InvalidInput, NotFound, TransientError
from fp_core.evidence import REPORT_FILE, bundle_prefix, verify_bundle
from fp_core.identity import derive_id
from fp_core.run_config import DRILLS, RunConfig
from fp_core.services.run import RunResult, RunWorkflow
from fp_core.world import scenario_run_id_for

app = typer.Typer(add_completion=False, no_args_is_help=True, help="fraud-platform operator CLI")
substrate_app = typer.Typer(no_args_is_help=True, help="The local_parity substrate (Kafka, Postgres, Redis, moto).")
evidence_app = typer.Typer(no_args_is_help=True, help="Evidence bundles.")


@app.callback()
def _options(log_level: Annotated[str | None, typer.Option(
        "--log-level", envvar="FP_LOG_LEVEL", help="DEBUG, INFO (default), WARNING or ERROR")] = None,
        debug: Annotated[bool, typer.Option("--debug", help="show the traceback of an error (FP_DEBUG=1)")]
        = False) -> None:
    """Logs are JSON lines: a run's go to logs/<platform_run_id>/ (printed at the end), other commands'
    to logs/cli.jsonl, so human output stays readable."""
    if log_level is not None:
        if log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise typer.BadParameter(f"{log_level!r}; valid: DEBUG, INFO, WARNING, ERROR", param_hint="--log-level")
        os.environ["FP_LOG_LEVEL"] = log_level.upper()
    os.environ.setdefault("FP_LOG_FILE", str(log_dir("cli").with_suffix(".jsonl")))
    if debug:
        os.environ["FP_DEBUG"] = "1"


app.add_typer(substrate_app, name="substrate")
app.add_typer(evidence_app, name="evidence")
app.add_typer(dev_min_app, name="dev-min")
app.add_typer(dataset_app, name="dataset")
app.add_typer(model_app, name="model")
app.add_typer(bundle_app, name="bundle")
err = Console(stderr=True)


@substrate_app.command("up")
def substrate_up(as_json: JsonOpt = False) -> None:
    """Start (idempotently), health-check with real round trips, and provision the substrate."""
    from fp_ops import substrate

    try:
        timings = substrate.up()
    except substrate.SubstrateError as exc:
        err.print(f"[red]substrate up failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    for row in substrate.status():
        err.print(f"  {row['service']:<9} running={row['running']}  {row['address']}")
    err.print(f"substrate up in {timings['total']:.1f}s")
    emit({"status": "up", "timings_s": timings}, as_json)


@substrate_app.command("down")
def substrate_down() -> None:
    """Stop only what `up` started (pid files); data stays under .substrate/."""
    from fp_ops import substrate

    err.print(f"stopped: {', '.join(substrate.down())}")


@substrate_app.command("status")
def substrate_status(as_json: Annotated[bool, typer.Option("--json", help="last stdout line is JSON")] = False
                     ) -> None:
    """Each local service, whether it runs, where, and its log; exits 1 when any is down."""
    from fp_ops import substrate

    rows = substrate.status()
    for row in rows:
        err.print(f"  {row['service']:<9} running={row['running']!s:<5}  {row['address']}  log={row['log']}")
    emit({"services": rows}, as_json)
    down = [str(row["service"]) for row in rows if not row["running"]]
    if down:
        err.print(f"[red]down:[/red] {', '.join(down)} — start with `fp substrate up`")
        raise typer.Exit(1)


def parse_drills(drill: list[str]) -> tuple[str, ...]:
    if "all" in drill:
        return DRILLS
    unknown = sorted(set(drill) - set(DRILLS))
    if unknown:
        raise typer.BadParameter(f"unknown drill(s) {unknown}; valid: {list(DRILLS)} or all", param_hint="--drill")
    return tuple(dict.fromkeys(drill))


@app.command("run")
def run(
    env: EnvOpt = "local_parity",
    events: Annotated[int, typer.Option(help="events in the world's stream_view")] = 20_000,
    seed: Annotated[int, typer.Option(help="world seed")] = 7,
    drill: Annotated[list[str] | None, typer.Option(
        "--drill", help=f"an incident drill, repeatable: {', '.join(DRILLS)}, or all")] = None,
    run_id: Annotated[str | None, typer.Option("--run-id", help="platform_run_id (default: time-based)")] = None,
    as_json: JsonOpt = False,
    attach_conformance: Annotated[bool, typer.Option(
        "--attach-conformance", help="run the conformance suite first and attach its report to the bundle")] = False,
    resume: Annotated[str | None, typer.Option(
        "--resume", metavar="PLATFORM_RUN_ID",
        help="continue a run whose orchestrator died, from the facts on its control topic "
             "(--events/--seed/--drill come from its READY)")] = None,
    bundle: Annotated[str | None, typer.Option(
        "--bundle", metavar="BUNDLE_ID", help="pin this registered bundle (default: the active one)")] = None,
) -> None:
    """Run the whole workflow: oracle -> SR -> WSP -> IG -> RTDL -> CM/LS -> archive -> evidence bundle."""
    if resume is not None:
        _resume(env, resume, as_json)
        return
    drills = parse_drills(drill or [])
    try:
        RunConfig(env=env, seed=seed, events=events, drills=drills)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    platform_run_id = run_id or "pr-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + derive_id(
        "run", seed, events, datetime.now(UTC).isoformat())[:6]
    attachments: dict[str, bytes] = {}
    if attach_conformance:
        from fp_conformance.runner import run_all
        from fp_core.evidence import CONFORMANCE_FILE

        err.print(f"conformance suite on {env} ...")
        attachments[CONFORMANCE_FILE] = (json.dumps(run_all(env), sort_keys=True, indent=2) + "\n").encode()
    err.print(f"run [bold]{platform_run_id}[/bold] env={env} events={events} seed={seed} "
              f"drills={list(drills) or 'none'}")
    logs = log_run_to_files(platform_run_id, scenario_run_id_for(seed, events))
    err.print(f"  logs and traces: {logs}/")

    def start(container: Platform, workflow: RunWorkflow) -> RunResult:
        config = pinned_config(container, env, seed, events, drills, bundle)
        err.print(f"  bundle {config.bundle.bundle_id}:{config.bundle.version}")
        return workflow.run(config, platform_run_id)

    result = _drive(env, platform_run_id, events, attachments, start)
    _report(result, as_json)


def _drive(env: str, platform_run_id: str, events: int | None, attachments: dict[str, bytes],
           act: Callable[[Platform, RunWorkflow], RunResult]) -> RunResult:
    """The env's workflow with progress (bars with events/s on a terminal, stage lines otherwise),
    ``act`` applied to it."""
    try:
        with platform(env, component="run", warm_stages=True) as container:
            with run_progress(err, container, platform_run_id, events) as progress:
                result = act(container, container.workflow(
                    git_sha=git_sha(), component_versions=component_versions(), progress=progress,
                    attachments=attachments))
            result.summary["report_file"] = _local_report(container, result.platform_run_id)
            return result
    except ConfigError as exc:
        err.print(f"[red]config error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _local_report(container: Platform, platform_run_id: str) -> str | None:
    """A copy of the bundle's report.html on this machine, for a browser (None when there is none)."""
    objects = container.adapters.objects()
    key = f"{bundle_prefix(platform_run_id)}/{REPORT_FILE}"
    if not objects.exists(key):
        return None
    path = REPO_ROOT / ".build" / "reports" / platform_run_id / REPORT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(objects.get(key))
    return str(path)


def _resume(env: str, platform_run_id: str, as_json: bool) -> None:
    err.print(f"resuming run [bold]{platform_run_id}[/bold] env={env}")
    err.print(f"  logs and traces: {log_run_to_files(platform_run_id, '')}/")
    try:
        result = _drive(env, platform_run_id, None, {}, lambda _c, w: w.resume(platform_run_id))
    except NotFound as exc:
        err.print(f"[red]cannot resume {platform_run_id}:[/red] {exc} (no READY on the control topic: "
                  "start it with `fp run --run-id` instead)")
        raise typer.Exit(2) from exc
    _report(result, as_json)


def _report(result: RunResult, as_json: bool) -> None:
    summary = result.summary
    if summary.get("already_closed"):
        err.print(f"run {result.platform_run_id} was already closed ({result.status}); nothing to do")
    elif result.status == "FAILED":
        err.print(f"[red]run FAILED[/red] at stage {summary.get('failure_stage')}: {summary.get('reason')}")
    elif "counts" in summary:
        counts = summary["counts"]
        err.print(f"[green]{result.status}[/green]: sent {counts['sent']}, receipts {counts['ingress']}, "
                  f"decisions {counts['decisions']} ({counts['degraded']} degraded)")
        for name, ok in summary["drills"].items():
            err.print(f"  drill {name:<17} {'[green]passed[/green]' if ok else '[red]FAILED[/red]'}")
        err.print(f"  rates (events/s): {summary['rates_per_s']}")
    err.print(f"evidence bundle: [bold]{result.evidence_uri}[/bold]")
    if summary.get("report_file"):
        err.print(f"report: [bold]{summary['report_file']}[/bold] (open it in a browser)")
    emit({"platform_run_id": result.platform_run_id, "scenario_run_id": result.scenario_run_id,
          "status": result.status, "evidence_uri": result.evidence_uri,
          "rates_per_s": summary.get("rates_per_s", {}), "durations_s": summary.get("durations_s", {}),
          "bundle_id": summary.get("bundle_id"),
          "report_file": summary.get("report_file")}, as_json)
    if result.status != "COMPLETED":
        raise typer.Exit(1)


@app.command("replay")
def replay(
    platform_run_id: str,
    env: EnvOpt = "local_parity",
    source: Annotated[str, typer.Option(help="kafka (re-consume the anchored offsets) or archive (the archive's "
                                             "objects, when retention has passed)")] = "kafka",
    as_json: JsonOpt = False,
) -> None:
    """Re-derive a run's decisions from its replay anchors and compare them with the audited ones; writes
    a write-once proof to the bundle; exits 1 on any mismatch."""
    if source not in ("kafka", "archive"):
        raise typer.BadParameter(f"{source!r}; valid: kafka, archive", param_hint="--source")
    with platform(env) as container:
        err.print(f"replaying {platform_run_id} from {source} ...")
        key, proof = container.replayer().replay(platform_run_id, "kafka" if source == "kafka" else "archive")
        uri = container.adapters.objects().uri(key)
    mark = "[green]matched[/green]" if proof.proved else "[red]MISMATCHED[/red]"
    err.print(f"{mark}: {proof.matched}/{proof.audited} decisions matched, {proof.mismatched} mismatched, "
              f"{proof.missing_in_replay} missing; {proof.records_replayed:,} records in {proof.duration_s}s")
    for d in proof.differences[:5]:
        err.print(f"  [red]{d['decision_id']}[/red] {d.get('detail') or d['fields'][:3]}")
    err.print(f"proof: [bold]{uri}[/bold]")
    emit({"platform_run_id": platform_run_id, "replay_id": proof.replay_id, "source": source,
          "compared": proof.compared, "matched": proof.matched, "mismatched": proof.mismatched,
          "missing_in_replay": proof.missing_in_replay, "decisions_digest": proof.decisions_digest,
          "proof_key": key, "proof_uri": uri, "duration_s": proof.duration_s, "bundle_id": proof.bundle_id}, as_json)
    if not proof.proved:
        raise typer.Exit(1)


@app.command("conformance")
def conformance(env: EnvOpt = "local_parity", as_json: JsonOpt = False) -> None:
    """Run the ONE conformance suite (laws + port contracts) against an environment's adapter set."""
    from fp_conformance.runner import run_all

    report = run_all(env)
    for c in report["checks"]:
        mark = ("[yellow]skip[/yellow]" if c.get("skipped") else
                "[green]pass[/green]" if c["passed"] else "[red]FAIL[/red]")
        err.print(f"  {mark} {c['name']:<48} {c['detail']}")
    failed = [c["name"] for c in report["checks"] if not c["passed"]]
    err.print(f"{len(report['checks']) - len(failed)}/{len(report['checks'])} checks passed on {env}")
    emit(report, as_json)
    if failed:
        raise typer.Exit(1)


def _bundle(env: str, platform_run_id: str) -> dict[str, bytes]:
    with platform(env) as container:
        objects = container.adapters.objects()
        prefix = bundle_prefix(platform_run_id) + "/"
        keys = objects.list(prefix)
        if not keys:
            raise NotFound(f"no evidence bundle under {objects.uri(prefix)}")
        return {k.removeprefix(prefix): objects.get(k) for k in keys}


@evidence_app.command("pull")
def evidence_pull(platform_run_id: str,
                  to: Annotated[Path, typer.Option("--to", help="directory to copy the bundle into")],
                  env: EnvOpt = "local_parity"
                  ) -> None:
    """Copy a run's bundle into DIR/<platform_run_id>/."""
    files = _bundle(env, platform_run_id)
    for name, data in files.items():
        path = to / platform_run_id / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    err.print(f"pulled {len(files)} files to {to / platform_run_id}")


@evidence_app.command("report")
def evidence_report(
    platform_run_id: str,
    to: Annotated[Path | None, typer.Option("--to", help="also write the page to this file")] = None,
    env: EnvOpt = "local_parity",
    as_json: JsonOpt = False,
) -> None:
    """Render the run's bundle (replay proofs included) as one self-contained HTML page, written to the
    bundle as report.html (and to --to)."""
    with platform(env) as container:
        key, page = container.reporter().write_report(platform_run_id)
        uri = container.adapters.objects().uri(key)
    if to is not None:
        to.parent.mkdir(parents=True, exist_ok=True)
        to.write_bytes(page)
    err.print(f"report: [bold]{uri}[/bold]" + (f" and {to}" if to else ""))
    emit({"platform_run_id": platform_run_id, "report_uri": uri, "file": str(to) if to else None,
          "bytes": len(page)}, as_json)


@evidence_app.command("verify")
def evidence_verify(platform_run_id: str, env: EnvOpt = "local_parity",
                    as_json: JsonOpt = False) -> None:
    """Check a bundle is complete and internally consistent."""
    try:
        problems = verify_bundle(_bundle(env, platform_run_id))
    except NotFound as exc:
        emit({"platform_run_id": platform_run_id, "ok": False, "problems": [str(exc)]}, as_json)
        raise

    for p in problems:
        err.print(f"[red]problem:[/red] {p}")
    if not problems:
        err.print(f"[green]bundle {platform_run_id} complete and consistent[/green]")
    emit({"platform_run_id": platform_run_id, "ok": not problems, "problems": problems}, as_json)
    if problems:
        raise typer.Exit(1)


@app.command("environments")
def environments(as_json: Annotated[bool, typer.Option("--json", help="print the list as JSON")] = False) -> None:
    """List the environments that can be used: registered adapter sets (entry points) and settings files."""
    from fp_adapters.environments import registered
    from fp_adapters.settings import known_envs

    sets = registered()
    for env in known_envs():
        source = sets[env].value if env in sets else "settings file"
        err.print(f"  {env:<16} {source}")
    emit({"environments": known_envs()}, as_json)


USER_ERRORS: tuple[tuple[type[Exception], str, int], ...] = (
    (NotFound, "not found", 1), (ConfigError, "config error", 2), (InvalidInput, "error", 2),
    (TransientError, "unavailable", 3))
"""The errors a user can act on: how each is introduced and the exit code it ends with."""
SUBSTRATE_HINT = "  is the substrate up? `fp substrate status`, then `fp substrate up` (--debug for the traceback)"


def main() -> None:
    """Errors a user can act on end in one line and a non-zero exit; ``--debug`` (``FP_DEBUG=1``) shows
    the traceback."""
    try:
        app()
    except tuple(cls for cls, _label, _code in USER_ERRORS) as exc:
        if os.environ.get("FP_DEBUG", "") not in ("", "0"):
            raise
        label, code = next((label, code) for cls, label, code in USER_ERRORS if isinstance(exc, cls))
        if isinstance(exc, TransientError):
            err.print(f"[red]{label}:[/red] {str(exc).splitlines()[0][:300]}\n{SUBSTRATE_HINT}")
        else:
            err.print(f"[red]{label}:[/red] {exc}")
        sys.exit(code)
