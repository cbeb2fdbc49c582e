#!/usr/bin/env bash
# The main job: set everything up, then a full local_parity platform run with every incident drill.
# Prints a short summary and where the evidence bundle is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/fp run --env local_parity --drill all "$@"
