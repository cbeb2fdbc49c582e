"""Load a Terraform stack with python-hcl2, normalised (quotes stripped) into plain dicts and lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items() if k not in ("__comments__", "__is_block__")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def load_stack(path: Path) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for tf in sorted(path.glob("*.tf")):
        with tf.open() as f:
            for block, items in _clean(hcl2.load(f)).items():
                merged.setdefault(block, []).extend(items)
    return merged


def resources(stack: dict[str, list[Any]], kind: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in stack.get("resource", []):
        for rtype, named in item.items():
            if rtype == kind:
                out.update(named)
    return out


def all_resource_types(stack: dict[str, list[Any]]) -> set[str]:
    return {rtype for item in stack.get("resource", []) for rtype in item}


def raw_text(path: Path) -> str:
    return "\n".join(tf.read_text() for tf in sorted(path.glob("*.tf")))
