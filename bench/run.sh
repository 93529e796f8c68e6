#!/usr/bin/env bash
# run.sh: `make bench`. Loads the real stack (nginx + spawn-fcgi) with wrk next to the
# architecture's ceiling (bare FastCGI responders behind the same nginx) and a peer
# (node oidc-provider), and prints one report. Everything it starts it stops.
#
#   bench/run.sh [--pg | --sqlite] [--quick] [--duration S] [--reps N] [--no-peer] [--only REGEX]
#
#   --pg          the whole run on PostgreSQL: a durable throwaway cluster in the run's
#                 folder (tools/pg.sh), a database for the stack and one for each
#                 PostgreSQL ceiling (bare_select_pg, bare_insert_pg); --sqlite: SQLite
#                 (the default; BENCH_DB=sqlite|pg says the same)
#   --quick       every row once for 1 s, tiny seeds (the smoke test of `make test`)
#   --duration S  seconds per wrk run (default 5)
#   --reps N      runs per row and concurrency; the median is reported (default 3)
#   --no-peer     skip oidc-provider
#   --only REGEX  only the rows whose name matches (grep -E), with their ceilings and
#                 peers; the scale, jti cache, janitor and memory parts run when REGEX
#                 matches "scale", "jti cache", "janitor" or "memory" (for working on one
#                 endpoint)
# Environment: BENCH_DB=sqlite|pg the backend; BENCH_EXTRA_CONFIG=LINES appended to the
# stack's postern.conf (e.g. "audit_log =" measures without the audit log that stack.sh
# turns on); BENCH_KEEP=1 keeps the state folder;
# BENCH_CONNS="16 64" the concurrencies; BENCH_BIG=1000000 the token count of the scale
# rows and the used proofs (dpop_proofs rows) of the jti cache rows; BENCH_PRE_SQL=SQL run
# on the database after seeding (to measure a schema change before making it; SQL of the
# backend measured).
# The report is also written to bench/out/report-TIME.txt (report-pg-TIME.txt on
# PostgreSQL). bench/README.md explains it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
quick=0
duration=5
reps=3
peer=1
only=""
backend=${BENCH_DB:-sqlite}
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1; duration=1; reps=1 ;;
	--duration) duration=${2:?--duration needs seconds}; shift ;;
	--reps) reps=${2:?--reps needs a number}; shift ;;
	--no-peer) peer=0 ;;
	--only) only=${2:?--only needs a pattern}; shift ;;
	--pg) backend=pg ;;
	--sqlite) backend=sqlite ;;
	-h|--help) sed -n '2,28p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case "$duration$reps" in *[!0-9]*) echo "run.sh: --duration and --reps take whole numbers" >&2; exit 2 ;; esac
[ "$duration" -ge 1 ] && [ "$reps" -ge 1 ] || { echo "run.sh: --duration and --reps must be >= 1" >&2; exit 2; }
case "$backend" in sqlite | pg) ;; *) echo "run.sh: BENCH_DB is sqlite or pg, not '$backend'" >&2; exit 2 ;; esac

conns=${BENCH_CONNS:-16 64}
threads=2                   # wrk threads: this is a 2-core machine shared with the server
small=1000                  # live tokens of the main rows
big=${BENCH_BIG:-1000000}   # live tokens of the scale rows
expired=100000              # expired codes, device requests and sessions for the janitor
per_second=30000            # one-use codes minted per second of a load (above any rate seen)
# DPoP proofs are signed before each run for 1.5 x the row's fastest run so far (before its
# first, for the fastest plain check: a proof only adds work; per_second before any check)
if [ $quick = 1 ]; then big=${BENCH_BIG:-10000}; expired=1000; fi
# processes of each PostgreSQL ceiling: as many as postern's token and introspect
# executables have by default (postern.conf.example). A single process would wait idle
# for each round trip to the server, and for each commit's WAL flush in turn.
pg_processes=2

client=sqlite3
[ "$backend" = pg ] && client=psql
for t in wrk nginx spawn-fcgi curl jq $client cc pkg-config; do
	command -v "$t" >/dev/null || { echo "run.sh: $t is needed (tools/deps.sh)" >&2; exit 1; }
done
build=${POSTERN_BUILD:-$root/build}
for f in "$build/libpostern.a" "$build/postern" "$build/introspect"; do
	[ -e "$f" ] || { echo "run.sh: $f is missing; run make first" >&2; exit 1; }
done
if [ $peer = 1 ] && ! command -v node >/dev/null; then
	echo "run.sh: node not found, the peer is skipped" >&2
	peer=0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/postern-bench.XXXXXX")
chmod 755 "$work" # nginx workers may run as www-data
st="$work/stack"
pgdir="$work/pg"
peer_pid=""
wrk_pid=""
cleanup() {
	set +e
	trap '' INT TERM # a second Ctrl-C does not cut the cleanup short
	if [ -n "$wrk_pid" ]; then kill "$wrk_pid" 2>/dev/null; wait "$wrk_pid" 2>/dev/null; fi
	if [ -n "$peer_pid" ]; then kill "$peer_pid" 2>/dev/null; wait "$peer_pid" 2>/dev/null; fi
	[ -d "$st" ] && "$root/tools/stack.sh" down "$st" >/dev/null 2>&1
	# the cluster runs in a session of its own (pg_ctl): Ctrl-C never reaches it
	[ -d "$pgdir" ] && "$root/tools/pg.sh" down "$pgdir" >/dev/null 2>&1
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "run.sh: state kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench: $*" >&2; }

# ------------------------------------------------------------ build the helpers
bin="$work/bin"
mkdir -p "$bin"
cflags="-std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -D_DEFAULT_SOURCE -O2 -g -I$root/lib
	$(pkg-config --cflags fcgi sqlite3 libsodium libcjson libpq libcrypto)"
libs=$(pkg-config --libs fcgi sqlite3 libsodium libcjson libpq libcrypto)
# shellcheck disable=SC2086
{
	cc $cflags -o "$bin/bare" "$root/bench/bare.c" $libs
	cc $cflags -o "$bin/bare_select" "$root/bench/bare_select.c" $libs
	cc $cflags -o "$bin/bare_insert" "$root/bench/bare_insert.c" $libs
	cc $cflags -o "$bin/bare_select_pg" "$root/bench/bare_select_pg.c" $libs
	cc $cflags -o "$bin/bare_insert_pg" "$root/bench/bare_insert_pg.c" $libs
	cc $cflags -o "$bin/mint" "$root/bench/mint.c" "$build/libpostern.a" $libs
	cc $cflags -pthread -o "$bin/dpop_proofs" "$root/bench/dpop_proofs.c" $libs
}

free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null ||
		python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# ------------------------------------------------------------ the database
