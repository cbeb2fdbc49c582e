"""Report generation time (target < 2 s for a 100k-event run): ``Reporter.write_report`` of a closed run
in a process that has not imported matplotlib yet (so its import is counted: ``generation_s``), and the
whole ``fp evidence report`` command in a fresh process (CLI start-up and connections included:
``command_s``). Runs one of N events first unless ``--run-id`` names a closed run. JSON output.

    .venv/bin/python -m bench.report_benchmark --events 100000 [--run-id <closed run>]
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench._common import arguments, sealed_platform
from fp_apps.wiring import pinned_config


def main() -> None:
    args = arguments(100_000, 7, run_id="")
    run_id = str(args.run_id)
    if not run_id:
        run_id = f"bench-report-{uuid.uuid4().hex[:8]}"
        with sealed_platform(args.seed, args.events) as container:
            config = pinned_config(container, "local_parity", args.seed, args.events, ())
            assert container.workflow().run(config, run_id).status == "COMPLETED"
    assert "matplotlib" not in sys.modules
    with sealed_platform(args.seed, args.events) as container:
        t0 = time.perf_counter()
        _key, page = container.reporter().write_report(run_id)
        generation_s = time.perf_counter() - t0
        header = json.loads(container.adapters.objects().get(f"evidence/runs/{run_id}/run.json"))
    fp = str(Path(sys.executable).with_name("fp"))
    t0 = time.perf_counter()
    done = subprocess.run([fp, "evidence", "report", run_id, "--json"], capture_output=True, text=True, timeout=120)
    command_s = time.perf_counter() - t0
    assert done.returncode == 0, done.stderr
    print(json.dumps({"platform_run_id": run_id, "events": header["config"]["events"], "report_bytes": len(page),
                      "generation_s": round(generation_s, 3), "command_s": round(command_s, 3),
                      "generation_under_2_s": generation_s < 2.0}, sort_keys=True))


if __name__ == "__main__":
    main()
