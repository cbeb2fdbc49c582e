"""PostgreSQL 15 from the Debian packages: initdb under the substrate directory, run as the postgres
user when we are root, on a loopback port."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from fp_adapters.settings import REPO_ROOT
from fp_ops import layout
from fp_ops.process import SubstrateError, alive, port_open

DATABASE = "fraud_platform"


def traversable_by_others(path: Path) -> bool:
    """Whether a non-owner (the postgres user) can reach ``path``: every existing ancestor is o+x."""
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents] if p.exists())


def postgres_home() -> Path:
    """Postgres runs as the postgres user when we are root: its data must sit where that user can reach
    it. Inside the repo when possible, otherwise a per-repository directory under /var/tmp."""
    inside = layout.substrate_dir() / "postgres"
    if os.geteuid() != 0 or traversable_by_others(layout.substrate_dir().parent):
        return inside
    return Path("/var/tmp") / f"fp-substrate-{hashlib.sha256(str(REPO_ROOT).encode()).hexdigest()[:10]}" / "postgres"


def ensure_database(dsn: str) -> None:
    """Create the DSN's database when it is missing (through the server's ``postgres`` database)."""
    import psycopg

    base, name = dsn.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True, connect_timeout=3) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class PostgresService:
    name = "postgres"
    port = layout.POSTGRES_PORT
    address = f"postgresql://fp@127.0.0.1:{layout.POSTGRES_PORT}/{DATABASE}"
    start_timeout_s = 30.0

    @property
    def dir(self) -> Path:
        return postgres_home()

    @property
    def log(self) -> Path:
        return self.dir / "postgres.log"

    @property
    def data(self) -> Path:
        return self.dir / "data"

    def pid(self) -> int | None:
        pm = self.data / "postmaster.pid"
        return int(pm.read_text().splitlines()[0]) if pm.exists() else None

    def running(self) -> bool:
        return alive(self.pid())

    def start(self) -> None:
        if self.running():
            return
        pg_bin = layout.pg_bin()
        if not (pg_bin / "initdb").exists():
            raise SubstrateError(f"postgres: binaries not found in {pg_bin}; run the README setup command")
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            for d in (self.dir.parent, self.dir):
                d.chmod(0o755)
            shutil.chown(self.dir, "postgres", "postgres")
            if not traversable_by_others(self.dir.parent):
                raise SubstrateError(f"postgres: {self.dir} is not reachable by the postgres user; "
                                     f"set FP_SUBSTRATE_DIR to a world-traversable location")
        if not (self.data / "PG_VERSION").exists():
            res = subprocess.run(_as_postgres([str(pg_bin / "initdb"), "-D", str(self.data), "-U", "fp",
                                               "--auth=trust", "-E", "UTF8", "--no-sync"]),
                                 capture_output=True, text=True)
            if res.returncode != 0:
                self.log.write_text(res.stdout + res.stderr)
                raise SubstrateError(f"postgres: initdb failed; see {self.log}")
        if port_open(self.port):
            raise SubstrateError(f"postgres: port {self.port} is in use by another process")
        if os.geteuid() == 0:
            self.log.touch()
            shutil.chown(self.log, "postgres", "postgres")
        # Write-heavy and append-only: room for the truth stores' hot index pages, checkpoints far apart
        # (each one makes the next write to every page a full-page image in the WAL), and lz4 for those
        # images (pglz cost Postgres more CPU than the inserts). Durability is untouched: fsync,
        # synchronous_commit and full_page_writes keep their defaults. Measured in D49. New WAL segments are
        # not zero-filled first: the commit that crossed into one wrote 16 MB of zeroes, a 10-60 ms stall
        # every ~2 s at 5,000 events/s (D63).
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c shared_buffers=1GB "
                "-c max_connections=100 -c wal_compression=lz4 -c max_wal_size=8GB -c checkpoint_timeout=15min "
                "-c wal_init_zero=off")
        res = subprocess.run(_as_postgres([str(pg_bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                                           "-o", opts, "-w", "-t", "60", "start"]), capture_output=True, text=True)
        if res.returncode != 0:
            raise SubstrateError(f"postgres: start failed ({res.stderr.strip()[:200]}); see {self.log}")

    def healthy(self) -> bool:
        ensure_database(self.address)
        return True

    def stop(self) -> bool:
        if not self.running():
            return False
        subprocess.run(_as_postgres([str(layout.pg_bin() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                                     "stop"]), capture_output=True)
        return True
