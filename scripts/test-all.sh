#!/usr/bin/env bash
# Every test: set everything up, then lint, type-check, unit tests (with fp_core coverage gate),
# adapter contracts, substrate lifecycle and end-to-end runs on the real local substrate.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1; then
  echo "[setup] installing chromium (the evidence report's browser test)" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
if [ ! -x .venv-checkov/bin/checkov ]; then
  echo "[setup] installing checkov in its own environment (its hcl2 conflicts with python-hcl2)" >&2
  python3 -m venv .venv-checkov
  .venv-checkov/bin/pip install -q 'checkov>=3.2,<4'
fi
echo "== ruff"; .venv/bin/ruff check src tests bench examples conformance
echo "== mypy --strict"; .venv/bin/mypy && .venv/bin/mypy bench examples/quickstart.py examples/read_evidence.py
echo "== import-linter (layers, a pure core, conformance through ports only)"; .venv/bin/lint-imports --no-cache
echo "== unit tests (fp_core line coverage >= 95%)"
.venv/bin/python -m pytest tests/unit -q --cov=src/fp_core --cov-report=term:skip-covered --cov-fail-under=95
echo "== library use: examples, a third-party adapter set certified by the suite, the wheel, the API docs"
.venv/bin/pip install -q --no-deps -e examples/fs_adapter_set
.venv/bin/python -m pytest tests/examples tests/packaging -q
rm -rf .build/api-docs
.venv/bin/python -W error -W "ignore:inspect.getdoc(<function BaseModel:UserWarning" \
  -W "ignore:getattr(<class 'pydantic.main.BaseModel'>:UserWarning" -W "ignore::DeprecationWarning:botocore" \
  -m pdoc -o .build/api-docs fraud_platform
echo "API reference: .build/api-docs/index.html"
echo "== integration and end-to-end tests on the real substrate"
.venv/bin/python -m pytest tests/infra tests/integration tests/e2e -q -rs
echo "== conformance suite: memory (the declared in-memory adapter set)"
.venv/bin/python -m pytest conformance --env memory -q
echo "== conformance suite: local_parity"
.venv/bin/python -m pytest conformance --env local_parity -q
echo "== conformance suite: dev_min (emulated managed endpoints)"
.venv/bin/python -m pytest conformance --env dev_min -q
