"""Admit and decide a few events through the library, over the in-memory adapter set."""

import fraud_platform as fp

platform = fp.build_container("memory")  # the same composition root as every other environment
platform.init_resources()
ready = platform.sr().ready(fp.RunConfig(env="memory", seed=7, events=40), "pr-quickstart")  # SR: seal, pin, READY
stream = platform.wsp().stream(ready)  # WSP -> IG: every event gets a receipt; admitted ones go on the bus
decided = platform.rtdl().decide(ready, stream)  # RTDL: join plane, scoring, actions, audit (DLA)
again = platform.gate(ready.pins).submit("by-hand", [b"not json"])  # IG never raises on bad input
for audit in list(platform.adapters.audit_log().scan("pr-quickstart"))[:3]:
    print(audit.decision.event_id, audit.decision.action.value, audit.decision.degrade.mode.value)
print(f"receipts {stream.outcomes}, decisions {decided.stats['decisions']}, bad input -> {again[0].reason}")
platform.shutdown_resources()
