#!/usr/bin/env bash
# Runs each fuzz target for SECONDS on a scratch copy of its seed corpus and prints one
# line per target. Exits 1 if any target crashed, timed out or ran out of memory; the
# line names the saved input. Used by `make fuzz`; see README.md.
#
# usage: tests/fuzz/run.sh BUILD_DIR SECONDS TARGET...
set -u

if [ $# -lt 3 ]; then
  echo "usage: $0 BUILD_DIR SECONDS TARGET..." >&2
  exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
shift 2
seeds=$(cd "$(dirname "$0")" && pwd)/corpus
work=$build/fuzz-work
failed=0

stat() {  # stat NAME LOG: a value from libFuzzer's -print_final_stats
  sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

for t in "$@"; do
  bin=$build/tests/fuzz/$t
  dir=$work/$t
  rm -rf "$dir"
  mkdir -p "$dir/corpus"
  cp "$seeds/$t"/* "$dir/corpus/"
  before=$(ls "$dir/corpus" | wc -l)
  log=$dir/log.txt
  # The scratch directory is the working directory: relative paths an input names
  # (fuzz_config's keys_file) land there.
  (cd "$dir" && "$bin" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$dir/" corpus) >"$log" 2>&1
  rc=$?
  after=$(ls "$dir/corpus" | wc -l)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
  if [ $rc -eq 0 ]; then
    printf '%-18s ok     %ss  %s runs  %s exec/s  %s  corpus %s -> %s\n' "$t" "$seconds" \
      "$(stat number_of_executed_units "$log")" "$(stat average_exec_per_sec "$log")" \
      "${cov:-cov: ?}" "$before" "$after"
  else
    failed=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    what=$(grep -m 1 -oE 'ERROR: [A-Za-z]+: [a-z-]+|runtime error: .*|invariant failed: .*' "$log")
    printf '%-18s FAILED exit %s  %s  input: %s  log: %s\n' "$t" "$rc" "${what:-?}" \
      "${artifact:-none}" "$log"
  fi
done
exit $failed
