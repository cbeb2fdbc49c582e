"""Run pins: the facts a run fixes at its start and every record carries to the end (law 7.5)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from fp_core.model import FrozenModel

IDENTIFIER_PATTERN = r"^[A-Za-z0-9_.:\-]+$"
IDENTIFIER_MAX = 128
Identifier = Annotated[str, Field(min_length=1, max_length=IDENTIFIER_MAX, pattern=IDENTIFIER_PATTERN)]
HexDigest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class ContextPins(FrozenModel):
    """Run identity and the pinned inputs a run was authorised with."""

    platform_run_id: Identifier
    scenario_run_id: Identifier
    manifest_fingerprint: HexDigest
    seed: Annotated[int, Field(ge=0)]
    schema_version: Identifier
    policy_id: Identifier
    bundle_id: Identifier

    def foreign_fields(self, other: ContextPins) -> list[str]:
        """Names of the pins where ``other`` differs from these (empty when they agree)."""
        if self == other:  # the common case, without dumping either
            return []
        mine, theirs = self.model_dump(), other.model_dump()
        return sorted(name for name in mine if mine[name] != theirs[name])
