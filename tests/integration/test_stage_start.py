"""What a component's start-up leaves behind for the run: no start-up state in the young generation
(a collection of it paused RTDL 15-35 ms in the middle of a run), no zero-filling of WAL on commit."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from fp_adapters.settings import load_settings

pytestmark = [pytest.mark.substrate]

# A fresh interpreter, as a stage process starts: enter the platform, make the first object-store call
# (every component's first read of the fact log), report what the young generation then holds.
FIRST_READ = """
import gc
from fp_apps.wiring import platform
with platform("local_parity") as container:
    gc.collect(0)
    container.adapters.objects().exists("evidence/runs/none/run.json")
    print(gc.get_count()[0])
"""


def test_start_up_state_is_frozen_before_the_first_object_store_call(substrate: None) -> None:
    out = subprocess.run([sys.executable, "-c", FIRST_READ], capture_output=True, text=True, timeout=120, check=True)
    young = int(out.stdout.split()[-1])
    # Building the object store's client after the freeze left ~37k objects (its service models) in the
    # young generation; built before it, the first call leaves about a thousand.
    assert young < 5_000, f"{young} objects in the young generation after start-up"


def test_postgres_does_not_zero_fill_wal_segments_on_commit(substrate: None) -> None:
    with psycopg.connect(load_settings("local_parity").postgres.dsn) as conn:
        row = conn.execute("SHOW wal_init_zero").fetchone()
    assert row == ("off",)
