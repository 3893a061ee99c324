#!/bin/sh
# Runs the benchmarks and writes RESULTS.md beside this script. Installs
# Debian's memcached and redis-server packages first when either binary
# is missing. Flags are passed on to the program (go run . -h lists them).
set -eu
cd "$(dirname "$0")"

missing=""
command -v memcached >/dev/null 2>&1 || missing="$missing memcached"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
if [ -n "$missing" ]; then
	echo "installing$missing" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
fi

exec go run . "$@"
