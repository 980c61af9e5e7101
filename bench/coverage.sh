#!/usr/bin/env bash
# coverage logs throughput beside hunt on the same corpus, in one invocation so the ratio
# compares like with like: the seeded 1M-event corpus of bench/hunt.sh (~1 GB), hunt with the
# built-in pack and with the 16 SigmaHQ rules, and coverage logs, each at 1 and 2 threads.
# Prints medians, events/s, the ratio of coverage logs to each hunt (the target: within 1.5x
# of hunt's time), and peak memory.
#   bench/coverage.sh [LINES] [RUNS]      defaults: 1000000 lines, 3 runs
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
runs=${2:-3}
corpus=target/bench/audit-$lines.jsonl
made_by_simulate='"requestReceivedTimestamp":"2026-03-02T09:00:00'
cargo build --release --locked -q
bin=target/release/credwatch
if [ ! -f "$corpus" ] || [[ "$(head -c 4096 "$corpus")" != *"$made_by_simulate"* ]]; then
  mkdir -p target/bench
  echo "generating $corpus with credwatch simulate (seed 42)" >&2
  $bin simulate none --background "$lines" --seed 42 -o "$corpus.tmp" && mv "$corpus.tmp" "$corpus"
fi
out=target/bench/coverage
mkdir -p "$out"
# shellcheck source=bench/lib.sh
. bench/lib.sh


declare -A secs rss
whats="hunt_pack_t1 hunt_sigma_t1 coverage_t1 hunt_pack_t2 hunt_sigma_t2 coverage_t2"
for round in $(seq 0 "$runs"); do
  for what in $whats; do
    t=${what##*_t}
    case $what in
      hunt_pack_*) r=$(timed $bin hunt "$corpus" --threads "$t" --format jsonl -o "$out/hunt.jsonl") ;;
      hunt_sigma_*) r=$(timed $bin hunt "$corpus" --no-builtin -r rules/sigmahq --threads "$t" --format jsonl -o "$out/hunt.jsonl") ;;
      coverage_*) r=$(timed $bin coverage logs "$corpus" --threads "$t" --format json -o "$out/coverage.json") ;;
    esac
    # Round 0 warms the page cache and is not counted.
    if [ "$round" -gt 0 ]; then
      secs[$what]+="${r% *} "
      rss[$what]=$(( ${rss[$what]:-0} > ${r#* } ? ${rss[$what]:-0} : ${r#* } ))
    fi
  done
done
declare -A med
for what in $whats; do med[$what]=$(echo "${secs[$what]}" | median); done
echo "corpus: $corpus ($lines events); medians of $runs runs"
for what in $whats; do
  printf '%-16s %7.2f s  %9.0f events/s  peak %4d MiB\n' "$what" "${med[$what]}" \
    "$(echo "$lines ${med[$what]}" | awk '{print $1 / $2}')" $(( ${rss[$what]} / 1024 ))
done
for t in 1 2; do
  printf 'threads %s: coverage logs / hunt (built-in pack) = %.2fx time; / hunt (SigmaHQ) = %.2fx time (target <= 1.5x)\n' "$t" \
    "$(echo "${med[coverage_t$t]} ${med[hunt_pack_t$t]}" | awk '{print $1 / $2}')" \
    "$(echo "${med[coverage_t$t]} ${med[hunt_sigma_t$t]}" | awk '{print $1 / $2}')"
done
