#!/usr/bin/env bash
# e2e-pg.sh: the suites against PostgreSQL: a throwaway cluster (tools/pg.sh, unix socket
# only) for the run; the unit tests of the core on a database of their own (when
# UNIT=build/unit names the unit test binary), then the end-to-end suite, a new database
# per stack; the cluster deleted after.
#   [UNIT=build/unit] tools/e2e-pg.sh [FILES...]    default: the files of tests/e2e that
#                                                  touch the database (see backend_free)
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
# By default every file but those whose subject is not the database (they run once, on
# SQLite, and their storage calls are the same functions the other files run here): the
# package and its units, the docs and lint, stack.sh's and postern-stack's own behaviour
# (ports, folders, the installed copy: SQLite stacks), nginx configs, nginx's limits and
# the check's micro-cache, templates, pages and cookies, the audit log and metrics
# files, worker processes, the MCP SDK's and OpenID Connect's request parameters.
backend_free="deb deps docs lint units stack pstack example-site templates checkcache
	errorpages consent-who cookies demo audit metrics limits procs mcp-sdk oidc-session"
if [ $# -eq 0 ]; then
	for f in e2e/*.test.mjs; do
		n=${f#e2e/}
		case " $(echo $backend_free) " in *" ${n%.test.mjs} "*) continue ;; esac
		set -- "$@" "$f"
	done
fi
POSTERN_PG_DIR=$dir node --test --test-concurrency=1 "$@"
