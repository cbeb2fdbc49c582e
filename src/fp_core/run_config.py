"""The run's effective configuration and its digest (changes iff the configuration changes)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from fp_core.canonical import digest
from fp_core.drills.names import ALL_DRILLS
from fp_core.event_class import CLASS_MAP_VERSION
from fp_core.model import FrozenModel
from fp_core.pins import Identifier
from fp_core.scoring import DEFAULT_BUNDLE, DEFAULT_POLICY, DecisionPolicy, ScoringBundle

DRILLS: tuple[str, ...] = ALL_DRILLS


class RunConfig(FrozenModel):
    """Everything that may change what a run decides. Pinned at start; a change means a new run."""

    env: Identifier
    seed: Annotated[int, Field(ge=0)]
    events: Annotated[int, Field(ge=8, le=50_000_000)]
    drills: tuple[str, ...] = ()
    bundle: ScoringBundle = DEFAULT_BUNDLE
    policy: DecisionPolicy = DEFAULT_POLICY
    class_map_version: str = CLASS_MAP_VERSION
    ingest_batch: Annotated[int, Field(ge=1, le=100_000)] = 5_000
    decision_batch: Annotated[int, Field(ge=1, le=100_000)] = 5_000

    @field_validator("drills")
    @classmethod
    def _known_drills(cls, drills: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(drills) - set(DRILLS))
        if unknown:
            raise ValueError(f"unknown drill(s) {unknown}; valid: {list(DRILLS)}")
        return drills


def config_digest(config: RunConfig) -> str:
    """SHA-256 of the canonical effective configuration; drill order does not matter."""
    payload = config.model_dump(mode="json")
    payload["drills"] = sorted(set(payload["drills"]))
    return digest(payload)
