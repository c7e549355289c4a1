#!/usr/bin/env bash
# A few seconds of libFuzzer exploration from a target's seeds, as a ctest test: make test
# then finds what a change newly breaks in the parsers, not only what a saved input breaks.
# The seed is fixed, so one commit explores the same inputs in the same order every run (the
# time bound only decides how far). New inputs go to a scratch corpus; a crash is saved as
# FUZZ_DIR/crash-TARGET-* (add it to tests/fuzz/corpus/TARGET to keep it as a regression).
# usage: tests/fuzz/explore.sh FUZZ_DIR TARGET SECONDS
set -uo pipefail

dir=$1
target=$2
seconds=$3
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$dir/fuzz_$target
log=$dir/explore-$target.log
if [ ! -x "$bin" ]; then
  echo "explore: $bin was not built (is clang++ installed? deploy/install-deps.sh test)" >&2
  exit 1
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Every target handles an input in milliseconds, so 2 s is a hang. yaml-cpp's hangs also
# allocate without end: the memory limit is set so that the timeout comes first.
# libFuzzer reports a hang from a signal handler; when that interrupts an allocation (yaml-cpp
# allocates all the time it hangs) the report itself can deadlock, so a hard kill bounds it.
timeout -s KILL $((seconds + 30)) \
  "$bin" -seed=1 -max_total_time="$seconds" -max_len=4096 -timeout=2 -rss_limit_mb=6144 \
  -print_final_stats=1 -artifact_prefix="$dir/crash-$target-" "$scratch" "$src/corpus/$target" \
  >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" -eq 0 ]; then
  echo "explore $target: ${runs:-?} inputs in ${seconds}s, no finding"
  exit 0
fi

# yaml-cpp 0.7 itself never returns on some inputs (tests/fuzz/known-hangs). airlock guards
# against that where it matters: load_file parses in a child with a deadline. So a timeout in
# config_load whose innermost frame of ours or yaml-cpp's is yaml-cpp's is that known defect;
# a timeout anywhere else, or any other finding, fails.
if [ "$target" = config_load ] && grep -q "ERROR: libFuzzer: timeout" "$log"; then
  first=$(grep -E '^ *#[0-9]+ ' "$log" | grep -m1 -E 'YAML::|libyaml-cpp|airlock::' || true)
  if [[ "$first" == *YAML::* || "$first" == *libyaml-cpp* ]]; then
    echo "explore $target: after ${runs:-?} inputs, yaml-cpp did not return on one (the known"
    echo "  defect airlock's loader guards against): $(sed -n 's/.*Test unit written to //p' "$log")"
    exit 0
  fi
fi
# The hang was seen (libFuzzer's alarm fired) but its report deadlocked: in config_load, whose
# own code before and after the parser is a linear scan, that is the same known defect.
if [ "$target" = config_load ] && [ "$rc" -eq 137 ] && grep -q "^ALARM: working on the last Unit" "$log"; then
  echo "explore $target: after some inputs, one did not return and libFuzzer's report of it hung;"
  echo "  taken as the known yaml-cpp defect (the input is the last unit in $log)"
  exit 0
fi
echo "explore $target: FINDING after ${runs:-?} inputs (libFuzzer status $rc); the report:" >&2
grep -m1 -A40 -E '^==[0-9]+==|ERROR: libFuzzer|runtime error|Assertion' "$log" >&2 || tail -40 "$log" >&2
exit 1
