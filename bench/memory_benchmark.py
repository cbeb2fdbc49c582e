"""Peak RSS per component as N grows: each component runs as its own process (fp-sr, fp-wsp, ...),
and ``os.wait4`` reports that process's own peak resident set size.

    .venv/bin/python -m bench.memory_benchmark --events 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

BIN = Path(sys.executable).parent
COMPONENTS = ("fp-sr", "fp-wsp", "fp-rtdl", "fp-cm", "fp-ls", "fp-archive", "fp-reporter")


def run_component(name: str, run_id: str, events: int) -> dict[str, float]:
    args = [str(BIN / name), "--env", "local_parity", "--run-id", run_id]
    if name == "fp-sr":
        args += ["--events", str(events), "--drill", "all"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "FP_DRILLS__LAG_PAUSE_S": "0.5"})
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        raise SystemExit(f"{name} failed for {run_id}: {err}")
    return {"peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "wall_s": round(wall, 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    args = ap.parse_args()
    table: dict[int, dict[str, dict[str, float]]] = {}
    for n in args.events:
        run_id = f"mem-{n}-{uuid.uuid4().hex[:6]}"
        table[n] = {c: run_component(c, run_id, n) for c in COMPONENTS}
        print(json.dumps({"events": n, "platform_run_id": run_id, "components": table[n]}), flush=True)
    if len(args.events) >= 2:
        small, large = args.events[0], args.events[-1]
        print(f"peak RSS (MB) per component, {small:,} -> {large:,} events ({large // small}x):")
        for c in COMPONENTS:
            a, b = table[small][c]["peak_rss_mb"], table[large][c]["peak_rss_mb"]
            print(f"  {c:<12} {a:>8.1f} -> {b:>8.1f}   ratio {b / a:.2f}")


if __name__ == "__main__":
    main()
