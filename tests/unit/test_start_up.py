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
