"""A restarted RTDL resumes after its durable checkpoints, re-reads what the join plane lost, and
decides exactly what an undisturbed run decides (over the memory set)."""

from __future__ import annotations

from collections.abc import Sequence

from dependency_injector import providers

from fp_adapters.containers import Platform
from fp_core.decisions import ActionOutcome, AuditRecord
from fp_core.ports import DecisionLedger
from fp_core.run_config import RunConfig
from fp_core.services.replay import decision_digest
from tests.unit.conftest import memory_container

CONFIG = RunConfig(env="memory", seed=4, events=2000, decision_batch=40)


class LedgerOutage:
    """The decision ledger goes away after ``after`` recorded batches (a crash in the middle of RTDL)."""

    def __init__(self, inner: DecisionLedger, after: int) -> None:
        self.inner, self.left = inner, after

    def record(self, records: Sequence[AuditRecord]) -> list[ActionOutcome]:
        if self.left <= 0:
            raise ConnectionError("decision ledger unavailable (injected)")
        self.left -= 1
        return self.inner.record(records)


def decisions(container: Platform, run: str) -> dict[str, str]:
    return {a.decision.decision_id: decision_digest(a.decision) for a in container.adapters.audit_log().scan(run)}


def streamed(container: Platform, run: str) -> tuple[object, object]:
    ready = container.sr().ready(CONFIG, run)
    return ready, container.wsp().stream(ready)


def test_restarted_rtdl_resumes_rereads_lost_join_state_and_decides_identically() -> None:
    clean = memory_container()
    ready, stream = streamed(clean, "pr-resume")
    clean.rtdl().decide(ready, stream)  # type: ignore[arg-type]
    expected = decisions(clean, "pr-resume")

    crashed = memory_container(commit_interval_s=0.0)  # a checkpoint per batch: the crash finds some
    ready, stream = streamed(crashed, "pr-resume")
    real_ledger = crashed.adapters.decision_ledger()
    crashed.adapters.decision_ledger.override(providers.Object(LedgerOutage(real_ledger, after=4)))
    try:
        crashed.rtdl().decide(ready, stream)  # type: ignore[arg-type]
        raise AssertionError("the injected outage did not stop RTDL")
    except ConnectionError:
        pass
    crashed.adapters.decision_ledger.reset_last_overriding()
    before_restart = decisions(crashed, "pr-resume")
    assert 0 < len(before_restart) < len(expected)
    substrate = crashed.adapters.substrate()
    with substrate.lock:  # the join plane lost everything (a Redis that came back empty)
        for key in [k for k in substrate.context if k[0] == "pr-resume"]:
            del substrate.context[key]
        for key in [k for k in substrate.cards if k[0] == "pr-resume"]:
            del substrate.cards[key]
        substrate.join_positions.pop("pr-resume", None)
    done = crashed.rtdl().decide(ready, stream)  # type: ignore[arg-type]
    assert done.stats["resumed_after"] > 0  # traffic resumed after the durable checkpoint, not from zero
    assert decisions(crashed, "pr-resume") == expected
    assert crashed.adapters.action_log().outcome_counts("pr-resume")["duplicate_outcomes"] == 0
