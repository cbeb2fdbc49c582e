#!/usr/bin/env bash
# Every test: set everything up, then lint, type-check, unit tests (with fp_core coverage gate),
# adapter contracts, substrate lifecycle and end-to-end runs on the real local substrate.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff"; .venv/bin/ruff check src tests bench
echo "== mypy --strict"; .venv/bin/mypy
echo "== unit tests (fp_core line coverage >= 95%)"
.venv/bin/python -m pytest tests/unit -q --cov=src/fp_core --cov-report=term:skip-covered --cov-fail-under=95
echo "== integration and end-to-end tests on the real substrate"
.venv/bin/python -m pytest tests/integration tests/e2e -q
echo "== conformance suite: local_parity"
.venv/bin/python -m pytest conformance --env local_parity -q
echo "== conformance suite: dev_min (emulated managed endpoints)"
.venv/bin/python -m pytest conformance --env dev_min -q
