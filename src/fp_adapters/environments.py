"""Adapter sets are found by name through the ``fraud_platform.environments`` entry-point group, so an
installed package can add one; the built-in sets (memory, local_parity, dev_min) register the same way.

An entry point names a dependency-injector container class providing the ports (see
``docs/adapter_sets.md``). It may carry ``DEFAULT_SETTINGS`` (a dict) used when no settings file
exists for the environment, and ``OVERRIDES`` (inherited provider -> its own replacement).
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

from fp_core.errors import ConfigError

GROUP = "fraud_platform.environments"


def registered() -> dict[str, EntryPoint]:
    """Every registered adapter set by name (the first registration of a name wins)."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    return found


def adapter_set_class(name: str) -> Any:
    """The container class registered as ``name``; an unknown name lists the registered ones."""
    eps = registered()
    if name not in eps:
        raise ConfigError(f"unknown environment {name!r}; registered: {sorted(eps)}")
    try:
        return eps[name].load()
    except Exception as exc:  # a broken plug-in must say which one and why, not crash with a traceback
        raise ConfigError(f"environment {name!r} ({eps[name].value}) could not be loaded: {exc}") from exc
