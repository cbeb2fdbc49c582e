"""The moto server: the AWS APIs (S3, DynamoDB, SSM) on loopback."""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

from fp_ops import layout
from fp_ops.process import SpawnedService, SubstrateError


class MotoService(SpawnedService):
    def __init__(self) -> None:
        super().__init__("moto", layout.MOTO_PORT, f"http://127.0.0.1:{layout.MOTO_PORT}",
                         lambda: layout.substrate_dir() / "moto")

    def start(self) -> None:
        if self.running():
            return
        exe = Path(sys.executable).with_name("moto_server")
        if not exe.exists():
            raise SubstrateError("moto: moto_server is not installed in this environment (pip extra 'substrate')")
        self.spawn([str(exe), "-H", "127.0.0.1", "-p", str(self.port)])

    def healthy(self) -> bool:
        with urllib.request.urlopen(f"{self.address}/moto-api/", timeout=2) as resp:
            return bool(resp.status == 200)
