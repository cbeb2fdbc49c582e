"""A user's mistake or a stopped substrate ends in one line with a hint and a non-zero exit, never a
traceback (``FP_DEBUG=1`` shows it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FP = str(Path(sys.executable).with_name("fp"))


def fp(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FP, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **env})


def test_substrate_status_exits_non_zero_naming_what_is_down(tmp_path: Path) -> None:
    out = fp("substrate", "status", FP_SUBSTRATE_DIR=str(tmp_path))
    assert out.returncode == 1 and "fp substrate up" in out.stderr and "Traceback" not in out.stderr


def test_an_unreachable_substrate_is_one_line_with_the_hint() -> None:
    unreachable = {"FP_POSTGRES__DSN": "postgresql://fp@127.0.0.1:1/none", "FP_POSTGRES__RECONNECT_S": "1"}
    out = fp("run", "--env", "local_parity", "--events", "100", **unreachable)
    assert out.returncode == 3, out.stderr[-1500:]
    assert "unavailable" in out.stderr and "fp substrate up" in out.stderr and "Traceback" not in out.stderr
    debug = fp("run", "--env", "local_parity", "--events", "100", FP_DEBUG="1", **unreachable)
    assert debug.returncode != 0 and "TransientError" in debug.stderr


def test_an_unknown_environment_lists_the_real_ones() -> None:
    out = fp("conformance", "--env", "nope")
    assert out.returncode == 2 and "local_parity" in out.stderr and "cost_rates" not in out.stderr
    assert "Traceback" not in out.stderr


def test_a_missing_bundle_still_answers_json_when_asked() -> None:
    out = fp("evidence", "verify", "pr-never-ran", "--env", "memory", "--json")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    last = out.stdout.strip().splitlines()[-1]
    assert '"ok": false' in last and "no evidence bundle" in last


def test_every_option_of_every_command_has_help_text() -> None:
    import importlib

    import typer
    import typer.main

    from fp_apps.cli import app

    def options(command: object, path: str) -> list[str]:
        subs = getattr(command, "commands", None)
        if subs:
            return [o for name, sub in subs.items() for o in options(sub, f"{path} {name}")]
        return [f"{path} {p.opts}" for p in getattr(command, "params", [])
                if p.param_type_name == "option" and not p.help and "--help" not in p.opts]

    missing = options(typer.main.get_command(app), "fp")
    for name in ("sr", "wsp", "rtdl", "cm", "ls", "archive", "reporter"):
        single = typer.Typer(add_completion=False)
        single.command()(getattr(importlib.import_module(f"fp_apps.{name}"), name))
        missing += options(typer.main.get_command(single), f"fp-{name}")
    assert missing == []
