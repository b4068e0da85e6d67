#!/usr/bin/env bash
# Ten million new flows through one fabric with conntrack bounded at 100,000
# entries (release mode): the table stays within its bound, refusals are
# counted, an established flow keeps working. Prints the numbers.
#
#   scripts/conntrack-flood.sh [flows] [capacity]
set -euo pipefail
cd "$(dirname "$0")/.."
FLOOD_FLOWS=${1:-10000000} FLOOD_CAPACITY=${2:-100000} \
  cargo test --release -p vpcsim-dataplane --test flood -- --ignored --nocapture --test-threads=1