# SQLite: files in the stack's folder. PostgreSQL: a cluster of the run's own, with
# PostgreSQL's durable defaults (fsync, synchronous_commit on), a database for the stack
# and one for each ceiling
if [ "$backend" = pg ]; then
	log "starting a durable PostgreSQL cluster in $pgdir"
	PG_DURABLE=1 "$root/tools/pg.sh" up "$pgdir" >/dev/null
	db=$("$root/tools/pg.sh" createdb "$pgdir" postern)
	select_db=$("$root/tools/pg.sh" createdb "$pgdir" bare_select)
	insert_db=$("$root/tools/pg.sh" createdb "$pgdir" bare_insert)
	database=$db
	sfx=_pg
else
	db="$st/postern.db"
	select_db="$st/bare-select.db"
	insert_db="$st/bare-insert.db"
	database=postern.db # stack.sh's default: the file in its folder
	sfx=""
fi

# SQL on one of the run's databases (an SQLite file or a PostgreSQL URI): each argument
# one statement, run on its own (psql -c each: VACUUM refuses a transaction); values bare
sql_on() {
	local target=$1 a args=()
	shift
	if [ "$backend" = pg ]; then
		for a in "$@"; do args+=(-c "$a"); done
		psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$target" "${args[@]}"
	else
		sqlite3 -cmd ".timeout 10000" "$target" "$@"
	fi
}
sql() { sql_on "$db" "$@"; }
# the little SQL that differs: the time now; a random value of N bytes (one per
# statement); after a DELETE, PostgreSQL's dead rows and index entries go at once (a
# VACUUM, which autovacuum would otherwise run in the middle of some later load), so
# every run starts from the same table, as on SQLite
if [ "$backend" = pg ]; then
	now_sql="extract(epoch FROM now())::bigint"
	random_sql() { echo "(SELECT decode(string_agg(md5(random()::text), ''), 'hex') FROM generate_series(1, $1 / 16))"; }
	vacuum() { sql_on "$1" "VACUUM $2"; }
else
	now_sql="unixepoch()"
	random_sql() { echo "randomblob($1)"; }
	vacuum() { :; }
fi
# the database settled before loading it: SQLite's WAL copied back into the database;
# PostgreSQL's statistics, visibility map and hint bits made (autovacuum's work) and its
# dirty pages written (a checkpoint), so none of it lands in the next measured run
settle() {
	if [ "$backend" = pg ]; then
		sql 'VACUUM (ANALYZE)' 'CHECKPOINT' >/dev/null
	else
		sql 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
	fi
}

# ------------------------------------------------------------ the stack + ceilings
port=$(free_port)
fcgi="include $root/conf/fastcgi_params;"
extra="location = /bare/fixed { $fcgi fastcgi_pass unix:$st/run/bare-fixed.sock; }"
extra+=" location = /bare/select { $fcgi fastcgi_pass unix:$st/run/bare-select.sock; }"
extra+=" location = /bare/insert { $fcgi fastcgi_pass unix:$st/run/bare-insert.sock; }"
extra+=" location = /bare/nginx204 { return 204; }"
# the check behind the optional micro-cache (conf/check_cache.conf), as nginx.conf.example
# would have it, at /cached/oauth/check
extra+=" location ^~ /cached/oauth/check { rewrite ^/cached(/.*)\$ \$1 break; $fcgi fastcgi_pass_request_body off;"
extra+=" fastcgi_cache_valid 204 5s; include $root/conf/check_cache.conf; fastcgi_pass unix:$st/run/introspect.sock; }"
# A DPoP proof is used at most (its signing + wrk reading the file + the run) after it was
# signed: within dpop_proof_lifetime's default (60 s) up to 20 s runs; longer runs raise it
# to 300 s (the report says so). BENCH_EXTRA_CONFIG comes after, so it can set its own.
extra_config=${BENCH_EXTRA_CONFIG:-}
[ "$duration" -gt 20 ] && extra_config="dpop_proof_lifetime = 300"$'\n'"$extra_config"
log "starting the stack on 127.0.0.1:$port (state in $work)"
# limit_req stays on (its cost is part of the stack) at a rate one client never reaches
PORT=$port SEED=1 DATABASE=$database POSTERN_BUILD=$build EXTRA_CONFIG=$extra_config EXTRA_NGINX=$extra CHECK_CACHE_ZONE=1 LOGIN_RATE=1000000r/s \
	TOKEN_RATE=1000000r/s AUTHORIZE_RATE=1000000r/s INTROSPECT_RATE=1000000r/s REVOKE_RATE=1000000r/s \
	DEVICE_RATE=1000000r/s "$root/tools/stack.sh" up "$st" >"$work/stack.json"
url=$(jq -r .url "$work/stack.json")
conf=$(jq -r .config "$work/stack.json")
password=$(jq -r .password "$work/stack.json")
app_id=$(jq -r .app.client_id "$work/stack.json")
app_secret=$(jq -r .app.client_secret "$work/stack.json")
cli_id=$(jq -r .cli_app.client_id "$work/stack.json")

owner=()
[ "$(id -u)" = 0 ] && owner=(-U www-data -G www-data)
for b in fixed select insert; do
	prog="$bin/bare"
	args=()
	[ $b = select ] && { prog="$bin/bare_select$sfx"; args=("$select_db"); }
	[ $b = insert ] && { prog="$bin/bare_insert$sfx"; args=("$insert_db"); }
	[ $b != fixed ] && [ "$backend" = pg ] && args+=("$pg_processes")
	spawn-fcgi -n -s "$st/run/bare-$b.sock" -M 0600 "${owner[@]}" -- "$prog" "${args[@]}" \
		>>"$st/logs/bare-$b.log" 2>&1 &
	echo $! >>"$st/run/pids" # stack.sh down stops them with the rest
done
for _ in $(seq 1 250); do
	n=0
	for b in fixed select insert; do [ -S "$st/run/bare-$b.sock" ] && n=$((n + 1)); done
	[ $n = 3 ] && break
	sleep 0.02
done
[ "$n" = 3 ] || { log "the bare responders did not come up"; tail -n 3 "$st"/logs/bare-*.log >&2; exit 1; }

