#!/usr/bin/env bash
# bench-smoke.sh: part of `make test`. Runs the benchmark harness once on each backend,
# very short (bench/run.sh --quick, then --quick --pg), and checks that each printed a
# well-formed report: which database it measured, every row, every section, numbers
# where numbers belong. It never checks what the numbers are.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# the runs' folders go in a folder of this script's: whatever a run killed outright left
# running there (a stack, a PostgreSQL cluster) is stopped on the way out
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-smoke.XXXXXX")
chmod 755 "$tmp" # nginx workers may run as another user
out=""
cleanup() {
	local d
	for d in "$tmp"/postern-bench.*; do
		[ -d "$d/stack" ] && "$root/tools/stack.sh" down "$d/stack" >/dev/null 2>&1
		[ -d "$d/pg" ] && "$root/tools/pg.sh" down "$d/pg" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "bench-smoke: FAIL: $*" >&2
	echo "--- report:" >&2
	cat "$out" >&2
	exit 1
}

# quick BACKEND SECONDS: one quick run, bounded (the harness stops everything it started
# when it exits, killed or not); its report in $out
quick() {
	out="$tmp/report-$1.txt"
	# the peer (oidc-provider) does not depend on postern's database: measured once, with
	# SQLite
	local peer=()
	[ "$1" = pg ] && peer=(--no-peer)
	# one concurrency: the smoke checks the harness, not the numbers
	if ! BENCH_CONNS=16 TMPDIR=$tmp BENCH_KEEP=0 timeout --signal=TERM --kill-after=10 "$2" "$root/bench/run.sh" --quick "--$1" "${peer[@]}" \
		>"$out" 2>"$out.log"; then
		tail -n 20 "$out.log" >&2
		fail "bench/run.sh --quick --$1 exited with an error"
	fi
}

num='[0-9]+(\.[0-9]+)?'
# a main-table row: name, conns, req/s, p50, p99, cpu, [PostgreSQL's cpu: $2], [ceiling
# words], ratio, ratio, errors
row_re() {
	printf '^%s +(16|64) +%s +%s +%s +%s %s.* +(%s|-) +(%s|-) +[0-9]+$' "$1" "$num" "$num" "$num" "$num" \
		"${2:+" *$2 "}" "$num" "$num"
}

# check BACKEND: the report in $out is well formed
check() {
	local db_num="" db_none="" db_col="" r n p
	if [ "$1" = pg ]; then
		db_num="$num" db_none="-" db_col=" +db_us/req"
		grep -Eq '^database: PostgreSQL [0-9]+ \(durable: fsync, synchronous_commit on\)$' "$out" ||
			fail "no (durable) PostgreSQL database line"
		grep -Eq 'report written to .*/report-pg-[0-9T]+\.txt$' "$out.log" || fail "the report's file name does not say pg"
	else
		grep -Eq '^database: SQLite \(WAL, synchronous = (revocations|full|normal)\)$' "$out" ||
			fail "no SQLite database line"
	fi
	grep -Eq "^endpoint +conns +req/s +p50_ms +p99_ms +cpu_us/req$db_col +ceiling +vs_ceil +postern/peer +errors$" "$out" ||
		fail "no header of the main table"
	local rows=("nginx return 204" "ceiling: fixed body" "ceiling: one SELECT" "ceiling: one INSERT"
		"check, live token" "check, DPoP proof \\(ES256\\)" "check, DPoP proof \\(EdDSA\\)"
		"check, unknown token" "check, malformed token" "introspect"
		"token, code redemption" "token, code redemption \\(openid, RS256\\)"
		"token, code redemption \\(openid, EdDSA\\)" "authorize, consent page" "device-token poll")
	for r in "${rows[@]}"; do
		n=$(grep -Ec "$(row_re "$r" "$db_num")" "$out" || true)
		[ "$n" = 1 ] || fail "row \"$r\": $n well-formed lines, expected one (BENCH_CONNS=16)"
	done
	if [ "$1" = sqlite ] && { [ -f "$root/tests/node_modules/oidc-provider/package.json" ] ||
		[ -f "$root/bench/node_modules/oidc-provider/package.json" ]; }; then
		for r in "peer: token \(client_credentials\)" "peer: introspect"; do
			n=$(grep -Ec "$(row_re "$r" "$db_none")" "$out" || true)
			[ "$n" = 1 ] || fail "row \"$r\": $n well-formed lines, expected one (BENCH_CONNS=16)"
		done
	fi
	grep -Eq '^dpop: a fresh proof per request, signed before each run \(at most [0-9]+ a run\); dpop_proof_lifetime: [0-9]+ s' "$out" ||
		fail "no line on the DPoP proofs"
	grep -Eq '^jti cache: rows in dpop_proofs when each run starts, 0 vs [0-9]+ \(seeded in [0-9.]+ s\)$' "$out" ||
		fail "no jti cache section"
	local db_pair=""
	[ "$1" = pg ] && db_pair="( +$num){2}"
	for r in EdDSA; do # a quick run measures one row at a million proofs
		# req/s req/s ratio p99 p99 cpu cpu [PostgreSQL's cpu cpu]
		n=$(grep -Ec "^check, DPoP proof \\($r\\) +16( +$num){2} +($num|-)( +$num){4}$db_pair$" "$out" || true)
		[ "$n" = 1 ] || fail "jti cache rows of \"$r\": $n well-formed lines, expected 1"
	done
	grep -Eq '^scale: live tokens in the database' "$out" || fail "no scale section"
	for r in "check, live token" "token, code redemption"; do
		n=$(grep -Ec "^$r +(16|64) +$num +$num +($num|-)$" "$out" || true)
		[ "$n" = 1 ] || fail "scale rows of \"$r\": $n well-formed lines, expected 1"
	done
	grep -Eq '^janitor: \{"codes":[0-9]+,"sessions":[0-9]+,"devices":[0-9]+,' "$out" || fail "no janitor line"
	grep -Eq "^check during janitor +16 +$num +$num +$num +[0-9]+$" "$out" || fail "no load row for the janitor"
	grep -Eq '^process +pid +rss_rest +pss_rest +rss_load +pss_load$' "$out" || fail "no memory table"
	for p in nginx authorize consent token apps revoke introspect device; do
		grep -Eq "^$p +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$" "$out" || fail "no memory line for $p"
	done
	grep -Eq '^nginx\+postern +total +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$' "$out" || fail "no memory total"
	# stopped and deleted: the stack, the PostgreSQL cluster, the run's folder
	if compgen -G "$tmp/postern-bench.*" >/dev/null; then fail "the run left its folder behind"; fi
	return 0
}

quick sqlite 180
check sqlite
quick pg 240
check pg
echo "bench-smoke: ok (the harness ran on SQLite and on PostgreSQL and printed well-formed reports)"
