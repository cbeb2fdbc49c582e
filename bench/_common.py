"""What the benchmarks share: the standard arguments, and a started local_parity container with the
scenario's world already sealed (sealing is the engine's work, not the platform's, so it is not timed)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from fp_adapters.containers import Platform
from fp_apps.wiring import platform
from fp_core.services.sr import seal_world


def arguments(events: int, seed: int, **extra: float | bool | str) -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=events)
    ap.add_argument("--seed", type=int, default=seed)
    for name, default in extra.items():
        if isinstance(default, bool):
            ap.add_argument(f"--{name.replace('_', '-')}", dest=name, action="store_true",
                            help=name.replace("_", " "))
        else:
            ap.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type(default), default=default)
    return ap.parse_args()


@contextmanager
def sealed_platform(seed: int, events: int, warm_stages: bool = False, ig_lanes: bool | None = None
                    ) -> Iterator[Platform]:
    """The local_parity platform with the world sealed; ``warm_stages`` as ``fp run`` starts it (D57), IG's
    lanes forked where ``ig_lanes`` (default: ``warm_stages``) says, as ``fp run`` and ``fp-wsp`` fork them."""
    with platform("local_parity", warm_stages=warm_stages, ig_lanes=ig_lanes) as container:
        seal_world(container.adapters.objects(), seed, events)
        yield container
