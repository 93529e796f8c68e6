#!/usr/bin/env bash
# deps.sh: install what building and running postern needs (`server`: `make run`), or that
# and what testing it needs (`all`, the default: `make test`), when missing.
# Debian packages are installed only when run as root (otherwise it says what is
# missing); the npm packages of the tests come from tests/package-lock.json.
#   tools/deps.sh [server|all]          install what is missing
#   tools/deps.sh --list [server|all]   print the Debian packages, one a line, and stop
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
list=0
if [ "${1:-}" = --list ]; then list=1; shift; fi
what=${1:-all}
case "$what" in server | all) ;; *) echo "usage: tools/deps.sh [--list] [server|all]" >&2; exit 2 ;; esac

# the server: build, run, the admin command, stack.sh (curl waits for /health; sqlite3
# moves a state folder to another port); libpq-dev: the PostgreSQL backend's client
debs="build-essential pkg-config libfcgi-dev libsqlite3-dev libpq-dev libsodium-dev libcjson-dev libssl-dev
      libcurl4-openssl-dev nginx-light spawn-fcgi curl sqlite3 openssl"
# the tests, the benchmarks and the fuzzers (libnginx-mod-http-js: the optional micro-cache
# of the check, conf/check_cache.js, which the tests try; postgresql: the throwaway
# clusters of tools/pg.sh, its psql the tests' queries; python3-pytest: the README's pytest
# fixture for other projects' test suites, run against an installed postern-stack)
[ "$what" = all ] && debs="$debs libnginx-mod-http-js jq nodejs npm chromium clang wrk postgresql python3-pytest"
if [ $list = 1 ]; then
	printf '%s\n' $debs
	exit 0
fi
missing=()
for p in $debs; do
	# nginx-light is satisfied by any nginx that provides the binary
	if [ "$p" = nginx-light ]; then command -v nginx >/dev/null && continue; fi
	if [ "$p" = nodejs ]; then command -v node >/dev/null && continue; fi
	if [ "$p" = npm ]; then command -v npm >/dev/null && continue; fi
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "deps: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	else
		echo "deps: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
		exit 1
	fi
fi
# nginx from Debian starts a system instance on install; postern runs its own.
[ "$what" = server ] && exit 0
# npm packages of the tests, pinned by tests/package-lock.json; reinstalled when it changes
lock="$root/tests/package-lock.json"
stamp="$root/tests/node_modules/.postern-lock.sha256"
if [ -f "$lock" ]; then
	want=$(sha256sum "$lock" | cut -d' ' -f1)
	if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
		echo "deps: npm ci in tests/"
		(cd "$root/tests" && npm ci --no-audit --no-fund --loglevel=error)
		printf '%s\n' "$want" >"$stamp"
	fi
fi