# ------------------------------------------------------------ seeding
pst() { "$build/postern" --config "$conf" "$@"; }
mint() { "$bin/mint" --config "$conf" --user demo "$@"; }
live=$(pst --json token issue --user demo --app "$app_id" | jq -r .access_token)
mint --app "$app_id" tokens $((small - 1))
unknown=$(mint --app "$app_id" unknown 1)
malformed="pat_$(printf 'A%.0s' $(seq 1 49))"
mint --app "$app_id" expired "$expired"
# the redeeming app has a picture (200 KiB, as an app's logo may be): it must not slow the
# app lookup every token request makes (pictures live in their own table)
sql "INSERT INTO app_pictures (app_id, picture, type) SELECT id, $(random_sql 204800), 'image/png' FROM apps WHERE client_id = '$app_id'"
[ -n "${BENCH_PRE_SQL:-}" ] && sql "$BENCH_PRE_SQL" # EXPERIMENT
if [ "$backend" = pg ]; then settle; fi
# what the report says of the database, from its own settings
if [ "$backend" = pg ]; then
	IFS='|' read -r pg_version pg_fsync pg_commit < <(sql "SELECT current_setting('server_version_num')::int / 10000,
		current_setting('fsync'), current_setting('synchronous_commit')")
	durability="NOT durable: fsync $pg_fsync, synchronous_commit $pg_commit"
	[ "$pg_fsync" = on ] && [ "$pg_commit" = on ] && durability="durable: fsync, synchronous_commit on"
	database_line="database: PostgreSQL $pg_version ($durability)"
else
	sync=$(sed -n 's/^[[:space:]]*synchronous[[:space:]]*=[[:space:]]*//p' "$conf" | tail -n 1)
	database_line="database: SQLite (WAL, synchronous = ${sync:-revocations})"
fi
log "$database_line"
log "seeded $(sql 'SELECT count(*) FROM tokens') live tokens, $expired expired codes, device requests and sessions"

# sign in once, as a browser would; the session cookie is reused by every request
jar="$work/cookies"
csrf=$(curl -fsS -c "$jar" -b "$jar" "$url/oauth/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
status=$(curl -sS -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" --data-urlencode "csrf=$csrf" \
	--data-urlencode username=demo --data-urlencode "password=$password" \
	--data-urlencode return_to=/oauth/apps "$url/oauth/login")
[ "$status" = 303 ] || { log "sign-in failed ($status)"; exit 1; }
cookie=$(awk '$6 == "postern_session" { print $6 "=" $7 }' "$jar")
[ -n "$cookie" ] || { log "no session cookie after sign-in"; exit 1; }
# a scope wider than the remembered grant: the consent page, every time
authorize_path="/oauth/authorize?client_id=$app_id&response_type=code&scope=profile%20posts%3Aread&state=bench"

# ------------------------------------------------------------ the peer
if [ $peer = 1 ]; then
	peer_port=$(free_port)
	node "$root/bench/peer.mjs" "$peer_port" >"$work/peer.json" 2>"$work/peer.log" &
	peer_pid=$!
	for _ in $(seq 1 250); do [ -s "$work/peer.json" ] && break; kill -0 $peer_pid 2>/dev/null || break; sleep 0.04; done
	if [ -s "$work/peer.json" ]; then
		peer_url=$(jq -r .url "$work/peer.json")
		peer_basic=$(jq -r .basic "$work/peer.json")
		peer_token=$(jq -r .access_token "$work/peer.json")
		peer_version=$(jq -r .version "$root/tests/node_modules/oidc-provider/package.json" 2>/dev/null ||
			echo '?')
		[ -f "$root/bench/node_modules/oidc-provider/package.json" ] &&
			peer_version=$(jq -r .version "$root/bench/node_modules/oidc-provider/package.json")
	else
		log "the peer did not start: $(tail -n 3 "$work/peer.log")"
		peer=0
		kill "$peer_pid" 2>/dev/null || true
		peer_pid=""
	fi
fi

# ------------------------------------------------------------ measuring
# Processes: nginx (master + workers), every postern executable, each bare responder.
nginx_pids() {
	local m
	m=$(cat "$st/run/nginx.pid")
	echo "$m"
	pgrep -P "$m" || true
}
# postern processes: the first seven lines of run/pids (stack.sh writes them: each
# executable's supervisor) and their workers, then bare (and the workers of the
# PostgreSQL ceilings)
postern_pids() {
	local p
	for p in $(head -n 7 "$st/run/pids"); do
		echo "$p"
		pgrep -P "$p" || true
	done
}
bare_pids() {
	local p
	for p in $(tail -n +8 "$st/run/pids"); do
		echo "$p"
		pgrep -P "$p" || true
	done
}
stack_pids() { nginx_pids; postern_pids; bare_pids; }

# utime + stime in clock ticks, summed over the given pids
ticks() {
	local sum=0 p v
	for p in "$@"; do
		v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)
		sum=$((sum + v))
	done
	echo $sum
}
hz=$(getconf CLK_TCK)
# PostgreSQL's processes, in ticks: the postmaster with what it has reaped of its children
# (cutime + cstime), and its live children (backends, walwriter, checkpointer, autovacuum),
# so that a process that ends during a run is counted all the same. 0 on SQLite.
db_ticks() {
	[ "$backend" = pg ] || { echo 0; return 0; }
	local m self
	m=$(head -n 1 "$pgdir/data/postmaster.pid")
	self=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$m/stat" 2>/dev/null || echo 0)
	# shellcheck disable=SC2046
	echo $((self + $(ticks $(pgrep -P "$m"))))
}

# "RSS PSS" in KiB of one pid
mem_of() { awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } END { print r + 0, p + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo "0 0"; }
name_of() { tr -d '\0' <"/proc/$1/comm" 2>/dev/null || echo '?'; }

# Remembers the largest RSS/PSS seen per process and the largest total PSS of nginx +
# postern ("under load"), sampled in the middle of each load.
declare -A max_rss max_pss rest_rss rest_pss
max_total_pss=0
max_total_rss=0
sample_load() {
	local p r s tr=0 tp=0
	for p in $(nginx_pids) $(postern_pids); do
		read -r r s < <(mem_of "$p")
		[ "${max_rss[$p]:-0}" -lt "$r" ] && max_rss[$p]=$r
		[ "${max_pss[$p]:-0}" -lt "$s" ] && max_pss[$p]=$s
		tr=$((tr + r)); tp=$((tp + s))
	done
	if [ -n "$peer_pid" ]; then
		read -r r s < <(mem_of "$peer_pid")
		[ "${max_rss[$peer_pid]:-0}" -lt "$r" ] && max_rss[$peer_pid]=$r
		[ "${max_pss[$peer_pid]:-0}" -lt "$s" ] && max_pss[$peer_pid]=$s
	fi
	[ $max_total_pss -lt $tp ] && max_total_pss=$tp
	[ $max_total_rss -lt $tr ] && max_total_rss=$tr
	return 0
}

# One wrk run. Environment BENCH_* configures load.lua. Prints
# "rps p50_ms p99_ms cpu_us errors db_cpu_us" and appends wrk's output to the raw log
# (db_cpu_us: PostgreSQL's processes, 0 on SQLite).
# $1 url, $2 conns, $3 "2xx" or "4xx" (what every answer should be: wrk counts the
# statuses from 400 up) or a status ("204": every other status in nginx's access log is
# an error, except 499, a request cut off by wrk's end), $4.. pids for CPU
one_run() {
	local target=$1 c=$2 expect=$3
	shift 3
	local t0 t1 d0 d1 out line log_from=0 other=0
	case "$expect" in [0-9][0-9][0-9]) log_from=$(stat -c %s "$st/logs/access.log") ;; esac
	t0=$(ticks "$@")
	d0=$(db_ticks)
	BENCH_THREADS=$threads wrk -t$threads -c"$c" -d"${duration}s" --timeout 5s \
		-s "$root/bench/load.lua" "$target" >"$work/wrk.out" 2>&1 &
	local wpid=$!
	wrk_pid=$wpid
	# sample memory half-way through (the load is running by then)
	sleep "$(awk -v d="$duration" 'BEGIN { print d / 2 }')"
	sample_load
	wait $wpid || { wrk_pid=""; log "wrk failed: $(tail -n 3 "$work/wrk.out")"; echo "0 0 0 0 -1 0"; return 0; }
	wrk_pid=""
	t1=$(ticks "$@")
	d1=$(db_ticks)
	cat "$work/wrk.out" >>"$work/wrk.log"
	# the combined log format: the status is the ninth field
	case "$expect" in [0-9][0-9][0-9]) other=$(tail -c +$((log_from + 1)) "$st/logs/access.log" |
		awk -v want="$expect" '$9 != want && $9 != 499 { n++ } END { print n + 0 }') ;; esac
	line=$(grep '^BENCH ' "$work/wrk.out" || true)
	[ -n "$line" ] || { log "wrk printed no BENCH line"; echo "0 0 0 0 -1 0"; return 0; }
	echo "$line" | awk -v dt=$((t1 - t0)) -v ddt=$((d1 - d0)) -v hz="$hz" -v expect="$expect" -v other="$other" '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		rps = v["requests"] / (v["duration_us"] / 1e6)
		cpu = v["requests"] > 0 ? dt * 1e6 / hz / v["requests"] : 0
		dbcpu = v["requests"] > 0 ? ddt * 1e6 / hz / v["requests"] : 0
		err = v["socket"] + v["reused"] + (expect == "2xx" ? v["status"] : 0) + other
		printf "%.0f %.3f %.3f %.1f %d %.1f\n", rps, v["p50_us"] / 1000, v["p99_us"] / 1000, cpu, err, dbcpu }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else print a[int((NR + 1) / 2)] }'; }

