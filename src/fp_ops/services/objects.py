"""The local object store: versitygw (an S3 API gateway) over its POSIX backend, so every object of
local_parity (oracle, archive, quarantine, evidence) is a file under the substrate directory and
survives ``fp substrate down``/``up``. It honours ``If-None-Match: *`` (412 PreconditionFailed), which
the S3 adapter's write-once puts rely on. Built once from the Go module proxy at a pinned version."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from fp_adapters.aws import EMULATOR_KEY
from fp_ops import layout
from fp_ops.process import SpawnedService, SubstrateError, say


def versitygw_binary(bin_dir: Path | None = None) -> Path:
    """The pinned versitygw, built with ``go install`` into the substrate cache on first use."""
    bin_dir = bin_dir or layout.cache_bin()
    exe = bin_dir / "versitygw"
    stamp = bin_dir / "versitygw.version"
    if exe.exists() and stamp.exists() and stamp.read_text().strip() == layout.VERSITYGW_VERSION:
        return exe
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        raise SubstrateError("objects: the Go toolchain (go) is not installed; run the README setup command")
    say(f"objects: building versitygw {layout.VERSITYGW_VERSION} with go install (first time only)")
    bin_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([go, "install", f"{layout.VERSITYGW_MODULE}@{layout.VERSITYGW_VERSION}"],
                          capture_output=True, text=True, env={**os.environ, "GOBIN": str(bin_dir)}, timeout=1800)
    if proc.returncode != 0 or not exe.exists():
        log = bin_dir / "versitygw-build.log"
        log.write_text(proc.stdout + proc.stderr)
        raise SubstrateError(f"objects: building versitygw failed (is the Go module proxy reachable?); see {log}")
    stamp.write_text(layout.VERSITYGW_VERSION + "\n")
    return exe


class ObjectStoreService(SpawnedService):
    def __init__(self) -> None:
        super().__init__("objects", layout.OBJECTS_PORT, f"http://127.0.0.1:{layout.OBJECTS_PORT}",
                         lambda: layout.substrate_dir() / "objects")

    @property
    def data(self) -> Path:
        return self.dir / "data"

    def start(self) -> None:
        if self.running():
            return
        exe = versitygw_binary()
        self.data.mkdir(parents=True, exist_ok=True)
        # Fixed, non-secret credentials: the same emulator key the AWS clients use on loopback.
        self.spawn([str(exe), "--port", f"127.0.0.1:{self.port}", "--region", "eu-west-2", "--quiet", "posix",
                    str(self.data)],
                   env={"ROOT_ACCESS_KEY_ID": EMULATOR_KEY, "ROOT_SECRET_ACCESS_KEY": EMULATOR_KEY})

    def healthy(self) -> bool:
        """A real round trip: an authenticated ListBuckets."""
        import boto3

        client = boto3.client("s3", endpoint_url=self.address, region_name="eu-west-2",
                              aws_access_key_id=EMULATOR_KEY, aws_secret_access_key=EMULATOR_KEY)
        client.list_buckets()
        return True
