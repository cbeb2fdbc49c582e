"""Logical topic names (the core's) <-> physical names (with the environment's optional prefix)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicNames:
    prefix: str = ""

    def physical(self, logical: str) -> str:
        return self.prefix + logical

    def logical(self, physical: str) -> str:
        return physical.removeprefix(self.prefix)
