"""The public surface as text (internal): every name of ``fraud_platform.__all__`` with its signature,
fields or methods. ``python -m fraud_platform._surface`` prints it; ``docs/public_api.txt`` holds the
released one and ``CHANGELOG.md`` names its digest, so the surface cannot change unannounced."""

from __future__ import annotations

import enum
import hashlib
import inspect
import re
from typing import Any

import msgspec
from pydantic import BaseModel


def _signature(obj: Any) -> str:
    try:
        return re.sub(r" at 0x[0-9a-f]+", "", str(inspect.signature(obj)))
    except (TypeError, ValueError):
        return "(...)"


def _describe(name: str, obj: Any) -> list[str]:
    if inspect.isclass(obj):
        bases = ", ".join(b.__name__ for b in obj.__bases__)
        lines = [f"class {name}({bases})"]
        if issubclass(obj, enum.Enum):
            lines += [f"  {m.name} = {m.value!r}" for m in obj]
        elif isinstance(getattr(obj, "cls_providers", None), dict):  # a dependency-injector container
            lines += [f"  provider {p}: {type(v).__name__}" for p, v in sorted(obj.cls_providers.items())]
        elif issubclass(obj, BaseModel):
            lines += [f"  {f}: {info.annotation!r}".replace("typing.", "")
                      for f, info in obj.model_fields.items()]
        elif issubclass(obj, msgspec.Struct):  # plain data: its constructor is its fields
            lines.append(f"  def __init__{_signature(obj)}")
        for attr, value in sorted(vars(obj).items()):
            if attr.startswith("_") and attr != "__init__":
                continue
            if inspect.isfunction(value) or isinstance(value, (classmethod, staticmethod)):
                fn = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
                lines.append(f"  def {attr}{_signature(fn)}")
            elif isinstance(value, property):
                lines.append(f"  property {attr}")
        return lines
    if callable(obj):
        return [f"def {name}{_signature(obj)}"]
    return [f"{name} = {obj!r}"]


def surface() -> str:
    import fraud_platform

    lines: list[str] = []
    for name in sorted(fraud_platform.__all__):
        lines += _describe(name, getattr(fraud_platform, name))
    return "\n".join(lines) + "\n"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


if __name__ == "__main__":
    print(surface(), end="")
