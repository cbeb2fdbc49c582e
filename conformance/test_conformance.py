"""Every check of ``fp_conformance.checks.CHECKS`` against the environment named by ``--env``."""

from __future__ import annotations

import pytest

from fp_conformance.checks import CHECKS, Check
from fp_conformance.context import ConformanceContext


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_law_holds(conformance_ctx: ConformanceContext, check: Check) -> None:
    check.run(conformance_ctx)
