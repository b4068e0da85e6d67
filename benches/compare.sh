#!/usr/bin/env bash
# vpcsim against the Linux baseline, in one run: `vpcsim bench` on the
# generated two-subnet scenario (1 and 2 workers), then
# benches/linux-baseline.sh on the same topology and rule count; prints the
# ratio vpcsim/Linux. Needs root (namespaces). Not part of the test run.
#
# Usage: benches/compare.sh [SECONDS] [RULES]   (defaults 5, 10; RULES 10 or 1000)
set -euo pipefail
SECONDS_TO_RUN=${1:-5}
RULES=${2:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $RULES in
10) SCENARIO="$ROOT/benches/scenarios/two-subnets-10-routes-10-rules.toml" ;;
1000) SCENARIO="$ROOT/benches/scenarios/two-subnets-1000-routes-1000-rules.toml" ;;
*)
    echo "RULES must be 10 or 1000 (the generated scenarios)" >&2
    exit 2
    ;;
esac
PACKETS=${PACKETS:-10000000}

cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --bin vpcsim
VPCSIM="$ROOT/target/release/vpcsim"
one=$("$VPCSIM" bench "$SCENARIO" --packets "$PACKETS" --workers 1 --json)
two=$("$VPCSIM" bench "$SCENARIO" --packets "$PACKETS" --workers 2 --json)
linux=$(bash "$ROOT/benches/linux-baseline.sh" "$SECONDS_TO_RUN" "$RULES")
echo "$linux"
python3 - "$one" "$two" "$linux" <<'PY'
import json, sys
one, two = json.loads(sys.argv[1]), json.loads(sys.argv[2])
linux = float([l for l in sys.argv[3].splitlines() if l.startswith("packets_per_second=")][0].split("=")[1])
for r in (one, two):
    print(f"vpcsim: {r['workers']} worker(s): {r['packets_per_second'] / 1e6:.2f} Mpps, "
          f"{r['ns_per_packet']:.1f} ns/packet wall, {r['pipeline_ns_per_packet']:.1f} ns/packet in the pipeline, "
          f"delivered {r['delivered']} of {r['packets']}, drops {r['dropped']}")
print(f"linux: {linux / 1e6:.3f} Mpps")
print(f"ratio vpcsim/linux: {one['packets_per_second'] / linux:.1f}x (1 worker), {two['packets_per_second'] / linux:.1f}x (2 workers)")
print(f"2 workers / 1 worker: {two['packets_per_second'] / one['packets_per_second']:.2f}x")
PY
