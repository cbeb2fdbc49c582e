"""Replay speed: a whole platform run of N events, then ``fp replay`` of it from the bus and from the
archive; replay throughput as a ratio of RTDL's in the original run (target >= 1.0). JSON output.

    .venv/bin/python -m bench.replay_benchmark --events 100000
"""

from __future__ import annotations

import json
import uuid

from bench._common import arguments, sealed_platform
from fp_core.run_config import DRILLS, RunConfig


def main() -> None:
    args = arguments(100_000, 7)
    run_id = f"bench-replay-{uuid.uuid4().hex[:8]}"
    with sealed_platform(args.seed, args.events) as container:
        result = container.workflow().run(RunConfig(env="local_parity", seed=args.seed, events=args.events,
                                                    drills=DRILLS), run_id)
        rtdl_rate = result.summary["rates_per_s"]["events_per_s_rtdl"]
        proofs = {}
        for source in ("kafka", "archive"):
            key, proof = container.replayer().replay(run_id, source)
            proofs[source] = {"proof_key": key, "compared": proof.compared, "matched": proof.matched,
                              "mismatched": proof.mismatched, "records": proof.records_replayed,
                              "duration_s": proof.duration_s, "records_per_s": proof.rates_per_s["records"],
                              "decisions_digest": proof.decisions_digest}
    report = {"platform_run_id": run_id, "status": result.status, "events": args.events,
              "rtdl_events_per_s_in_run": rtdl_rate, "replay": proofs,
              "replay_over_rtdl": {s: round(p["records_per_s"] / rtdl_rate, 2) for s, p in proofs.items()},
              "same_digest_from_both_sources": proofs["kafka"]["decisions_digest"] ==
              proofs["archive"]["decisions_digest"]}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
