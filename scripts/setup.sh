#!/usr/bin/env bash
# Set up a fresh Debian machine for fraud-platform: system packages that are missing, .venv with the
# project, and the local_parity substrate (Kafka, Postgres, Redis, moto) running. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
command -v git >/dev/null 2>&1 || need+=(git)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
# The local object store (versitygw) is built once with the Go toolchain from the Go module proxy.
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || need+=(golang-go)
if [ ${#need[@]} -gt 0 ]; then
  echo "[setup] installing system packages: ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The Debian package starts its own services; ours run on other ports with our own data directories.
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi

if [ ! -x .venv/bin/fp ] || [ pyproject.toml -nt .venv/.installed ]; then
  echo "[setup] creating .venv and installing the project" >&2
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[dev,substrate]'
  touch .venv/.installed
fi

.venv/bin/fp substrate up
