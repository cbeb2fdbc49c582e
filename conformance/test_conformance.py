"""Every check of ``fp_conformance.checks.CHECKS`` against the environment named by ``--env``."""

from __future__ import annotations

import pytest

from fp_conformance.checks import CHECKS, Check
from fp_conformance.context import ConformanceContext


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_law_holds(conformance_ctx: ConformanceContext, check: Check) -> None:
    reason = conformance_ctx.ports.conformance_skips.get(check.name)
    if reason is not None:
        pytest.skip(f"declared by the adapter set: {reason}")
    check.run(conformance_ctx)
