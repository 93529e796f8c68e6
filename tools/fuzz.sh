#!/usr/bin/env bash
# fuzz.sh: build and run the fuzz targets in tests/fuzz (one per parser).
#
#   tools/fuzz.sh smoke           every target for a few seconds from its seed corpus;
#                                 fails on any crash, leak, timeout or sanitizer report
#   tools/fuzz.sh long [SECONDS]  every target for SECONDS (default 300); new inputs are
#                                 kept in build/fuzz/corpus/<name> (copy good ones into
#                                 tests/fuzz/corpus/<name> by hand)
#
# With clang (clang-14 or clang) the targets are libFuzzer binaries with ASan + UBSan.
# Without it (or with FUZZ_CC=gcc) they are linked with tests/fuzz/driver.c and only
# replay the seed corpus under ASan + UBSan. The library is compiled with the same
# compiler and flags as the targets, into build/fuzz/<compiler>/libpostern.a.
# Crash inputs are written to build/fuzz/artifacts/; logs to build/fuzz/logs/.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

mode=${1:-smoke}
case "$mode" in
smoke) seconds=${2:-2} ;;
long) seconds=${2:-300} ;;
*) echo "usage: tools/fuzz.sh smoke | long [SECONDS]" >&2; exit 2 ;;
esac

# The flags of the Makefile's sanitizer build (SAN_CFLAGS), less the sanitizer list.
pkgs="fcgi sqlite3 libsodium libcjson libcurl libpq libcrypto"
pkg_cflags=$(pkg-config --cflags $pkgs 2>/dev/null || true)
pkg_libs=$(pkg-config --libs $pkgs 2>/dev/null || echo -lfcgi -lsqlite3 -lsodium -lcjson -lcurl -lpq -lcrypto)
base_cflags="-std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
	-D_DEFAULT_SOURCE -DPOSTERN_TEMPLATES=\"/usr/local/share/postern/templates\"
	-Ilib -Itests/fuzz $pkg_cflags -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=undefined"

cc=${FUZZ_CC:-}
if [ -z "$cc" ]; then
	for c in clang-14 clang; do
		if command -v "$c" >/dev/null 2>&1; then cc=$c; break; fi
	done
	cc=${cc:-${CC:-cc}}
fi
if "$cc" --version 2>/dev/null | grep -q clang; then
	libfuzzer=1
	lib_san="-fsanitize=fuzzer-no-link,address,undefined"
	bin_san="-fsanitize=fuzzer,address,undefined"
else
	libfuzzer=0
	lib_san="-fsanitize=address,undefined"
	bin_san="$lib_san"
fi

out=build/fuzz/$(basename "$cc")
mkdir -p "$out/obj" build/fuzz/artifacts build/fuzz/logs
[ -f build/schema.c ] || make -s build/schema.c

# ---------------------------------------------------------------- build
start=$(date +%s)
newest_header=$(ls -t lib/*.h | head -1)
objs=()
pids=()
for src in lib/*.c build/schema.c; do
	obj="$out/obj/$(basename "${src%.c}").o"
	objs+=("$obj")
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_header" -nt "$obj" ]; then
		echo "$cc -c $src"
		# shellcheck disable=SC2086
		"$cc" $base_cflags $lib_san -c -o "$obj" "$src" &
		pids+=($!)
	fi
done
for pid in "${pids[@]}"; do
	wait "$pid" || { echo "fuzz.sh: compiling the library failed" >&2; exit 1; }
done
rm -f "$out/libpostern.a"
ar rcs "$out/libpostern.a" "${objs[@]}"

targets=()
for src in tests/fuzz/*.c; do
	name=$(basename "${src%.c}")
	[ "$name" = driver ] && continue
	targets+=("$name")
	bin="$out/$name"
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ] || [ tests/fuzz/fuzz.h -nt "$bin" ] ||
		[ "$out/libpostern.a" -nt "$bin" ]; then
		extra=()
		[ "$libfuzzer" = 0 ] && extra=(tests/fuzz/driver.c)
		echo "$cc $src"
		# shellcheck disable=SC2086
		"$cc" $base_cflags $bin_san -o "$bin" "$src" "${extra[@]}" "$out/libpostern.a" $pkg_libs
	fi
done
echo "built ${#targets[@]} targets with $cc in $(( $(date +%s) - start ))s"

# ---------------------------------------------------------------- run
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=()
for name in "${targets[@]}"; do
	bin="$out/$name"
	seed=tests/fuzz/corpus/$name
	log=build/fuzz/logs/$name.log
	if [ "$libfuzzer" = 0 ]; then
		if [ ! -d "$seed" ]; then
			failed+=("$name")
			echo "FAIL $name: no seed corpus in $seed"
		elif ! "$bin" "$seed" >"$log" 2>&1 </dev/null; then
			failed+=("$name")
			echo "FAIL $name (replay; see $log)"
			tail -30 "$log" >&2 || true
		else
			echo "ok   $name: $(tail -1 "$log")"
		fi
		continue
	fi
	if [ "$mode" = long ]; then
		corpus=build/fuzz/corpus/$name
		mkdir -p "$corpus"
	else
		corpus=$tmp/$name
		mkdir -p "$corpus"
	fi
	[ -d "$seed" ] && cp -R "$seed/." "$corpus/"
	if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
		-artifact_prefix="build/fuzz/artifacts/$name-" -print_final_stats=1 \
		"$corpus" >"$log" 2>&1 </dev/null; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "ok   $name: ${runs:-?} runs in ${seconds}s"
	else
		failed+=("$name")
		echo "FAIL $name (see $log; input in build/fuzz/artifacts/$name-*)"
		grep -E "ERROR|SUMMARY|runtime error|Assertion|abort|tests/fuzz/.*:[0-9]+:" "$log" | head -20 >&2 || true
	fi
done
echo "fuzz $mode: ${#targets[@]} targets, ${#failed[@]} failed, $(( $(date +%s) - start ))s in all"
[ "${#failed[@]}" -eq 0 ]