ceiling_of() {
	case "$1" in
	"check, micro-cache hit") echo "nginx return 204" ;;
	# what a proof adds to the check: against the same check with a Bearer token
	"check, DPoP proof"*) echo "check, live token" ;;
	# on PostgreSQL a check is a round trip to the server: its target is the bare SELECT's
	"check, live token" | "check, unknown token") if [ "$backend" = pg ]; then echo "ceiling: one SELECT"
		else echo "ceiling: fixed body"; fi ;;
	"check, "*) echo "ceiling: fixed body" ;;
	introspect | "authorize, consent page") echo "ceiling: one SELECT" ;;
	"token, code redemption"* | "device-token poll") echo "ceiling: one INSERT" ;;
	"ceiling: "*) echo "nginx return 204" ;;
	*) echo "" ;;
	esac
}
peer_of() {
	case "$1" in
	"token, code redemption") echo "peer: token (client_credentials)" ;;
	introspect) echo "peer: introspect" ;;
	*) echo "" ;;
	esac
}
# every row of the main table, in order (for --only)
all_rows=("nginx return 204" "ceiling: fixed body" "ceiling: one SELECT" "ceiling: one INSERT"
	"check, live token" "check, DPoP proof (ES256)" "check, DPoP proof (EdDSA)"
	"check, unknown token" "check, malformed token" "check, micro-cache hit" introspect
	"token, code redemption" "token, code redemption (openid, RS256)" "token, code redemption (openid, EdDSA)"
	"authorize, consent page" "device-token poll"
	"peer: token (client_credentials)" "peer: introspect")
# the rows measured again with a million tokens
scale_rows=("check, live token" "token, code redemption")
# the DPoP keys of the rows measured again with a million proofs in the jti cache (table
# dpop_proofs); a quick run, whose numbers mean nothing, measures one
declare -A dpop_alg=([es256]=ES256 [eddsa]=EdDSA)
jti_keys=(es256 eddsa)
[ $quick = 1 ] && jti_keys=(eddsa)
jti_rows=()
for k in "${jti_keys[@]}"; do jti_rows+=("check, DPoP proof (${dpop_alg[$k]})"); done
matches() { [ -z "$only" ] || printf '%s\n' "$1" | grep -Eq -- "$only"; }
# wanted NAME: the row runs (--only names it, or it is the ceiling or peer of one it names;
# a ceiling that is a row of its own, as the plain check is the DPoP rows', brings its own)
wanted() {
	local r named=() cl
	[ -z "$only" ] && return 0
	for r in "${scale_rows[@]}"; do matches scale && [ "$r" = "$1" ] && return 0; done
	for r in "${all_rows[@]}"; do matches "$r" && named+=("$r"); done
	matches "jti cache" && named+=("${jti_rows[@]}")
	for r in "${named[@]}"; do
		cl=$(ceiling_of "$r")
		[ "$r" = "$1" ] || [ "$cl" = "$1" ] || [ "$(peer_of "$r")" = "$1" ] && return 0
		case "$cl" in "ceiling: "* | "nginx return 204" | "") ;; *) [ "$(ceiling_of "$cl")" = "$1" ] && return 0 ;; esac
	done
	return 1
}

