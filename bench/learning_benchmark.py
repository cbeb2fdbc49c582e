"""The learning loop's speed and worth on a world large enough to learn from: a run of N events (seed A)
with the active bundle, then ``fp dataset build`` and ``fp model train`` timed (target: each < 60 s for
200k events), the trained bundle against the one that decided, on held-out rows. JSON output.

    .venv/bin/python -m bench.learning_benchmark --events 200000 [--run-id <an already closed run>]

The trained bundle is registered but not activated (the benchmark leaves the registry's active bundle
as it found it).
"""

from __future__ import annotations

import json
import time
import uuid

from bench._common import arguments, sealed_platform
from fp_apps.wiring import pinned_config
from fp_core.world import DAY_MS, EPOCH_MS


def main() -> None:
    args = arguments(200_000, 11, run_id="")
    with sealed_platform(args.seed, args.events) as container:
        run_id = str(args.run_id)
        run_s = None
        if not run_id:
            run_id = f"bench-learn-{uuid.uuid4().hex[:8]}"
            t0 = time.perf_counter()
            result = container.workflow().run(pinned_config(container, "local_parity", args.seed, args.events, ()),
                                              run_id)
            run_s = round(time.perf_counter() - t0, 2)
            assert result.status == "COMPLETED", result.summary
        t0 = time.perf_counter()
        manifest = container.datasets().build([run_id], EPOCH_MS + 90 * DAY_MS)
        build_s = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        evaluation = container.trainer().train(manifest.dataset_id, seed=0)
        train_s = round(time.perf_counter() - t0, 2)
    report = {
        "platform_run_id": run_id, "events": args.events, "run_s": run_s, "dataset_id": manifest.dataset_id,
        "dataset_rows": manifest.rows, "label_counts": manifest.label_counts, "dataset_build_s": build_s,
        "train_s": train_s, "bundle_id": evaluation.bundle_id, "splits": evaluation.splits,
        "metrics": evaluation.metrics.model_dump(mode="json"), "baseline": evaluation.baseline.model_dump(mode="json"),
        "roc_auc_gain": round(evaluation.metrics.roc_auc - evaluation.baseline.roc_auc, 6),
        "pr_auc_gain": round(evaluation.metrics.pr_auc - evaluation.baseline.pr_auc, 6),
        "within_a_minute": build_s < 60 and train_s < 60,
    }
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
