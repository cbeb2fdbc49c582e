"""``python -m build`` gives a wheel and an sdist with the migrations, the settings templates and
``py.typed``; the wheel installs into a fresh virtual environment and its public API works there."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import fraud_platform

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_wheel_and_sdist_carry_the_package_data_and_install_into_a_fresh_venv(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "build", "--outdir", str(tmp_path / "dist"), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    version = fraud_platform.__version__
    wheel = tmp_path / "dist" / f"fraud_platform-{version}-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("fp_adapters/postgres/migrations/001_init.sql", "fp_adapters/config/local_parity.yaml",
                   "fp_adapters/config/dev_min.yaml", "fp_adapters/config/memory.yaml", "fraud_platform/py.typed",
                   "fp_core/py.typed", f"fraud_platform-{version}.dist-info/entry_points.txt"):
        assert needed in names, needed
    with tarfile.open(tmp_path / "dist" / f"fraud_platform-{version}.tar.gz") as tar:
        sdist = {m.name for m in tar.getmembers()}
    assert f"fraud_platform-{version}/src/fp_adapters/postgres/migrations/001_init.sql" in sdist

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run([str(venv / "bin/pip"), "install", "-q", str(wheel)], capture_output=True, text=True,
                               timeout=900)
    assert installed.returncode == 0, installed.stderr[-3000:]
    probe = ("import fraud_platform as fp, pathlib\n"
             "assert 'site-packages' in fp.__file__, fp.__file__\n"
             "assert {'memory', 'local_parity', 'dev_min'} <= set(fp.environments())\n"
             "c = fp.build_container('memory'); c.init_resources()\n"
             "r = c.workflow().run(fp.RunConfig(env='memory', seed=1, events=200), 'pr-wheel')\n"
             "assert r.status == 'COMPLETED' and fp.verify_bundle(r.files) == [], r.summary\n"
             "print('wheel ok', fp.__version__)\n")
    ran = subprocess.run([str(venv / "bin/python"), "-c", probe], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert f"wheel ok {version}" in ran.stdout