# results[name|conns] = "rps p50 p99 cpu errors db_cpu" (medians over reps; errors
# summed; db_cpu "-" for the peer rows)
declare -A results
rows=()
# before_each: a function run before every wrk run (minting one-use values)
before_each=""
# the most requests per second of any run of the plain check, and of each DPoP row (how
# many proofs a run may need)
check_peak=0
declare -A dpop_peak
# measure NAME PATH EXPECT CPU_SET: runs the row for each concurrency, reps times
measure() {
	local name=$1 path=$2 expect=$3 set=$4 c
	local base="$url"
	wanted "$name" || return 0
	[ "$set" = peer ] && base="$peer_url"
	for c in $conns; do
		: >"$work/reps"
		for _ in $(seq 1 "$reps"); do
			[ -n "$before_each" ] && $before_each "$c"
			if [ "$set" = peer ]; then
				one_run "$base$path" "$c" "$expect" "$peer_pid" >>"$work/reps"
			else
				# shellcheck disable=SC2046
				one_run "$base$path" "$c" "$expect" $(stack_pids) >>"$work/reps"
			fi
			case "$name" in
			"check, live token") check_peak=$(peak "$check_peak") ;;
			"check, DPoP proof"*) dpop_peak[$name]=$(peak "${dpop_peak[$name]:-0}") ;;
			esac
		done
		local rps p50 p99 cpu err dbcpu="-"
		rps=$(awk '{ print $1 }' "$work/reps" | median)
		p50=$(awk '{ print $2 }' "$work/reps" | median)
		p99=$(awk '{ print $3 }' "$work/reps" | median)
		cpu=$(awk '{ print $4 }' "$work/reps" | median)
		err=$(awk '{ s += $5 } END { print s + 0 }' "$work/reps")
		[ "$set" = peer ] || dbcpu=$(awk '{ print $6 }' "$work/reps" | median)
		results["$name|$c"]="$rps $p50 $p99 $cpu $err $dbcpu"
		log "$(printf '%-28s c=%-3s %8s req/s  p50 %7s ms  p99 %7s ms  cpu %6s us/req%s  errors %s' \
			"$name" "$c" "$rps" "$p50" "$p99" "$cpu" "$([ "$backend" = pg ] && echo "  db $dbcpu us/req")" "$err")"
	done
	case " ${rows[*]:-} " in *" $name "*) ;; *) rows+=("$name") ;; esac
}

# peak OLD: the larger of OLD and the req/s of the last run in $work/reps
peak() { tail -n 1 "$work/reps" | awk -v p="$1" '$1 > p { p = $1 } END { printf "%d", p }'; }

