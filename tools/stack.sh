#!/usr/bin/env bash
# stack.sh: start or stop a whole postern stack (nginx + every executable under
# spawn-fcgi) in one state folder, on loopback. Used by `make run`, the tests and
# the benchmarks; a test suite can call it directly. DIR/run/pids lists the spawn-fcgi
# pids, one per executable: each is a supervisor whose children are its workers
# (`processes NAME = N` in the config, e.g. through EXTRA_CONFIG); `down` stops both.
#
#   tools/stack.sh up DIR [--seed FILE.json]   start (config, key, database on first use)
#   tools/stack.sh down DIR    stop everything started from DIR
#
# `make install` installs this script as postern-stack (next to postern): the same
# script, finding the installed programs and files relative to itself (the `layout=`
# line below, written by `make install`); from the source tree it finds ../build,
# ../templates, ../static, ../conf and nginx.conf.in next to it. Either runs from any
# working directory, without root.
#
# --seed FILE.json: the users and apps of FILE (`postern seed`, README "For other
# projects' test suites") instead of the demo ones; applied once per DIR, all or nothing
# (a bad file names its line and field, and nothing starts). A later `up` of DIR with the
# same file starts what is there; another file is refused. The JSON line then has "seed":
# the users and apps, with each app's client_id and client_secret.
#
# `up` refuses (exit 1, saying why, nothing left running) when a stack started from DIR
# is still running (stop it with `down` first), or when PORT is taken (it names the
# process that holds it when it can see it). A DIR used before on another port moves to
# PORT: the config's URLs on the old port (base_url, api_url) and the demo app's redirect
# URI follow it; users, apps, tokens and the key stay.
#
# Environment for `up`:
#   PORT=8080            the loopback port nginx listens on
#   BASE_PATH=           a sub-path deployment, e.g. /auth
#   POSTERN_BUILD=build  where the executables are (build/san for the sanitizer build);
#                        installed: the executables' folder and postern's are the installed ones
#   POSTERN_SHARE=       where templates/, static/, fastcgi_params and the nginx template are
#                        (the source tree or the installed share folder when unset)
#   SEED=1               add the demo user, a demo app and the CLI app on first use;
#                        SEED=0 seeds nothing (a second node of a shared database); with
#                        --seed the default is 0 (SEED=1 adds the demo ones too)
#   DATABASE=postern.db  the config's database on first use: an SQLite file (relative to
#                        DIR) or a PostgreSQL URI (postgresql://…) that nodes can share
#   SECRET_KEY_FILE=secret.key  the config's secret_key_file on first use (created when
#                        missing): every node of a shared database needs the same key
#   LOGIN=builtin        or remote_user (nginx auth_basic against DIR/htpasswd)
#   EXTRA_CONFIG=        lines appended to postern.conf on first use
#   EXTRA_NGINX=         lines inside nginx's server block (@STATE@, @ROOT@, @PORT@ and
#                        @BASE@ in them are replaced as in tools/nginx.conf.in; @ROOT@ is
#                        the source tree, or the installed share folder)
#   LOGIN_RATE=10r/s TOKEN_RATE=50r/s REGISTER_RATE=10r/m REVOKE_RATE=50r/s
#   INTROSPECT_RATE=50r/s AUTHORIZE_RATE=50r/s DEVICE_RATE=20r/s
#                        nginx limit_req rates per client address (N r/s or N r/m):
#                        login; token; registration; revoke; introspect; authorize,
#                        consent and logout; device_authorization and device/code. Their
#                        429s carry Retry-After: the seconds one more request waits for.
#   CHECK_CACHE=N        the micro-cache of /oauth/check for N seconds (conf/check_cache.*,
#                        needs libnginx-mod-http-js); its cache folder is DIR/check-cache
#   CHECK_CACHE_ZONE=1   only the http-level part of it, for a location in EXTRA_NGINX
# Prints one JSON object describing the running stack.
set -euo pipefail

# Where the programs and files are. `make install` rewrites the next line for postern-stack
# to "LIBEXEC SHAREDIR", each relative to the folder of the installed script.
layout=source
me=$(basename "$0")
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
if [ "$layout" = source ]; then
	root=$(cd "$here/.." && pwd)
	share=${POSTERN_SHARE:-$root}
	cgi_dir=${POSTERN_BUILD:-$root/build}
	admin_dir=$cgi_dir
	conf_dir=$share/conf
	nginx_in=$share/tools/nginx.conf.in
