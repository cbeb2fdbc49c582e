"""Publish state is explicit (seed 7.1): never assume a publish succeeded or failed."""

from __future__ import annotations

from fp_core.receipts import PublishState

_ALLOWED: dict[PublishState, frozenset[PublishState]] = {
    PublishState.PENDING: frozenset({PublishState.PUBLISHED, PublishState.AMBIGUOUS}),
    PublishState.AMBIGUOUS: frozenset({PublishState.PUBLISHED, PublishState.AMBIGUOUS}),
    PublishState.PUBLISHED: frozenset(),
}


def advance(current: PublishState, observed: PublishState) -> PublishState:
    """The next state after a delivery report; raises on a transition the law forbids."""
    if observed not in _ALLOWED[current]:
        raise ValueError(f"publish state cannot go from {current} to {observed}")
    return observed


def settle(delivered: bool, error: str | None) -> PublishState:
    """A delivery report with an offset is PUBLISHED; anything else (timeout, error) is AMBIGUOUS."""
    return PublishState.PUBLISHED if delivered and not error else PublishState.AMBIGUOUS


def needs_republish(state: PublishState) -> bool:
    """Only an idempotent re-publish resolves a pending or ambiguous publish."""
    return state is not PublishState.PUBLISHED
