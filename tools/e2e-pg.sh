#!/usr/bin/env bash
# e2e-pg.sh: the end-to-end suite against PostgreSQL: a throwaway cluster (tools/pg.sh,
# unix socket only) for the run, a new database per stack, the cluster deleted after.
#   tools/e2e-pg.sh [FILES...]    default: every file of tests/e2e
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/postern-pg.XXXXXX)
trap '"$root/tools/pg.sh" down "$dir" >/dev/null 2>&1 || true' EXIT
"$root/tools/pg.sh" up "$dir" >/dev/null
cd "$root/tests"
[ $# -gt 0 ] || set -- e2e/
POSTERN_PG_DIR=$dir node --test --test-concurrency=1 "$@"
