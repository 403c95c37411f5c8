#!/usr/bin/env bash
# Installs what the tests need that Go and npm do not bring: Debian's
# Chromium for the browser end-to-end tests and Debian's ClickHouse for the
# ClickHouse backend's conformance tests. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "chromium is missing; run as root or: sudo apt-get install -y chromium" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q chromium
fi
chromium --version
./scripts/clickhouse-install.sh
