#!/usr/bin/env bash
# Decode throughput benchmark: makes the ~1 GB synthetic corpus once (seeded, so identical on
# every machine), then runs the decode bench pinned to one core, baseline in the same run.
#   bench/decode.sh [LINES] [RUNS]      defaults: 1000000 lines (~1 GB), 5 runs
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
runs=${2:-5}
corpus=target/bench/audit-$lines.jsonl
generator=../shared/bench/gen_audit.py
[ -f "$generator" ] || generator=bench/gen_audit.py
if [ ! -f "$corpus" ]; then
  mkdir -p target/bench
  echo "generating $corpus with $generator (seed 42)" >&2
  python3 "$generator" -n "$lines" --seed 42 -o "$corpus.tmp" && mv "$corpus.tmp" "$corpus"
fi
cargo build --release --benches -q
exec taskset -c 0 cargo bench -q --bench decode -- "$corpus" "$runs"