else
	read -r rel_libexec rel_share <<<"$layout"
	share=${POSTERN_SHARE:-$(cd "$here/$rel_share" && pwd)}
	root=$share
	cgi_dir=${POSTERN_BUILD:-$(cd "$here/$rel_libexec" && pwd)}
	admin_dir=${POSTERN_BUILD:-$here}
	conf_dir=$share
	nginx_in=$share/stack-nginx.conf.in
fi
usage="usage: $me up DIR [--seed FILE.json] | $me down DIR"
cmd=${1:-}
dir=""
seed_file=""
[ $# -gt 0 ] && shift
while [ $# -gt 0 ]; do
	case $1 in
	--seed)
		[ $# -ge 2 ] && [ -n "$2" ] || { echo "$me: --seed needs a file" >&2; exit 2; }
		seed_file=$2
		shift 2
		;;
	-*) echo "$me: unknown option $1; $usage" >&2; exit 2 ;;
	*)
		[ -z "$dir" ] || { echo "$usage" >&2; exit 2; }
		dir=$1
		shift
		;;
	esac
done
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "$usage" >&2; exit 2; }
if [ -n "$seed_file" ]; then
	[ "$cmd" = up ] || { echo "$me: --seed goes with up" >&2; exit 2; }
	[ -f "$seed_file" ] && [ -r "$seed_file" ] || { echo "$me: cannot read the seed file $seed_file" >&2; exit 2; }
	seed_file=$(cd "$(dirname "$seed_file")" && pwd)/$(basename "$seed_file")
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cgis="authorize consent token apps revoke introspect device"
conf="$dir/postern.conf"

