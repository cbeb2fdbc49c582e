"""The one retry policy: bounded attempts with capped exponential backoff on an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fp_core.ports import Clock


@dataclass(frozen=True)
class RetryPolicy:
    """Immutable, so one instance may be every caller's default."""

    attempts: int = 5
    base_s: float = 0.1
    cap_s: float = 2.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        return min(self.cap_s, self.base_s * float(2**attempt))

    def attempts_on(self, clock: Clock) -> Iterator[int]:
        """Attempt numbers ``0 .. attempts-1``, sleeping the backoff before each retry. A caller that
        succeeds stops iterating; one that runs out raises its own error naming what stayed unresolved."""
        for attempt in range(self.attempts):
            if attempt:
                clock.sleep(self.delay(attempt - 1))
            yield attempt
