"""``fp dataset build``, ``fp model train|evaluate``, ``fp bundle list|show|activate``: the learning loop
(archive/audit -> as-of dataset -> trained bundle -> registry -> activation at a run boundary)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from fp_apps.wiring import EnvOpt, JsonOpt, emit, platform
from fp_core.envelope import ts_ms

dataset_app = typer.Typer(no_args_is_help=True, help="As-of training datasets built from closed runs.")
model_app = typer.Typer(no_args_is_help=True, help="Train and evaluate scoring bundles.")
bundle_app = typer.Typer(no_args_is_help=True, help="The bundle registry: list, show, activate.")
err = Console(stderr=True)


def parse_as_of(value: str) -> int:
    """An ISO-8601 time with an explicit UTC offset ('Z' or '+00:00') to epoch milliseconds."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"--as-of {value!r} is not an ISO-8601 time (e.g. 2026-03-01T00:00:00Z)") from None
    if parsed.utcoffset() is None:
        raise typer.BadParameter(f"--as-of {value!r} has no UTC offset; add 'Z' (event time is UTC)")
    return ts_ms(parsed.astimezone(UTC))


@dataset_app.command("build")
def dataset_build(
    runs: Annotated[list[str], typer.Option("--runs", help="a closed platform_run_id, repeatable")],
    as_of: Annotated[str, typer.Option("--as-of", help="ISO-8601 UTC event time: labels recorded later are "
                                                       "invisible, decisions later are left out")],
    env: EnvOpt = "local_parity",
    as_json: JsonOpt = False,
) -> None:
    """One row per decided transaction: the features DF used (from DLA's audit) and the label known at as-of."""
    as_of_ms = parse_as_of(as_of)
    with platform(env) as container:
        manifest = container.datasets().build(runs, as_of_ms)
        uri = container.adapters.objects().uri(manifest.rows_key)
    err.print(f"dataset [bold]{manifest.dataset_id}[/bold]: {manifest.rows} rows, labels {manifest.label_counts} "
              f"as of {manifest.as_of} ({manifest.label_assertions_after_as_of} assertions recorded later, unseen)")
    err.print(f"  {uri}")
    emit({"dataset_id": manifest.dataset_id, "rows": manifest.rows, "label_counts": manifest.label_counts,
           "fingerprint": manifest.fingerprint, "uri": uri}, as_json)


@model_app.command("train")
def model_train(
    dataset: Annotated[str, typer.Option("--dataset", help="a dataset id from `fp dataset build`")],
    seed: Annotated[int, typer.Option(help="the fitter's seed")] = 0,
    env: EnvOpt = "local_parity",
    as_json: JsonOpt = False,
) -> None:
    """Fit a new bundle on the dataset's train split, choose thresholds on validation, evaluate on test
    against the bundle that made the original decisions, and register it (not activated)."""
    with platform(env) as container:
        ev = container.trainer().train(dataset, seed)
    m, b = ev.metrics, ev.baseline
    err.print(f"bundle [bold]{ev.bundle_id}[/bold] registered (activate with `fp bundle activate {ev.bundle_id}`)")
    err.print(f"  held-out rows {m.rows} ({m.positives} fraud): ROC AUC {m.roc_auc:.4f} vs {b.roc_auc:.4f} baseline, "
              f"PR AUC {m.pr_auc:.4f} vs {b.pr_auc:.4f}")
    err.print(f"  decline >= {m.decline.threshold}: precision {m.decline.precision:.3f} recall {m.decline.recall:.3f}; "
              f"step-up >= {m.step_up.threshold}: precision {m.step_up.precision:.3f} recall {m.step_up.recall:.3f}")
    emit(ev.model_dump(mode="json"), as_json)


@model_app.command("evaluate")
def model_evaluate(
    dataset: Annotated[str, typer.Option("--dataset", help="a dataset id from `fp dataset build`")],
    bundle: Annotated[str, typer.Option("--bundle", help="a registered bundle id")],
    env: EnvOpt = "local_parity",
    as_json: JsonOpt = False,
) -> None:
    """Score every row of a dataset with a registered bundle (from the features DF recorded)."""
    with platform(env) as container:
        m = container.trainer().evaluate(dataset, bundle)
    err.print(f"{m.bundle} on {m.rows} rows ({m.positives} fraud): ROC AUC {m.roc_auc:.4f}, PR AUC {m.pr_auc:.4f}, "
              f"decline precision {m.decline.precision:.3f} recall {m.decline.recall:.3f}")
    emit(m.model_dump(mode="json"), as_json)


@bundle_app.command("list")
def bundle_list(env: EnvOpt = "local_parity", as_json: JsonOpt = False) -> None:
    """Every bundle the registry knows, with its lifecycle status."""
    with platform(env) as container:
        rows = container.bundles().statuses()
    for s in rows:
        err.print(f"  {s.status:<10} {s.bundle_id:<28} {s.version:<24} "
                  f"{'built-in' if s.builtin else s.dataset_id}")
    emit({"bundles": [s.model_dump(mode="json") for s in rows]}, as_json)


@bundle_app.command("show")
def bundle_show(bundle_id: str, env: EnvOpt = "local_parity", as_json: JsonOpt = False) -> None:
    """A bundle's parameters and status."""
    with platform(env) as container:
        bundle, status = container.bundles().show(bundle_id)
    doc = {"bundle": bundle.model_dump(mode="json"), "status": status.model_dump(mode="json")}
    err.print(json.dumps(doc, indent=2, sort_keys=True))
    emit(doc, as_json)


@bundle_app.command("activate")
def bundle_activate(bundle_id: str, env: EnvOpt = "local_parity", as_json: JsonOpt = False) -> None:
    """Make a registered bundle the active one: the next run pins it at READY; running runs keep theirs."""
    with platform(env) as container:
        changed = container.bundles().activate(bundle_id)
    err.print(f"{bundle_id} {'activated' if changed else 'was already active'}; the next run pins it")
    emit({"bundle_id": bundle_id, "changed": changed}, as_json)
