#!/usr/bin/env bash
# The hostile inputs too big for a debug test run: 100,000 NACL rules plus
# 100,000 security-group rules, and 100,000 routes, loaded in release mode.
# Each test prints how long the load took and fails past its bound.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release -p vpcsim-scenario --test hostile -- --ignored --nocapture --test-threads=1
