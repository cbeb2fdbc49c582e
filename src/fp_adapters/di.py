"""dependency-injector, imported without its optional web-framework integrations.

``dependency_injector.wiring`` (imported by its ``containers``) imports FastAPI, Starlette, Werkzeug and
fast-depends when they are installed, to recognise their markers in wired functions. The platform wires
no function (services are built by providers, never by ``@inject``), and FastAPI is installed only for
the IG HTTP service, yet every process paid for importing it: 0.25-0.45 s of each component's start on
this machine (D57). While dependency-injector imports, a framework not already loaded is marked absent,
so its probe fails fast; the marks are removed afterwards and a later ``import fastapi`` works as usual.
"""

from __future__ import annotations

import sys

_PROBED = ("fastapi", "starlette", "werkzeug", "fast_depends")


def _import_quietly() -> None:
    hidden = [name for name in _PROBED if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # Python's "known absent" mark: ImportError
    try:
        import dependency_injector.containers  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


_import_quietly()

from dependency_injector import containers, providers  # noqa: E402

__all__ = ["containers", "providers"]
