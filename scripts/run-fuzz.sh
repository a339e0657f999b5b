#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a bounded time each.
#
#   scripts/run-fuzz.sh BUILD_DIR SECONDS
#
# BUILD_DIR holds the fuzz_<name> binaries (`make fuzz` builds them with
# clang and -DSTLS_FUZZ=ON). Each target starts from its seed corpus
# fuzz/corpus/<name>/ (read-only: new inputs go to a scratch corpus under
# BUILD_DIR/fuzz-work/<name>/) with the dictionary fuzz/dict/ gives it, for
# SECONDS seconds (-max_total_time). A crash, leak or timeout is saved as
# BUILD_DIR/fuzz-crashes/<name>/crash-* (libFuzzer's artifact prefix); keep
# it as a regression input by copying it into fuzz/corpus/<name>/ once
# fixed. The closing table gives each target's executions, coverage (cov)
# and features (ft) from libFuzzer's final stats.
#
# Environment:
#   FUZZ_TARGETS="a b"  only these targets (names without fuzz_)
#   FUZZ_MERGE=1        merge the new inputs into fuzz/corpus/<name>/
#                       (libFuzzer -merge=1 keeps only those adding coverage)
#   FUZZ_JOBS=N         targets run N at a time (default 1)
# Exit status: 0 when no target crashed, 1 otherwise, 2 for bad usage.
set -uo pipefail

if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
	echo "usage: $0 BUILD_DIR SECONDS" >&2
	exit 2
fi
build=$(cd "$1" && pwd) || exit 2
secs=$2
src=$(cd "$(dirname "$0")/.." && pwd)
jobs=${FUZZ_JOBS:-1}

targets=()
for bin in "$build"/fuzz_*; do
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	name=${bin##*/fuzz_}
	if [ -n "${FUZZ_TARGETS:-}" ] &&
	   ! [[ " $FUZZ_TARGETS " == *" $name "* ]]; then
		continue
	fi
	targets+=("$name")
done
if [ ${#targets[@]} -eq 0 ]; then
	echo "run-fuzz: no fuzz_* binaries in $build (make fuzz builds them)" >&2
	exit 2
fi

dict_for() {
	case $1 in
	sip_*) echo "$src/fuzz/dict/sip.dict" ;;
	*) echo "$src/fuzz/dict/$1.dict" ;;
	esac
}

run_one() {
	local name=$1 work="$build/fuzz-work/$1" crashes="$build/fuzz-crashes/$1"
	local log="$build/fuzz-work/$1.log" dict args=()

	mkdir -p "$work" "$crashes"
	dict=$(dict_for "$name")
	[ -f "$dict" ] && args+=("-dict=$dict")
	"$build/fuzz_$name" "${args[@]}" -max_total_time="$secs" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$crashes/" "$work" "$src/fuzz/corpus/$name" \
		>"$log" 2>&1
	echo $? >"$work.rc"
	if [ "${FUZZ_MERGE:-0}" = 1 ]; then
		"$build/fuzz_$name" -merge=1 "$src/fuzz/corpus/$name" "$work" \
			>>"$log" 2>&1
	fi
}

echo "run-fuzz: ${#targets[@]} targets, ${secs}s each, $jobs at a time"
running=0
for name in "${targets[@]}"; do
	run_one "$name" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

failed=0
printf '%-14s %12s %7s %7s %7s %s\n' target execs cov ft corpus result
for name in "${targets[@]}"; do
	log="$build/fuzz-work/$name.log"
	rc=$(cat "$build/fuzz-work/$name.rc" 2>/dev/null || echo 1)
	execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" |
		awk '{print $2}' | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" | grep -E ' cov: ' | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' \
		<<<"$last")
	result=ok
	if [ "$rc" != 0 ] ||
	   ls "$build/fuzz-crashes/$name"/* >/dev/null 2>&1; then
		result="CRASH (see $build/fuzz-crashes/$name, $log)"
		failed=1
	fi
	printf '%-14s %12s %7s %7s %7s %s\n' "$name" "${execs:-?}" \
		"${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
exit $failed