# alive and not a zombie (in a container without an init that reaps, killed
# children stay zombies until their parent is gone)
running() {
	local st
	st=$(sed -n 's/^[0-9]* ([^)]*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# the pids of a process's children (an executable's workers), from /proc/*/stat
children() {
	local f line rest
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		rest=${line##*) }  # after "pid (comm) ": state ppid ...
		rest=${rest#* }
		if [ "${rest%% *}" = "$1" ]; then f=${f#/proc/}; echo "${f%/stat}"; fi
	done
}

# A recorded pid that is still this stack's: nginx's master names DIR/nginx.conf on its
# command line, an executable (and each of its workers) has POSTERN_CONFIG=DIR/postern.conf
# in its environment. A pid recorded before a reboot may belong to someone else by now.
ours() {
	running "$1" || return 1
	grep -qzF -- "$dir/nginx.conf" "/proc/$1/cmdline" 2>/dev/null && return 0
	grep -qzxF -- "POSTERN_CONFIG=$conf" "/proc/$1/environ" 2>/dev/null
}

# The live processes of a stack started from DIR: nginx's master, the executables'
# supervisors (DIR/run/pids). Empty when none is running.
live_pids() {
	local pid=""
	if [ -f "$dir/run/nginx.pid" ]; then
		read -r pid <"$dir/run/nginx.pid" || true
		if [ -n "$pid" ] && ours "$pid"; then echo "$pid"; fi
	fi
	if [ -f "$dir/run/pids" ]; then
		while read -r pid; do
			if [ -n "$pid" ] && ours "$pid"; then echo "$pid"; fi
		done <"$dir/run/pids"
	fi
	return 0
}

# Who listens where nginx is about to: one line per listening TCP socket on PORT that a
# bind to 127.0.0.1:PORT runs into (127.0.0.1 or every address), from /proc/net/tcp and
# tcp6, with its process (from /proc/*/fd) when this user may see it. With `all`, IPv6
# wildcard sockets too: they take 127.0.0.1 as well unless IPV6_V6ONLY, which /proc does
# not show, so only after nginx's bind failed are they surely the holders.
port_holders() {
	local hex files=() f addr ino fd pid who
	hex=$(printf '%04X' "$1")
	for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] && files+=("$f"); done
	[ ${#files[@]} -gt 0 ] || return 0
	awk -v p="$hex" -v all="${2:-}" '
		$4 == "0A" { split($2, a, ":"); if (a[2] != p) next
			if (a[1] == "0100007F") print "127.0.0.1", $10
			else if (a[1] == "00000000") print "0.0.0.0", $10
			else if (a[1] == "0000000000000000FFFF00000100007F") print "[::ffff:127.0.0.1]", $10
			else if (a[1] == "00000000000000000000000000000000" && all == "all") print "[::]", $10 }' \
		"${files[@]}" | while read -r addr ino; do
		fd=$(find /proc/[0-9]*/fd -maxdepth 1 -lname "socket:\[$ino\]" -print -quit 2>/dev/null || true)
		who="a process this user cannot see"
		if [ -n "$fd" ]; then
			pid=${fd#/proc/}
			pid=${pid%%/*}
			who="$(cat "/proc/$pid/comm" 2>/dev/null || echo '?') (pid $pid)"
		fi
		echo "$addr:$1 by $who"
	done
	return 0
}

down() {
	local npid=""
	if [ -f "$dir/run/nginx.pid" ]; then
		npid=$(cat "$dir/run/nginx.pid")
		kill "$npid" 2>/dev/null || true
	fi
	if [ -f "$dir/run/pids" ]; then
		# each pid is an executable's supervisor; its workers are its children. SIGTERM
		# to the supervisor stops them (it waits up to 3 s, then SIGKILLs them); they
		# are waited for here too, so nothing of this stack outlives `down`.
		local pids=() pid alive
		while read -r pid; do
			pids+=("$pid")
			running "$pid" && pids+=($(children "$pid"))
		done <"$dir/run/pids"
		while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$dir/run/pids"
		# wait until they are gone (bounded: 5 s, then SIGKILL), so a next `up` can bind again
		for i in $(seq 1 250); do
			alive=()
			for pid in "${pids[@]}"; do running "$pid" && alive+=("$pid"); done
			[ ${#alive[@]} = 0 ] && break
			if [ "$i" = 250 ]; then
				echo "$me: still running after 5 s, killing: ${alive[*]}" >&2
				kill -9 "${alive[@]}" 2>/dev/null || true
			fi
			sleep 0.02
		done
		rm -f "$dir/run/pids"
	fi
	# nginx lets go of its port when the master exits (bounded: 2 s)
	if [ -n "$npid" ]; then
		for _ in $(seq 1 100); do running "$npid" || break; sleep 0.02; done
	fi
	rm -f "$dir"/run/*.sock "$dir/run/nginx.pid"
}

# A state folder set up for another port (base_url = http://127.0.0.1:OLD...) moves to
# PORT, rather than being thrown away with its users, apps and secrets: the demo app's
# redirect URI (the database, and DIR/demo-app.json), then every URL of the config on the
# old port (base_url, api_url, any other): the config goes last, so a move cut short is
# done again by the next `up`. Only the demo app's URI changes in the database: other
# apps' URIs are their developers' to change.
move_port() {
	local old old_port cb_old cb_new demo_id db what="base_url"
	old=$(sed -n 's/^[[:space:]]*base_url[[:space:]]*=[[:space:]]*//p' "$conf" | head -n 1 || true)
	[[ $old =~ ^http://127\.0\.0\.1:([0-9]+)(/.*)?$ ]] || return 0
	old_port=${BASH_REMATCH[1]}
	[ "$old_port" != "$PORT" ] || return 0
	cb_old="http://127.0.0.1:$old_port/demo/callback"
	cb_new="http://127.0.0.1:$PORT/demo/callback"
	demo_id=$(sed -n 's/.*"client_id":"\([^"]*\)".*/\1/p' "$dir/demo-app.json" 2>/dev/null || true)
	if [[ $demo_id =~ ^pca_[0-9A-Za-z]+$ ]]; then
		db=$(sed -n 's/^[[:space:]]*database[[:space:]]*=[[:space:]]*//p' "$conf" | tail -n 1)
		db=${db:-postern.db}
		[ "${db#/}" != "$db" ] || db="$dir/$db"
		if [[ $db == postgres* || $db == "$dir/postgres"* ]]; then
			echo "$me: the demo app's redirect URI in a PostgreSQL database stays $cb_old" >&2
		elif command -v sqlite3 >/dev/null; then
			sqlite3 -cmd '.timeout 5000' "$db" "UPDATE apps SET redirect_uris = replace(redirect_uris, '$cb_old', '$cb_new') WHERE client_id = '$demo_id';"
		else
			echo "$me: sqlite3 is missing: the demo app's redirect URI stays $cb_old" >&2
		fi
		sed -i "s#\"$cb_old\"#\"$cb_new\"#g" "$dir/demo-app.json"
		what+=", the demo app's redirect URI"
	fi
	grep -q "^[[:space:]]*api_url[[:space:]]*=[[:space:]]*http://127\.0\.0\.1:$old_port/" "$conf" && what+=", api_url"
	sed -i "s#http://127\.0\.0\.1:$old_port\([/[:space:]]\|\$\)#http://127.0.0.1:$PORT\1#g" "$conf"
	echo "$me: $dir was set up for port $old_port: moved to $PORT ($what; users, apps and secrets kept)" >&2
}

if [ "$cmd" = down ]; then down; exit 0; fi
[ "$cmd" = up ] || { echo "$usage" >&2; exit 2; }

PORT=${PORT:-8080}
BASE_PATH=${BASE_PATH:-}
if [ -n "$seed_file" ]; then SEED=${SEED:-0}; else SEED=${SEED:-1}; fi
LOGIN=${LOGIN:-builtin}
url="http://127.0.0.1:$PORT$BASE_PATH"
postern="$admin_dir/postern"
export POSTERN_CONFIG="$conf"
case $PORT in '' | *[!0-9]*) echo "$me: PORT is a number, not '$PORT'" >&2; exit 2 ;; esac
[ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || { echo "$me: PORT $PORT is not 1-65535" >&2; exit 2; }

# One stack per state folder: a second `up` would take the database and the sockets from
# under the first. Refused, naming it; `down` stops it (and restarts are down, then up).
live=$(live_pids)
if [ -n "$live" ]; then
	on=$(sed -n 's/^[[:space:]]*listen[[:space:]]*\(127\.0\.0\.1:[0-9]*\);.*/\1/p' "$dir/nginx.conf" 2>/dev/null | head -n 1 || true)
	echo "$me: a stack started from $dir is running${on:+ on $on} (pids ${live//$'\n'/ }); stop it first: $0 down $dir" >&2
	exit 1
fi
# A taken port: said before anything starts (IPv6 listeners that take it too show up if
# nginx's bind fails, below)
held=$(port_holders "$PORT")
if [ -n "$held" ]; then
	echo "$me: port $PORT is taken: ${held//$'\n'/; }; choose another with PORT=" >&2
	exit 1
fi
# nothing of this folder runs: what a stack killed outright left behind goes
mkdir -p "$dir/run" "$dir/logs" "$dir/tmp"
rm -f "$dir/run/pids" "$dir/run/nginx.pid" "$dir"/run/*.sock

first=0
if [ ! -f "$conf" ]; then
	first=1
	cat >"$conf" <<CONF
# postern.conf for a local stack (tools/stack.sh); every key: postern.conf.example
base_url = $url
database = ${DATABASE:-postern.db}
secret_key_file = ${SECRET_KEY_FILE:-secret.key}
templates = $share/templates
login = $LOGIN
scope profile = See your user name and organization
scope posts:read = Read your posts
scope posts:write = Create and schedule posts for you
scope openid = Sign you in to the app with your account here
scope email = See your email address
default_scope = profile
audit_log = logs/audit.log
${EXTRA_CONFIG:-}
CONF
	"$postern" init >/dev/null
else
	move_port
fi

# --seed: once per DIR, before the demo ones (a failed seed on first use leaves no config,
# so the next `up` starts afresh); DIR/seed.json is the file applied, DIR/seeded.json
# what `postern seed` made of it (with the secrets, mode 0600, like demo-app.json)
if [ -n "$seed_file" ]; then
	if [ -f "$dir/seed.json" ]; then
		if ! cmp -s "$seed_file" "$dir/seed.json"; then
			echo "$me: $dir was seeded from another file (a copy: $dir/seed.json); a seed applies once to a state folder: use a new DIR" >&2
			exit 1
		fi
	else
		(umask 077 && "$postern" --json seed "$seed_file" >"$dir/seeded.json.new") || {
			rm -f "$dir/seeded.json.new"
			[ "$first" = 1 ] && rm -f "$conf"
			echo "$me: nothing started" >&2
			exit 1
		}
		mv "$dir/seeded.json.new" "$dir/seeded.json"
		(umask 077 && cp "$seed_file" "$dir/seed.json") # its passwords and secrets
	fi
fi

demo_password=""
if [ "$first" = 1 ] && [ "$SEED" = 1 ]; then
	demo_password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | head -c 16)
	printf '%s\n' "$demo_password" >"$dir/demo-password"
	chmod 600 "$dir/demo-password"
	printf '%s\n' "$demo_password" | "$postern" user add demo --admin >/dev/null
	"$postern" --json app create --name "Demo app" --owner demo \
		--description "An example third-party app." \
		--redirect-uri "http://127.0.0.1:$PORT/demo/callback" >"$dir/demo-app.json"
	"$postern" --json app create --name "Postiz CLI" --public --grant-types \
		"urn:ietf:params:oauth:grant-type:device_code" >"$dir/cli-app.json"
	cli_id=$(sed -n 's/.*"client_id":"\([^"]*\)".*/\1/p' "$dir/cli-app.json")
	printf 'cli_app = %s\napi_url = %s\n' "$cli_id" "http://127.0.0.1:$PORT/api" >>"$conf"
fi
[ -f "$dir/demo-password" ] && demo_password=$(cat "$dir/demo-password")

# Who nginx's workers run as: the user who starts the stack, like the executables. Not
# root, nginx cannot switch users anyway. As root it would switch them to nobody (or
# www-data), who cannot enter a private home: with the checkout in /root, or under any
# 0700 folder, they would reach neither the sockets in DIR/run nor static/ (for /oauth/static/),
# DIR/tmp, DIR/check-cache or DIR/htpasswd. Moving all of that to a runtime folder would
# copy files and move the paths tests and EXTRA_NGINX name (@STATE@/run/NAME.sock); making
# the folders searchable would widen the home's permissions. So as root the workers stay
# root: one user runs the whole stack whoever starts it, from any folder, and no
# permission changes. This is a loopback server for development and tests; installed,
# nginx's workers run as www-data and postern as its own user (README, "Installing on a
# server"; nginx.conf.example).
nginx_user=""
if [ "$(id -u)" = 0 ]; then nginx_user="user $(id -un) $(id -gn);"; fi

remote_user=""
if [ "$LOGIN" = remote_user ]; then
	remote_user="auth_basic \"postern\"; auth_basic_user_file $dir/htpasswd; fastcgi_param REMOTE_USER \$remote_user;"
	touch "$dir/htpasswd"
fi

# the optional micro-cache of the check: module, key and zone, and the check's part
cc_main="" cc_http="" cc_loc=""
if [ -n "${CHECK_CACHE:-}" ] || [ "${CHECK_CACHE_ZONE:-}" = 1 ]; then
	case "${CHECK_CACHE:-1}" in '' | *[!0-9]*) echo "$me: CHECK_CACHE is a number of seconds" >&2; exit 2 ;; esac
	cc_main="load_module /usr/lib/nginx/modules/ngx_http_js_module.so;"
	cc_http="js_import postern_check from $conf_dir/check_cache.js; js_set \$postern_token_key postern_check.key;"
	cc_http+=" map \$postern_token_key \$postern_no_key { \"\" 1; default 0; }"
	cc_http+=" fastcgi_cache_path $dir/check-cache keys_zone=postern_check:1m max_size=16m inactive=1m use_temp_path=off;"
fi
[ -n "${CHECK_CACHE:-}" ] && cc_loc="fastcgi_cache_valid 204 ${CHECK_CACHE}s; include $conf_dir/check_cache.conf;"

# Retry-After of a limit_req rate (N r/s or N r/m): the whole seconds until its zone lets
# one more request through
retry_after() {
	[[ $1 =~ ^[1-9][0-9]*r/[sm]$ ]] || { echo "$me: a rate is N r/s or N r/m, not '$1'" >&2; return 2; }
	local n=${1%r/*} per=1
	[ "${1##*/}" = m ] && per=60
	echo $(((per + n - 1) / n))
}
# @X_RATE@ and @X_RETRY@ of every zone, as "@KEY@=value" words for awk (rates have no spaces)
limits=""
for zone in LOGIN=${LOGIN_RATE:-10r/s} TOKEN=${TOKEN_RATE:-50r/s} REGISTER=${REGISTER_RATE:-10r/m} \
	REVOKE=${REVOKE_RATE:-50r/s} INTROSPECT=${INTROSPECT_RATE:-50r/s} \
	AUTHORIZE=${AUTHORIZE_RATE:-50r/s} DEVICE=${DEVICE_RATE:-20r/s}; do
	rate=${zone#*=}
	secs=$(retry_after "$rate")
	limits+=" @${zone%%=*}_RATE@=$rate @${zone%%=*}_RETRY@=$secs"
done

# the command /demo/callback shows, with the demo app's credentials (no demo app: a hint)
demo_curl="curl -u CLIENT_ID:CLIENT_SECRET -d grant_type=authorization_code -d code=\$arg_code $url/oauth/token"
if [ -f "$dir/demo-app.json" ]; then
	d_id=$(sed -n 's/.*"client_id":"\([^"]*\)".*/\1/p' "$dir/demo-app.json")
	d_secret=$(sed -n 's/.*"client_secret":"\([^"]*\)".*/\1/p' "$dir/demo-app.json")
	[ -n "$d_id" ] && [ -n "$d_secret" ] && demo_curl="curl -u $d_id:$d_secret -d grant_type=authorization_code -d code=\$arg_code -d redirect_uri=http://127.0.0.1:$PORT/demo/callback $url/oauth/token"
fi

# nginx config from the template
extra=${EXTRA_NGINX:-}
awk -v state="$dir" -v root="$root" -v confdir="$conf_dir" -v staticdir="$share/static" \
	-v port="$PORT" -v base="$BASE_PATH" \
	-v ru="$remote_user" -v extra="$extra" -v limits="$limits" -v nu="$nginx_user" \
	-v ccm="$cc_main" -v cch="$cc_http" -v ccl="$cc_loc" -v democurl="$demo_curl" '
	BEGIN { gsub(/@STATE@/, state, extra); gsub(/@ROOT@/, root, extra); gsub(/@PORT@/, port, extra); gsub(/@BASE@/, base, extra)
		nl = split(limits, kv, " ")
		for (i = 1; i <= nl; i++) { eq = index(kv[i], "="); lkey[i] = substr(kv[i], 1, eq - 1); lval[i] = substr(kv[i], eq + 1) } }
	{
	gsub(/@ROOT@\/conf\//, confdir "/"); gsub(/@ROOT@\/static\//, staticdir "/");
	gsub(/@STATE@/, state); gsub(/@ROOT@/, root); gsub(/@PORT@/, port); gsub(/@BASE@/, base);
	gsub(/@NGINX_USER@/, nu);
	for (i = 1; i <= nl; i++) gsub(lkey[i], lval[i]);
	gsub(/@CHECK_CACHE_MAIN@/, ccm); gsub(/@CHECK_CACHE_HTTP@/, cch); gsub(/@CHECK_CACHE@/, ccl);
	gsub(/@DEMO_CURL@/, democurl);
	if ($0 ~ /@EXTRA_NGINX@/) { print extra; next }
	gsub(/@REMOTE_USER@/, ru); print }' "$nginx_in" >"$dir/nginx.conf"

# nginx first: it binds the port before it forks, so if it cannot (a port taken in a way
# the check above cannot see, a bad EXTRA_NGINX), it fails here with nothing else started
elog="$dir/logs/nginx-error.log"
seen=$(wc -l 2>/dev/null <"$elog" || echo 0)
if ! nginx -p "$dir" -c "$dir/nginx.conf" -e "$elog" 2>>"$elog"; then
	said=$(tail -n +$((seen + 1)) "$elog" 2>/dev/null || true)
	if [[ $said == *"Address already in use"* ]]; then
		held=$(port_holders "$PORT" all)
		echo "$me: port $PORT is taken${held:+: ${held//$'\n'/; }}; choose another with PORT=" >&2
	else
		echo "$me: nginx did not start ($elog):" >&2
		printf '%s\n' "$said" | tail -n 5 >&2
	fi
	down
	exit 1
fi
for c in $cgis; do
	spawn-fcgi -n -s "$dir/run/$c.sock" -M 0600 -- "$cgi_dir/$c" >>"$dir/logs/$c.log" 2>&1 &
	echo $! >>"$dir/run/pids"
done

# ready when every socket exists and nginx answers /health (bounded: 10 s)
ok=0
for _ in $(seq 1 500); do
	all=1
	for c in $cgis; do [ -S "$dir/run/$c.sock" ] || all=0; done
	if [ $all = 1 ] && curl -fsS -o /dev/null "$url/health" 2>/dev/null; then ok=1; break; fi
	sleep 0.02
done
if [ $ok != 1 ]; then
	echo "$me: the stack did not come up; logs in $dir/logs" >&2
	tail -n 5 "$dir"/logs/*.log >&2 || true
	down
	exit 1
fi

app_json=$(cat "$dir/demo-app.json" 2>/dev/null || echo '{}')
cli_json=$(cat "$dir/cli-app.json" 2>/dev/null || echo '{}')
# a seeded folder without the demo user names no user; its seed goes with the line
demo_user=demo seed_json=""
if [ -f "$dir/seeded.json" ]; then
	seed_json=",\"seed\":$(cat "$dir/seeded.json")"
	[ -f "$dir/demo-password" ] || demo_user=""
fi
printf '{"url":"%s","dir":"%s","config":"%s","user":"%s","password":"%s","app":%s,"cli_app":%s%s}\n' \
	"$url" "$dir" "$conf" "$demo_user" "$demo_password" "$app_json" "$cli_json" "$seed_json"
