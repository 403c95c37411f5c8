#!/usr/bin/env bash
# Installs Debian's ClickHouse server and client when they are missing.
# Idempotent: does nothing when clickhouse-server is already on PATH.
set -euo pipefail
if command -v clickhouse-server >/dev/null 2>&1; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "clickhouse-install: run as root (apt-get install clickhouse-server clickhouse-client)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q clickhouse-server clickhouse-client
# The package enables a system-wide server on the default ports; the tests
# start their own servers, so keep the packaged one from holding 8123/9000.
if command -v systemctl >/dev/null 2>&1; then
	systemctl disable --now clickhouse-server >/dev/null 2>&1 || true
fi
