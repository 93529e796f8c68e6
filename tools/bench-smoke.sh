#!/usr/bin/env bash
# bench-smoke.sh: part of `make test`. Runs the benchmark harness once, very short
# (bench/run.sh --quick), and checks that it printed a well-formed report: every row,
# every section, numbers where numbers belong. It never checks what the numbers are.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp "${TMPDIR:-/tmp}/bench-smoke.XXXXXX")
trap 'rm -f "$out"' EXIT

fail() {
	echo "bench-smoke: FAIL: $*" >&2
	echo "--- report:" >&2
	cat "$out" >&2
	exit 1
}

# bounded: the harness stops everything it started when it exits, killed or not
if ! timeout --signal=TERM --kill-after=10 180 "$root/bench/run.sh" --quick >"$out" 2>"$out.log"; then
	tail -n 20 "$out.log" >&2
	rm -f "$out.log"
	fail "bench/run.sh --quick exited with an error"
fi
rm -f "$out.log"

num='[0-9]+(\.[0-9]+)?'
# a main-table row: name, conns, req/s, p50, p99, cpu, [ceiling words], ratio, ratio, errors
row_re() { printf '^%s +(16|64) +%s +%s +%s +%s .* +(%s|-) +(%s|-) +[0-9]+$' "$1" "$num" "$num" "$num" "$num" "$num" "$num"; }

grep -Eq '^endpoint +conns +req/s +p50_ms +p99_ms +cpu_us/req +ceiling +vs_ceil +postern/peer +errors$' "$out" ||
	fail "no header of the main table"
rows=("nginx return 204" "ceiling: fixed body" "ceiling: one SELECT" "ceiling: one INSERT"
	"check, live token" "check, unknown token" "check, malformed token" "introspect"
	"token, code redemption" "authorize, consent page" "device-token poll")
if [ -f "$root/tests/node_modules/oidc-provider/package.json" ] ||
	[ -f "$root/bench/node_modules/oidc-provider/package.json" ]; then
	rows+=("peer: token \(client_credentials\)" "peer: introspect")
fi
for r in "${rows[@]}"; do
	n=$(grep -Ec "$(row_re "$r")" "$out" || true)
	[ "$n" = 2 ] || fail "row \"$r\": $n well-formed lines, expected one per concurrency (16, 64)"
done
grep -Eq '^scale: live tokens in the database' "$out" || fail "no scale section"
for r in "check, live token" "token, code redemption"; do
	n=$(grep -Ec "^$r +(16|64) +$num +$num +($num|-)$" "$out" || true)
	[ "$n" = 2 ] || fail "scale rows of \"$r\": $n well-formed lines, expected 2"
done
grep -Eq '^janitor: \{"codes":[0-9]+,"sessions":[0-9]+,"devices":[0-9]+,' "$out" || fail "no janitor line"
grep -Eq "^check during janitor +16 +$num +$num +$num +[0-9]+$" "$out" || fail "no load row for the janitor"
grep -Eq '^process +pid +rss_rest +pss_rest +rss_load +pss_load$' "$out" || fail "no memory table"
for p in nginx authorize consent token apps revoke introspect device; do
	grep -Eq "^$p +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$" "$out" || fail "no memory line for $p"
done
grep -Eq '^nginx\+postern +total +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$' "$out" || fail "no memory total"
echo "bench-smoke: ok (the harness ran and printed a well-formed report)"
