"""Redis from the Debian package, append-only file on, on a loopback port."""

from __future__ import annotations

import shutil

from fp_ops import layout
from fp_ops.process import SpawnedService, SubstrateError


class RedisService(SpawnedService):
    def __init__(self) -> None:
        super().__init__("redis", layout.REDIS_PORT, f"redis://127.0.0.1:{layout.REDIS_PORT}/0",
                         lambda: layout.substrate_dir() / "redis")

    def start(self) -> None:
        if self.running():
            return
        exe = shutil.which("redis-server")
        if exe is None:
            raise SubstrateError("redis: redis-server is not installed; run the README setup command")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.spawn([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                    "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
                    "--logfile", str(self.log)])

    def healthy(self) -> bool:
        import redis

        return bool(redis.Redis(port=self.port, socket_timeout=2).ping())
