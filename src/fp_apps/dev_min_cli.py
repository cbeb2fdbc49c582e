"""``fp dev-min up|run|down|status|cost``: operate dev_min (seed 12.5, 13, B.5).

``--mode aws`` drives Terraform against real AWS/Confluent; ``--mode emulated`` (the default on these
machines) uses the local substrate's emulated managed endpoints. Everything after the infrastructure
step (preflight, the run, teardown verification and proof) is the same code in both modes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import typer
from rich.console import Console

from fp_adapters.aws import aws_client, s3_client
from fp_adapters.containers import build_container
from fp_adapters.settings import REPO_ROOT, load_settings
from fp_apps.wiring import JsonOpt, component_versions, emit, git_sha, pinned_config, platform
from fp_core.identity import derive_id
from fp_core.run_config import DRILLS
from fp_ops import dev_min

app = typer.Typer(no_args_is_help=True, help="Operate dev_min: up, run, down (destroy-by-default), status, cost.")
err = Console(stderr=True)
SESSION_FILE = REPO_ROOT / ".substrate/dev_min_session.json"
VAR_FILE = REPO_ROOT / "infra/terraform/dev_min/dev_min.tfvars"
Mode = Annotated[Literal["emulated", "aws"], typer.Option(
    "--mode", envvar="DEV_MIN_MODE", help="aws (Terraform against real AWS/Confluent) or emulated (local endpoints)")]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def terraform_for(settings: Any) -> dev_min.Terraform:
    account = aws_client("sts", settings).get_caller_identity()["Account"]
    return dev_min.Terraform(state_bucket=f"fraud-platform-dev-min-{account}-{settings.aws.region}-tfstate",
                             lock_table="fraud-platform-dev-min-tf-lock", region=settings.aws.region,
                             var_file=VAR_FILE)


def report(results: list[dev_min.CheckResult]) -> bool:
    for r in results:
        err.print(f"  {'[green]ok[/green]  ' if r.passed else '[red]FAIL[/red]'} {r.name:<32} {r.detail}")
    return all(r.passed for r in results)


@app.command()
def up(mode: Mode = "emulated") -> None:
    """Apply core (bootstrapping its state if absent) then demo; write the run settings from their
    outputs (nothing to export by hand); then preflight."""
    settings = load_settings("dev_min")
    started = datetime.now(UTC)
    if mode == "aws":
        tf = terraform_for(settings)
        s3 = s3_client(settings)
        if tf.state_bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            tf.bootstrap_core()
        outputs = dev_min.outputs_from_terraform(tf.apply("core"), tf.apply("demo"))
    else:
        from fp_ops import provision, substrate

        substrate.up()
        provision.apply_emulated_demo(settings, load_settings("local_parity").bus.bootstrap)
        outputs = dev_min.outputs_from_emulation(settings)
    path = dev_min.write_run_settings(outputs)
    settings = load_settings("dev_min")  # now with what the stacks created
    session = {"session_id": derive_id("session", started.isoformat())[:12], "started_at": started.isoformat(),
               "mode": mode, "resources": outputs.model_dump(mode="json"), "runs": []}
    SESSION_FILE.parent.mkdir(parents=True, exist_ok=True)
    SESSION_FILE.write_text(json.dumps(session, indent=2))
    err.print(f"run settings written to {path} (cluster {outputs.cluster_id}, "
              f"buckets {sorted(set(outputs.bucket_map.values()))})")
    ok = report(dev_min.preflight(settings, f"evidence/preflight/{session['session_id']}.json"))
    if not ok:
        raise typer.Exit(1)
    err.print(f"[green]dev_min up[/green] (session {session['session_id']}, mode {mode})")


def current_session() -> dict[str, Any]:
    if not SESSION_FILE.exists():
        err.print("[red]no dev_min session:[/red] run `fp dev-min up` (or `make dev-min-up`) first")
        raise typer.Exit(2)
    session: dict[str, Any] = json.loads(SESSION_FILE.read_text())
    return session


@app.command()
def run(events: Annotated[int, typer.Option(help="events in the world's stream_view")] = 20_000,
        seed: Annotated[int, typer.Option(help="world seed")] = 7,
        as_json: JsonOpt = False) -> None:
    """The full run (the same workflow as `fp run`) on dev_min with every drill; run.json names the
    substrate used, and the bundle records the demo session."""
    session = current_session()
    attachment = {"session_id": session["session_id"], "session_started_at": session["started_at"],
                  "mode": session["mode"], "resources": session["resources"], "run_started_at": now_iso(),
                  "flex_demo_toggles": {}}
    run_id = "pr-devmin-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    with platform("dev_min") as container:
        workflow = container.workflow(git_sha=git_sha(), component_versions=component_versions(),
                                      progress=lambda stage: err.print(f"  [cyan]stage[/cyan] {stage}"),
                                      attachments={"dev_min/session.json": (json.dumps(
                                          attachment, sort_keys=True, indent=2) + "\n").encode()})
        result = workflow.run(pinned_config(container, "dev_min", seed, events, DRILLS), run_id)
    session["runs"] = [*session.get("runs", []), {"platform_run_id": run_id, "status": result.status}]
    SESSION_FILE.write_text(json.dumps(session, indent=2))
    err.print(f"{result.status}: evidence bundle {result.evidence_uri}")
    emit({"platform_run_id": result.platform_run_id, "status": result.status,
          "evidence_uri": result.evidence_uri}, as_json)
    if result.status != "COMPLETED":
        raise typer.Exit(1)


@app.command()
def down(mode: Mode = "emulated") -> None:
    """Destroy the demo stack, verify by querying each API that nothing costly remains and the core and
    evidence do, and write the teardown proof and the session record (with its Appendix B cost)."""
    settings = load_settings("dev_min")
    session = json.loads(SESSION_FILE.read_text()) if SESSION_FILE.exists() else None
    if session is not None:
        outputs = dev_min.SubstrateOutputs.model_validate(session["resources"])
    elif mode == "emulated":
        outputs = dev_min.outputs_from_emulation(settings)
    else:
        err.print("[red]no dev_min session record:[/red] the teardown proof needs the outputs `up` recorded")
        raise typer.Exit(2)
    admin_conf: dict[str, Any] | None
    if mode == "aws":
        tf = terraform_for(settings)
        tf.destroy_demo()
        state: list[str] | None = tf.demo_state()
        admin_conf = None
    else:
        from fp_ops import provision

        admin = load_settings("local_parity").bus.bootstrap
        provision.destroy_emulated_demo(settings, admin)
        state, admin_conf = None, provision.admin_config(admin)
    results = dev_min.verify_teardown(settings, outputs, admin_conf, state)
    ok = report(results)
    ended = datetime.now(UTC)
    started = datetime.fromisoformat(session["started_at"]) if session else ended
    record = {"session_id": session["session_id"] if session else "none", "mode": mode,
              "started_at": started.isoformat(), "ended_at": ended.isoformat(),
              "resources": outputs.model_dump(mode="json"), "runs": session.get("runs", []) if session else [],
              "cost": dev_min.session_cost(dev_min.load_rates(), started, ended,
                                           len(session.get("runs", [])) if session else 0)}
    proof = {**record, "passed": ok, "checks": [r.model_dump(mode="json") for r in results]}
    objects = build_container("dev_min", settings).adapters.objects()  # no Kafka credentials needed
    stamp = ended.strftime("%Y%m%dT%H%M%S")
    key = f"evidence/teardown/{record['session_id']}-{stamp}.json"
    objects.put(key, (json.dumps(proof, sort_keys=True, indent=2) + "\n").encode())
    objects.put(f"evidence/dev_min/sessions/{record['session_id']}-{stamp}.json",
                (json.dumps(record, sort_keys=True, indent=2) + "\n").encode())
    SESSION_FILE.unlink(missing_ok=True)
    err.print(f"session {record['session_id']}: {record['cost']['hours']} h, "
              f"about GBP {record['cost']['session_cost_gbp']} (Appendix B)")
    err.print(f"teardown proof: {objects.uri(key)}")
    if not ok:
        raise typer.Exit(1)


@app.command()
def status() -> None:
    """Preflight checks without writing anything but the marker object."""
    settings = load_settings("dev_min")
    ok = report(dev_min.preflight(settings, f"evidence/preflight/status-{derive_id('s', now_iso())[:8]}.json"))
    raise typer.Exit(0 if ok else 1)


@app.command()
def cost(hours: Annotated[float, typer.Option(help="demo hours per session")] = 3.0,
         demos: Annotated[int, typer.Option(help="demo sessions per month")] = 2,
         as_json: JsonOpt = False) -> None:
    """Appendix B worksheet with the rates in config/cost_rates.yaml."""
    sheet = dev_min.cost_worksheet(dev_min.load_rates(), hours, demos)
    for k, v in sheet.items():
        err.print(f"  {k:<30} {v}")
    emit(sheet, as_json)

