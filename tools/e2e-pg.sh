#!/usr/bin/env bash
# e2e-pg.sh: the suites against PostgreSQL: a throwaway cluster (tools/pg.sh, unix socket
# only) for the run; the unit tests of the core on a database of their own (when
# UNIT=build/unit names the unit test binary), then the end-to-end suite, a new database
# per stack; the cluster deleted after.
#   [UNIT=build/unit] tools/e2e-pg.sh [FILES...]    default: every file of tests/e2e
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/postern-pg.XXXXXX)
trap '"$root/tools/pg.sh" down "$dir" >/dev/null 2>&1 || true' EXIT
"$root/tools/pg.sh" up "$dir" >/dev/null
if [ -n "${UNIT:-}" ]; then
	echo "# unit tests on PostgreSQL"
	# the tests' expected warnings left out; failures and the count shown
	# from the tree's root, where the unit tests find the templates and example config
	unit=$(cd "$(dirname "$UNIT")" && pwd)/$(basename "$UNIT")
	(cd "$root" && POSTERN_UNIT_DATABASE=$("$root/tools/pg.sh" createdb "$dir" unit) "$unit") 2>&1 |
		grep -Ev '^[0-9TZ:-]+ postern (warn|info):'

fi
cd "$root/tests"
[ $# -gt 0 ] || set -- e2e/
POSTERN_PG_DIR=$dir node --test --test-concurrency=1 "$@"
