#!/usr/bin/env bash
# Runs each fuzz target for a bounded time and prints executions per target.
#
#   fuzz/run.sh [seconds per target, default 60] [targets...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain. New
# inputs go to fuzz/work/<target> (ignored by git), seeded from
# fuzz/corpus/<target>; a crash leaves its input in fuzz/artifacts/<target>,
# which then becomes a file in fuzz/regressions/<target> (replayed by
# `cargo test --manifest-path fuzz/Cargo.toml`) and a named regression test.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(frame scenario dns policy geneve)

cargo +nightly fuzz build --release >/dev/null 2>&1
status=0
for t in "${targets[@]}"; do
  mkdir -p "work/$t" "corpus/$t"
  log=$(mktemp)
  # -rss_limit_mb: a bound on memory, so a blow-up is a finding too.
  if cargo +nightly fuzz run --release "$t" "work/$t" "corpus/$t" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result="CRASH (see fuzz/artifacts/$t and $log)"
    status=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
  per_sec="?"
  [ "$execs" != "?" ] && per_sec=$((execs / seconds))
  corpus=$(ls "work/$t" | wc -l)
  printf '%-9s %12s executions in %ss (%s/s), corpus %s: %s\n' "$t" "$execs" "$seconds" "$per_sec" "$corpus" "$result"
  [ "$result" = ok ] && rm -f "$log"
done
exit $status
