"""Run a small platform run over the memory set, then read its evidence bundle from Python: verify it,
read the reconciliation, and check the replay anchors by re-reading exactly the recorded offsets."""

import json

import fraud_platform as fp

platform = fp.build_container("memory")
platform.init_resources()
result = platform.workflow().run(fp.RunConfig(env="memory", seed=11, events=800, drills=fp.ALL_DRILLS), "pr-read")
objects = platform.adapters.objects()
prefix = fp.bundle_prefix(result.platform_run_id) + "/"
bundle = {key.removeprefix(prefix): objects.get(key) for key in objects.list(prefix)}
assert fp.verify_bundle(bundle) == [], fp.verify_bundle(bundle)
recon = json.loads(bundle["obs/reconciliation.json"])
print(f"{result.evidence_uri}: {len(bundle)} files, every admitted transaction decided: "
      f"{recon['every_admitted_txn_decided']}")
for name in sorted(k for k in bundle if k.startswith("drills/")):
    print(f"  {name}: passed={json.loads(bundle[name])['passed']}")

# The replay anchors: exactly the offset ranges RTDL consumed. Re-read them and check that every decision's
# origin offset lies inside (a full re-decision proof is `fp replay`).
anchors = [fp.OffsetRange.model_validate(r, strict=False)
           for r in json.loads(bundle["replay/offset_ranges.json"])["ranges"]]
consumer = platform.adapters.consumer()("example-replay")
consumer.assign({(r.topic, r.partition): r.start_offset for r in anchors})
seen: set[fp.OriginOffset] = set()
while batch := consumer.poll_batch(10_000, 0.1):
    ends = {(r.topic, r.partition): r.end_offset for r in anchors}
    seen.update(rec.origin for rec in batch if rec.origin.offset <= ends[(rec.origin.topic, rec.origin.partition)])
used = {o for a in platform.adapters.audit_log().scan(result.platform_run_id) for o in a.decision.origin_offsets}
assert used <= seen and len(seen) == sum(r.count for r in anchors)
print(f"replay anchors: {len(anchors)} ranges, {len(seen)} records re-read, all {len(used)} decision origins inside")
platform.shutdown_resources()
