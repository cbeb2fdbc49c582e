"""Base class of every boundary model: frozen, strict, unknown fields rejected."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    """Immutable value object; validation errors name the offending field."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)
