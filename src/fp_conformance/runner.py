"""Run the check list against one environment and report it (``fp conformance``)."""

from __future__ import annotations

import traceback
from typing import Any

from fp_conformance.checks import CHECKS
from fp_conformance.context import ConformanceContext


def run_all(env: str) -> dict[str, Any]:
    """Run every check against ``env``'s adapter set; the report lists each check's result and detail."""
    results = []
    with ConformanceContext.open(env) as ctx:
        for check in CHECKS:
            reason = ctx.ports.conformance_skips.get(check.name)
            if reason is not None:
                results.append({"name": check.name, "law": check.law, "passed": True, "skipped": True,
                                "detail": f"skipped, declared by the adapter set: {reason}"})
                continue
            try:
                results.append({"name": check.name, "law": check.law, "passed": True, "detail": check.run(ctx)})
            except Exception as exc:
                last = traceback.extract_tb(exc.__traceback__)[-1]
                results.append({"name": check.name, "law": check.law, "passed": False,
                                "detail": f"{type(exc).__name__}: {exc} ({last.name}:{last.lineno})"[:500]})
    return {"env": env, "checks": results}