# Sets the BENCH_* environment of the next rows.
load_env() {
	unset BENCH_METHOD BENCH_HEADERS BENCH_BODY BENCH_TARGET BENCH_LINES
	before_each=""
	# shellcheck disable=SC2163 # each argument is NAME=value
	while [ $# -gt 0 ]; do export "$1"; shift; done
}

# one-use values, minted fresh before each run (not measured)
mint_codes() {
	# the previous run's redemptions and unused codes go (the expired ones stay for the
	# janitor), so every run starts from the same rows
	sql "DELETE FROM tokens WHERE code_hash IS NOT NULL AND (kind <> 0 OR code_expires > $now_sql);"
	vacuum "$db" tokens
	mint --app "$app_id" codes $((duration * per_second)) >"$work/codes"
}
# the same with scope openid: each redemption also signs an id_token, with the demo app's
# RS256 key or with the EdDSA app's Ed25519 key
mint_codes_openid() {
	local app=$1
	sql "DELETE FROM tokens WHERE code_hash IS NOT NULL AND (kind <> 0 OR code_expires > $now_sql);"
	vacuum "$db" tokens
	mint --app "$app" --scope "openid profile" codes $((duration * per_second)) >"$work/codes"
}
mint_codes_rs256() { mint_codes_openid "$app_id"; }
mint_codes_eddsa() { mint_codes_openid "$ed_id"; }
# the ceiling's table, like the tokens table, starts every run with the same 1,000 rows
# (it would grow by a few hundred thousand rows a row, and a bigger index is slower)
reset_insert() {
	sql_on "$insert_db" "DELETE FROM t WHERE id > $small;"
	vacuum "$insert_db" t
}
mint_devices() {
	sql "DELETE FROM devices WHERE last_poll IS NOT NULL;"
	vacuum "$db" devices
	mint --app "$cli_id" devices $((duration * per_second)) >"$work/devices"
}

# one-use DPoP proofs for the check (bench/dpop_proofs.c), signed right before each run
# (not measured) with the row's key, for its token: enough for 1.5 x the fastest run of the
# row so far; before its first run, for the fastest plain check (an upper bound already: a
# proof only adds work), or per_second. The previous runs' proofs leave the jti cache
# first: the seeded rows of the jti cache rows (expiring in 30 days) stay, any proof's row
# (expiring within dpop_proof_lifetime) goes
dpop_proofs_for() {
	local rate=$((${dpop_peak["check, DPoP proof (${dpop_alg[$1]})"]:-0} * 3 / 2))
	[ "$rate" -gt 0 ] || rate=$check_peak
	[ "$rate" -gt 0 ] || rate=$per_second
	sql "DELETE FROM dpop_proofs WHERE expires < $now_sql + 86400;"
	vacuum "$db" dpop_proofs
	[ "$backend" = pg ] || sql 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
	dpop_count=$((rate * duration))
	"$bin/dpop_proofs" proofs "$work/$1.key" GET "$url/oauth/check" "${dpop_token[$1]}" "$dpop_count" >"$work/proofs"
	[ "$dpop_count" -gt "$dpop_most" ] && dpop_most=$dpop_count
	return 0
}
dpop_most=0
dpop_es256() { dpop_proofs_for es256; }
dpop_eddsa() { dpop_proofs_for eddsa; }
declare -A dpop_token
# dpop_bind KEY: an access token bound to the key, redeemed as a client would (a code, a
# proof for POST /oauth/token), into dpop_token[KEY]; the check takes one fresh proof,
# refuses it replayed and refuses the bound token as a Bearer token. Again before the jti
# cache rows: the redemption rows delete every token that came from a code
dpop_bind() {
	local k=$1 code proof
	code=$(mint --app "$app_id" codes 1)
	proof=$("$bin/dpop_proofs" proofs "$work/$k.key" POST "$url/oauth/token" - 1)
	expect_status 200 -H "Authorization: Basic $basic" -H "DPoP: $proof" \
		-d "grant_type=authorization_code&code=$code" "$url/oauth/token"
	[ "$(jq -r .token_type "$work/sanity.out")" = DPoP ] ||
		{ log "sanity: a redemption with a ${dpop_alg[$k]} proof brought no DPoP token"; exit 1; }
	dpop_token[$k]=$(jq -r .access_token "$work/sanity.out")
	expect_status 200 -H "Authorization: Basic $basic" -d "token=${dpop_token[$k]}" "$url/oauth/introspect"
	[ "$(jq -r .cnf.jkt "$work/sanity.out")" = "$(cat "$work/$k.jkt")" ] ||
		{ log "sanity: the ${dpop_alg[$k]} token is not bound to the proof generator's key"; exit 1; }
	proof=$("$bin/dpop_proofs" proofs "$work/$k.key" GET "$url/oauth/check" "${dpop_token[$k]}" 1)
	expect_status 204 -H "Authorization: DPoP ${dpop_token[$k]}" -H "DPoP: $proof" "$url/oauth/check"
	expect_status 401 -H "Authorization: DPoP ${dpop_token[$k]}" -H "DPoP: $proof" "$url/oauth/check"
	expect_status 401 -H "Authorization: Bearer ${dpop_token[$k]}" "$url/oauth/check"
}

basic=$(printf '%s:%s' "$app_id" "$app_secret" | base64 -w0)
# an app whose id_tokens are signed with EdDSA (the demo app's are RS256)
ed_app=$(pst --json app create --name "Bench EdDSA" --redirect-uri https://bench.example/cb --id-token-alg EdDSA)
ed_id=$(jq -r .client_id <<<"$ed_app")
ed_basic=$(printf '%s:%s' "$ed_id" "$(jq -r .client_secret <<<"$ed_app")" | base64 -w0)
form="Content-Type: application/x-www-form-urlencoded"

# sanity: every endpoint answers what the load expects, before anything is measured
expect_status() {
	local want=$1 got
	shift
	got=$(curl -sS -o "$work/sanity.out" -w '%{http_code}' "$@")
	[ "$got" = "$want" ] || { log "sanity: $* answered $got, not $want: $(head -c 300 "$work/sanity.out")"; exit 1; }
}
expect_status 204 "$url/bare/nginx204"
expect_status 204 "$url/bare/fixed"
expect_status 204 "$url/bare/select"
expect_status 200 "$url/bare/insert"
expect_status 204 -H "Authorization: Bearer $live" "$url/oauth/check"
expect_status 401 -H "Authorization: Bearer $unknown" "$url/oauth/check"
expect_status 401 -H "Authorization: Bearer $malformed" "$url/oauth/check"
expect_status 204 -H "Authorization: Bearer $live" "$url/cached/oauth/check"
expect_status 401 -H "Authorization: Bearer $unknown" "$url/cached/oauth/check"
expect_status 200 -H "Authorization: Basic $basic" -d "token=$live" "$url/oauth/introspect"
grep -q '"active":true' "$work/sanity.out" || { log "sanity: introspection does not see the live token"; exit 1; }
code=$(mint --app "$app_id" codes 1)
expect_status 200 -H "Authorization: Basic $basic" -d "grant_type=authorization_code&code=$code" "$url/oauth/token"
for a in "$app_id:$basic:RS256" "$ed_id:$ed_basic:EdDSA"; do
	code=$(mint --app "${a%%:*}" --scope "openid profile" codes 1)
	b=${a#*:}
	expect_status 200 -H "Authorization: Basic ${b%%:*}" -d "grant_type=authorization_code&code=$code" "$url/oauth/token"
	idt=$(jq -r .id_token "$work/sanity.out")
	[ "$(printf '%s' "${idt%%.*}" | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .alg)" = "${a##*:}" ] ||
		{ log "sanity: an openid redemption of ${a%%:*} brought no ${a##*:} id_token"; exit 1; }
done
expect_status 200 -H "Cookie: $cookie" "$url$authorize_path"
grep -q 'name="csrf"' "$work/sanity.out" || { log "sanity: authorize did not show the consent page"; exit 1; }
dev=$(mint --app "$cli_id" devices 1)
expect_status 400 -d "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=$cli_id&device_code=$dev" "$url/oauth/token"
grep -q authorization_pending "$work/sanity.out" || { log "sanity: the device poll is not pending"; exit 1; }
# DPoP: a key of each algorithm (the proof generator's), and a token bound to each
for k in es256 eddsa; do
	"$bin/dpop_proofs" key "$k" "$work/$k.key" >"$work/$k.jkt"
	dpop_bind "$k"
done
if [ $peer = 1 ]; then
	expect_status 200 -H "Authorization: $peer_basic" -d "grant_type=client_credentials&scope=profile" "$peer_url/token"
	expect_status 200 -H "Authorization: $peer_basic" -d "token=$peer_token" "$peer_url/token/introspection"
fi

# the INSERT ceiling's table (made by bare_insert, which has answered by now) gets as many
# rows as the tokens table has live tokens
if [ "$backend" = pg ]; then
	sql_on "$insert_db" "INSERT INTO t (hash, scope, created) SELECT sha256(convert_to(random()::text || i, 'UTF8')),
		'profile', 0 FROM generate_series(1, $small) AS i;"
else
	sql_on "$insert_db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL
		SELECT i + 1 FROM n WHERE i < $small) INSERT INTO t (hash, scope, created) SELECT randomblob(32), 'profile', 0 FROM n;"
fi

# at rest: every process has served its endpoint once (templates, statements ready)
for p in $(nginx_pids) $(postern_pids) $peer_pid; do read -r "rest_rss[$p]" "rest_pss[$p]" < <(mem_of "$p"); done

# ------------------------------------------------------------ the rows
log "loading: ${duration} s per run, $reps run(s) per row and concurrency, concurrency $conns"
load_env; measure "nginx return 204" /bare/nginx204 2xx stack
load_env; measure "ceiling: fixed body" /bare/fixed 2xx stack
load_env; measure "ceiling: one SELECT" /bare/select 2xx stack
load_env; before_each=reset_insert
measure "ceiling: one INSERT" /bare/insert 2xx stack
load_env "BENCH_HEADERS=Authorization: Bearer $live"
measure "check, live token" /oauth/check 2xx stack
for k in es256 eddsa; do
	load_env "BENCH_HEADERS=Authorization: DPoP ${dpop_token[$k]}"$'\n'"DPoP: %s" "BENCH_LINES=$work/proofs"
	before_each=dpop_$k
	measure "check, DPoP proof (${dpop_alg[$k]})" /oauth/check 204 stack
done
load_env "BENCH_HEADERS=Authorization: Bearer $unknown"
measure "check, unknown token" /oauth/check 4xx stack
load_env "BENCH_HEADERS=Authorization: Bearer $malformed"
measure "check, malformed token" /oauth/check 4xx stack
load_env "BENCH_HEADERS=Authorization: Bearer $live"
measure "check, micro-cache hit" /cached/oauth/check 2xx stack
load_env BENCH_METHOD=POST "BENCH_HEADERS=Authorization: Basic $basic"$'\n'"$form" "BENCH_BODY=token=$live"
measure "introspect" /oauth/introspect 2xx stack
load_env BENCH_METHOD=POST "BENCH_HEADERS=Authorization: Basic $basic"$'\n'"$form" \
	"BENCH_BODY=grant_type=authorization_code&code=%s" "BENCH_LINES=$work/codes"
before_each=mint_codes
measure "token, code redemption" /oauth/token 2xx stack
load_env BENCH_METHOD=POST "BENCH_HEADERS=Authorization: Basic $basic"$'\n'"$form" \
	"BENCH_BODY=grant_type=authorization_code&code=%s" "BENCH_LINES=$work/codes"
before_each=mint_codes_rs256
measure "token, code redemption (openid, RS256)" /oauth/token 2xx stack
load_env BENCH_METHOD=POST "BENCH_HEADERS=Authorization: Basic $ed_basic"$'\n'"$form" \
	"BENCH_BODY=grant_type=authorization_code&code=%s" "BENCH_LINES=$work/codes"
before_each=mint_codes_eddsa
measure "token, code redemption (openid, EdDSA)" /oauth/token 2xx stack
load_env "BENCH_HEADERS=Cookie: $cookie" "BENCH_TARGET=$authorize_path"
measure "authorize, consent page" /oauth/authorize 2xx stack
load_env BENCH_METHOD=POST "BENCH_HEADERS=$form" "BENCH_LINES=$work/devices" \
	"BENCH_BODY=grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=$cli_id&device_code=%s"
before_each=mint_devices
measure "device-token poll" /oauth/token 4xx stack
if [ $peer = 1 ]; then
	load_env BENCH_METHOD=POST "BENCH_HEADERS=Authorization: $peer_basic"$'\n'"$form" \
		"BENCH_BODY=grant_type=client_credentials&scope=profile"
	measure "peer: token (client_credentials)" /token 2xx peer
	load_env BENCH_METHOD=POST "BENCH_HEADERS=Authorization: $peer_basic"$'\n'"$form" "BENCH_BODY=token=$peer_token"
	measure "peer: introspect" /token/introspection 2xx peer
fi

# ------------------------------------------------------------ janitor under load
if matches janitor; then
	first_c=${conns%% *}
	log "janitor: removing expired rows while the live-token check is loaded"
	load_env "BENCH_HEADERS=Authorization: Bearer $live"
	BENCH_THREADS=$threads wrk -t$threads -c"$first_c" -d"${duration}s" --timeout 5s \
		-s "$root/bench/load.lua" "$url/oauth/check" >"$work/wrk.out" 2>&1 &
	wpid=$!
	wrk_pid=$wpid
	sleep 0.2
	jan_start=$(date +%s%N)
	jan_out=$(pst --json janitor)
	jan_ms=$((($(date +%s%N) - jan_start) / 1000000))
	wait $wpid || true
	wrk_pid=""
	cat "$work/wrk.out" >>"$work/wrk.log"
	jan_line=$(grep '^BENCH ' "$work/wrk.out" || echo "BENCH requests=0 duration_us=1 p50_us=0 p99_us=0 status=0 socket=0 reused=0")
	jan_load=$(echo "$jan_line" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%.0f %.3f %.3f %d\n", v["requests"] / (v["duration_us"] / 1e6), v["p50_us"] / 1000, v["p99_us"] / 1000,
		v["status"] + v["socket"] }')
fi

# ------------------------------------------------------------ the jti cache at a million proofs
# The DPoP rows again with dpop_proofs holding $big unexpired rows when each run starts (as
# it would after $big proofs within dpop_proof_lifetime), beside the main rows, where each
# run starts with none. The rows are random 32-byte hashes like the servers' keyed ones,
# expiring in 30 days: neither the janitor nor the check may remove them.
if matches "jti cache"; then
	log "jti cache: seeding $big unexpired rows into dpop_proofs"
	seed_start=$(date +%s%N)
	sql "DELETE FROM dpop_proofs;"
	if [ "$backend" = pg ]; then
		sql "INSERT INTO dpop_proofs (hash, expires) SELECT sha256(convert_to(random()::text || i, 'UTF8')),
			$now_sql + 2592000 FROM generate_series(1, $big) AS i;"
	else
		# in random order, as proofs come (a B-tree filled in order would have fuller pages),
		# with a page cache that holds the whole table
		sql "PRAGMA cache_size = -262144;" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
			WHERE i < $big) INSERT INTO dpop_proofs (hash, expires) SELECT randomblob(32), $now_sql + 2592000 FROM n;"
	fi
	jti_seed_s=$(awk -v ns=$(($(date +%s%N) - seed_start)) 'BEGIN { printf "%.1f", ns / 1e9 }')
	# settled as settle() does, for the one table written
	if [ "$backend" = pg ]; then sql 'VACUUM (ANALYZE) dpop_proofs' 'CHECKPOINT' >/dev/null; else settle; fi
	jti_count=$(sql 'SELECT count(*) FROM dpop_proofs')
	log "jti cache: $jti_count rows in dpop_proofs (seeded in $jti_seed_s s)"
	declare -A jti_small jti_big
	for r in "${jti_rows[@]}"; do for c in $conns; do jti_small["$r|$c"]=${results["$r|$c"]:-}; done; done
	for k in "${jti_keys[@]}"; do
		dpop_bind "$k"
		load_env "BENCH_HEADERS=Authorization: DPoP ${dpop_token[$k]}"$'\n'"DPoP: %s" "BENCH_LINES=$work/proofs"
		before_each=dpop_$k
		measure "check, DPoP proof (${dpop_alg[$k]})" /oauth/check 204 stack
	done
	for r in "${jti_rows[@]}"; do
		for c in $conns; do
			jti_big["$r|$c"]=${results["$r|$c"]:-}
			results["$r|$c"]=${jti_small["$r|$c"]:-}
		done
	done
	# the scale rows below do not read the table: it goes back to empty (they settle the
	# database after their own seeding)
	sql "DELETE FROM dpop_proofs;"
fi

# ------------------------------------------------------------ scale
if matches scale; then
	have=$(sql 'SELECT count(*) FROM tokens WHERE code_hash IS NULL')
	log "scale: seeding $((big - have)) more live tokens (to $big)"
	seed_start=$(date +%s%N)
	mint --app "$app_id" tokens $((big - have))
	seed_s=$(awk -v ns=$(($(date +%s%N) - seed_start)) 'BEGIN { printf "%.1f", ns / 1e9 }')
	settle
	big_count=$(sql 'SELECT count(*) FROM tokens WHERE code_hash IS NULL')
	log "scale: $big_count live tokens (seeded in $seed_s s)"
	declare -A small_results
	for r in "${scale_rows[@]}"; do for c in $conns; do small_results["$r|$c"]=${results["$r|$c"]:-}; done; done
	load_env "BENCH_HEADERS=Authorization: Bearer $live"
	measure "check, live token" /oauth/check 2xx stack
	load_env BENCH_METHOD=POST "BENCH_HEADERS=Authorization: Basic $basic"$'\n'"$form" \
		"BENCH_BODY=grant_type=authorization_code&code=%s" "BENCH_LINES=$work/codes"
	before_each=mint_codes
	measure "token, code redemption" /oauth/token 2xx stack
	declare -A big_results
	for r in "${scale_rows[@]}"; do
		for c in $conns; do
			big_results["$r|$c"]=${results["$r|$c"]:-}
			results["$r|$c"]=${small_results["$r|$c"]:-}
		done
	done
fi

# ------------------------------------------------------------ the report
field() { echo "${results["$1|$2"]:-}" | awk -v i="$3" '{ print $i }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
# one line of the main table: endpoint conns req/s p50 p99 cpu db_cpu ceiling vs_ceil
# postern/peer errors; db_cpu (PostgreSQL's processes) is a column on PostgreSQL only
table_line() {
	if [ "$backend" = pg ]; then
		printf '%-40s %5s %9s %8s %8s %9s %9s %-22s %8s %12s %6s\n' "$@"
	else
		printf '%-40s %5s %9s %8s %8s %9s %-22s %8s %12s %6s\n' "${@:1:6}" "${@:8}"
	fi
}

# one line of the jti cache table: endpoint conns req/s req/s ratio p99 p99 cpu cpu db db
# (PostgreSQL's CPU on PostgreSQL only)
jti_line() {
	if [ "$backend" = pg ]; then
		printf '%-40s %5s %9s %9s %9s %8s %10s %8s %10s %8s %9s\n' "$@"
	else
		printf '%-40s %5s %9s %9s %9s %8s %10s %8s %10s\n' "${@:1:9}"
	fi
}

report() {
	local r c cl pr
	echo "postern benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r)"
	echo "$database_line"
	echo "stack: nginx $(nginx -v 2>&1 | sed 's/.*\///'), wrk -t$threads, ${duration} s per run," \
		"median of $reps run(s), $small live tokens$([ $peer = 1 ] && echo ", peer oidc-provider $peer_version")"
	[ $quick = 1 ] && echo "QUICK RUN (smoke test): numbers are not measurements"
	if [ "$dpop_most" -gt 0 ]; then
		local lifetime
		lifetime=$(sed -n 's/^[[:space:]]*dpop_proof_lifetime[[:space:]]*=[[:space:]]*//p' "$conf" | tail -n 1)
		echo "dpop: a fresh proof per request, signed before each run (at most $dpop_most a run);" \
			"dpop_proof_lifetime: ${lifetime:-60 s (the default)}${lifetime:+ s}"
	fi
	echo
	table_line endpoint conns req/s p50_ms p99_ms cpu_us/req db_us/req ceiling vs_ceil postern/peer errors
	for r in "${rows[@]}"; do
		for c in $conns; do
			[ -n "${results["$r|$c"]:-}" ] || continue
			cl=$(ceiling_of "$r")
			pr=$(peer_of "$r")
			local vs="-" vp="-"
			[ -n "$cl" ] && vs=$(ratio "$(field "$r" "$c" 1)" "$(field "$cl" "$c" 1)")
			[ -n "$pr" ] && [ $peer = 1 ] && vp=$(ratio "$(field "$r" "$c" 1)" "$(field "$pr" "$c" 1)")
			table_line "$r" "$c" "$(field "$r" "$c" 1)" "$(field "$r" "$c" 2)" "$(field "$r" "$c" 3)" \
				"$(field "$r" "$c" 4)" "$(field "$r" "$c" 6)" "${cl#ceiling: }" "$vs" "$vp" "$(field "$r" "$c" 5)"
		done
	done
	if matches scale; then
		echo
		echo "scale: live tokens in the database, $small vs $big_count (seeded in $seed_s s)"
		printf '%-40s %5s %11s %11s %8s\n' endpoint conns "req/s@$small" "req/s@big" big/small
		for r in "${scale_rows[@]}"; do
			for c in $conns; do
				local a b
				a=$(echo "${small_results["$r|$c"]}" | awk '{ print $1 }')
				b=$(echo "${big_results["$r|$c"]}" | awk '{ print $1 }')
				printf '%-40s %5s %11s %11s %8s\n' "$r" "$c" "$a" "$b" "$(ratio "$b" "$a")"
			done
		done
	fi
	if matches "jti cache"; then
		echo
		echo "jti cache: rows in dpop_proofs when each run starts, 0 vs $jti_count (seeded in $jti_seed_s s)"
		jti_line endpoint conns "req/s@0" "req/s@big" big/small "p99_ms@0" "p99_ms@big" "cpu_us@0" "cpu_us@big" \
			"db_us@0" "db_us@big"
		for r in "${jti_rows[@]}"; do
			for c in $conns; do
				local s="${jti_small["$r|$c"]:-}" b="${jti_big["$r|$c"]:-}"
				if [ -z "$s" ] || [ -z "$b" ]; then continue; fi
				# shellcheck disable=SC2046 # fields of the two result lines
				jti_line "$r" "$c" $(awk -v s="$s" -v b="$b" 'BEGIN { split(s, x, " "); split(b, y, " ")
					printf "%s %s %s %s %s %s %s %s %s", x[1], y[1], (x[1] > 0 ? sprintf("%.2f", y[1] / x[1]) : "-"),
					x[3], y[3], x[4], y[4], x[6], y[6] }')
			done
		done
	fi
	if matches janitor; then
		echo
		echo "janitor: $jan_out in $jan_ms ms, while \"check, live token\" ran at $first_c connections:"
		printf '%-40s %5s %9s %8s %8s %6s\n' endpoint conns req/s p50_ms p99_ms errors
		read -r a b c2 d <<<"$jan_load"
		printf '%-40s %5s %9s %8s %8s %6s\n' "check during janitor" "$first_c" "$a" "$b" "$c2" "$d"
	fi
	matches memory || return 0
	echo
	echo "memory (KiB): at rest = after one request each; load = largest sample in the middle of any run"
	printf '%-12s %7s %9s %9s %9s %9s\n' process pid rss_rest pss_rest rss_load pss_load
	local p tr=0 tp=0
	for p in $(nginx_pids) $(postern_pids) $peer_pid; do
		printf '%-12s %7s %9s %9s %9s %9s\n' "$(name_of "$p")" "$p" "${rest_rss[$p]:-0}" "${rest_pss[$p]:-0}" \
			"${max_rss[$p]:-0}" "${max_pss[$p]:-0}"
		[ "$p" = "$peer_pid" ] && continue
		tr=$((tr + ${rest_rss[$p]:-0})); tp=$((tp + ${rest_pss[$p]:-0}))
	done
	printf '%-12s %7s %9s %9s %9s %9s\n' "nginx+postern" total "$tr" "$tp" "$max_total_rss" "$max_total_pss"
}

mkdir -p "$root/bench/out"
out="$root/bench/out/report-$([ "$backend" = pg ] && echo pg-)$(date -u +%Y%m%dT%H%M%S).txt"
report | tee "$out"
cp "$work/wrk.log" "${out%.txt}.wrk.log" 2>/dev/null || true
log "report written to $out"
