"""A third-party adapter set in a dozen lines of wiring: fraud-platform's memory set, with the object
store replaced by one on the local file system. Installing this package registers ``fs_memory``;
``fp conformance --env fs_memory`` certifies it with the platform's own suite."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dependency_injector import providers

from fp_adapters.containers import MemoryAdapters
from fraud_platform import NotFound, ObjectExists, Settings


class FileSystemObjectStore:
    """Keys are paths under ``root``. Write-once by ``O_CREAT | O_EXCL`` (the file system refuses the
    second create, atomically); an explicit overwrite goes through a temporary file and ``os.replace``."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError(f"key {key!r} leaves the store's root")
        return path

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()

    def put(self, key: str, data: bytes, *, overwrite: bool = False) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        if overwrite:
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
            return
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise ObjectExists(f"{self.uri(key)} exists and is write-once") from None
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(self.uri(key)) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix.rsplit("/", 1)[0]) if "/" in prefix else self.root
        if not base.is_dir():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())
        return sorted(k for k in keys if k.startswith(prefix) and ".tmp" not in Path(k).name)


def _store(settings: Settings) -> FileSystemObjectStore:
    root = Path(settings.plugin.get("root", Path.home() / ".cache" / "fp-fs-objects"))
    return FileSystemObjectStore(root / settings.memory.namespace)


class FsMemoryAdapters(MemoryAdapters):
    """Every port from the memory set except the object store."""

    DEFAULT_SETTINGS = {"env": "fs_memory", "memory": {"namespace": "fs-memory"}}
    objects = providers.Singleton(_store, MemoryAdapters.settings)
