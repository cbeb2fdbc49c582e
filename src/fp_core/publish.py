"""Publish state is explicit (seed 7.1): never assume a publish succeeded or failed."""

from __future__ import annotations

from fp_core.receipts import PublishState


def settle(delivered: bool, error: str | None) -> PublishState:
    """A delivery report with an offset is PUBLISHED; anything else (timeout, error) is AMBIGUOUS."""
    return PublishState.PUBLISHED if delivered and not error else PublishState.AMBIGUOUS
