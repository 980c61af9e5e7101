#!/usr/bin/env bash
# Decode throughput benchmark: makes the ~1 GB synthetic corpus once (seeded, so identical on
# every machine), then runs the decode bench pinned to one core, baseline in the same run.
#   bench/decode.sh [LINES] [RUNS]      defaults: 1000000 lines (~1 GB), 5 runs
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
runs=${2:-5}
corpus=target/bench/audit-$lines.jsonl
# The corpus is the benign background of `credwatch simulate` (no attacks), seed 42. One made by
# the earlier generator (gen_audit.py, whose events start in 2024) is made again.
made_by_simulate='"requestReceivedTimestamp":"2026-03-02T09:00:00'
if [ ! -f "$corpus" ] || [[ "$(head -c 4096 "$corpus")" != *"$made_by_simulate"* ]]; then
  cargo build --release -q
  mkdir -p target/bench
  echo "generating $corpus with credwatch simulate (seed 42)" >&2
  target/release/credwatch simulate none --background "$lines" --seed 42 -o "$corpus.tmp" && mv "$corpus.tmp" "$corpus"
fi
cargo build --release --benches -q
exec taskset -c 0 cargo bench -q --bench decode -- "$corpus" "$runs"
