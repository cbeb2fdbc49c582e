"""A component's process start: what it imports (D57)."""

from __future__ import annotations

import json
import subprocess
import sys

WEB = ("fastapi", "starlette", "werkzeug")


def imported_after(code: str) -> dict[str, object]:
    probe = (f"import sys, json\n{code}\n"
             "print(json.dumps({'web': sorted({m.split('.')[0] for m in sys.modules} & set(%r))}))" % (WEB,))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_a_stage_process_imports_no_web_framework() -> None:
    assert imported_after("import fp_apps.rtdl, fp_apps.wsp, fp_apps.cli") == {"web": []}


def test_the_ig_service_still_gets_fastapi_after_the_container() -> None:
    # the container first (the quiet import), then the HTTP service: FastAPI imports as usual
    assert imported_after("import fp_adapters.containers\nimport fp_apps.ig_service\n"
                          "assert fp_apps.ig_service.FastAPI is not None") == {"web": ["fastapi", "starlette"]}


WARM_CHILD = """
import os, signal, sys, threading
from pathlib import Path
from fp_adapters.stage_process import WarmChild
from fp_core.errors import TransientError

def outcome(argv, kill=False):
    warm = WarmChild.fork("fp-rtdl")
    assert warm is not None, "no thread runs yet: forking is allowed"
    stage = warm.start(argv, dict(os.environ), Path("unused.jsonl"))
    if kill:
        os.kill(warm._child.pid, signal.SIGKILL)
    try:
        stage.result()
        return "ok"
    except TransientError as exc:
        return str(exc)

print("HELP", outcome(["fp-rtdl", "--help"]))
print("BAD", outcome(["fp-rtdl", "--no-such-option"]).replace(chr(10), " "))
print("KILLED", outcome(["fp-rtdl", "--help"], kill=True)[:40])
unused = WarmChild.fork("fp-rtdl")
unused.discard()
print("DISCARDED", unused._child.returncode)
first = WarmChild.fork("fp-rtdl")
second = WarmChild.fork("fp-archive", preload=lambda: print("PRELOADED yes", flush=True))
first.discard()  # the sibling forked after it must not hold its job pipe open
second.discard()
print("SIBLINGS", first._child.returncode, second._child.returncode)
from confluent_kafka import Producer
native = Producer({"bootstrap.servers": "127.0.0.1:9", "log_level": 0})  # librdkafka's own threads
print("NATIVE", WarmChild.fork("fp-rtdl"))
del native
threading.Thread(target=threading.Event().wait, args=(5,), daemon=True).start()
print("THREADED", WarmChild.fork("fp-rtdl"))
"""


def test_a_warm_child_runs_its_job_reports_failures_and_ends_when_discarded() -> None:
    out = subprocess.run([sys.executable, "-c", WARM_CHILD], capture_output=True, text=True, timeout=120, check=True)
    lines = dict(line.split(" ", 1) for line in out.stdout.strip().splitlines())
    assert lines["HELP"] == "ok"  # the app ran its argv (typer's --help exits 0)
    assert lines["BAD"].startswith("fp-rtdl exited 2") and "No such option" in lines["BAD"]  # its stderr explains
    assert lines["KILLED"].startswith("fp-rtdl exited -9")  # killed before or while running: a failed stage
    assert lines["DISCARDED"] == "0"  # an unused child ends when its pipe closes
    assert lines["SIBLINGS"] == "0 0"  # ... also when a sibling was forked after it
    assert lines["PRELOADED"] == "yes"  # a child loads what it was given to while it waits
    assert lines["NATIVE"] == "None"  # a client's native threads count too
    assert lines["THREADED"] == "None"  # with a thread running, no fork: the launcher starts a fresh process
