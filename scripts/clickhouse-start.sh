#!/usr/bin/env bash
# Starts a throw-away ClickHouse server with its data under DIR, listening on
# 127.0.0.1 only, and prints its PID. Usage:
#   scripts/clickhouse-start.sh DIR HTTP_PORT TCP_PORT [REMOTE_SERVERS_XML]
# REMOTE_SERVERS_XML, when given, is placed inside <remote_servers>.
# Stop it with: kill "$(cat DIR/clickhouse.pid)"
set -euo pipefail
dir=$(realpath -m "$1"); http=$2; tcp=$3; remote=${4:-}
mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas" "$dir/log"
cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/log/server.log</log><errorlog>$dir/log/server.err.log</errorlog><size>50M</size><count>2</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <timezone>UTC</timezone>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <users_config>$dir/users.xml</users_config>
  <remote_servers>$remote</remote_servers>
</yandex>
XML
cat >"$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage><max_threads>2</max_threads></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
nohup clickhouse-server --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 &
echo $! >"$dir/clickhouse.pid"
for _ in $(seq 1 100); do
	if curl -fsS "http://127.0.0.1:$http/ping" >/dev/null 2>&1; then
		cat "$dir/clickhouse.pid"
		exit 0
	fi
	if ! kill -0 "$(cat "$dir/clickhouse.pid")" 2>/dev/null; then
		echo "clickhouse-server exited; see $dir/log" >&2
		tail -20 "$dir/log/stdout.log" "$dir/log/server.err.log" >&2 2>/dev/null || true
		exit 1
	fi
	sleep 0.1
done
echo "clickhouse-server did not answer on :$http" >&2
exit 1
