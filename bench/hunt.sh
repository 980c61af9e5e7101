#!/usr/bin/env bash
# Hunt throughput: the 16 SigmaHQ Kubernetes rules over the seeded 1M-event corpus (~1 GB) at 1
# and 2 threads, against jq selecting secrets on the same file, all in one invocation so the
# ratios compare like with like. Prints medians, ratios, peak memory, and checks that 1 and 2
# threads write byte-identical alerts.
#   bench/hunt.sh [LINES] [RUNS] [EXTRA HUNT FLAGS…]   defaults: 1000000 lines, 5 runs
# (jq, ten times slower and steady, runs in the first 3 rounds only).
# "pair" runs two independent 1-thread hunts at once, pinned to cores 0 and 1: no parallel design
# can scale past what two separate processes get, so it is this machine's 2-core ceiling.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
runs=${2:-5}
shift $(( $# > 2 ? 2 : $# )) || true
extra=("$@")
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
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)" >&2; exit 2; }
cargo build --release -q
bin=target/release/credwatch
out=target/bench/hunt
mkdir -p "$out"
# shellcheck source=bench/lib.sh
. bench/lib.sh

# One timed run: prints "seconds peak_kib".

declare -A secs rss
for round in $(seq 0 "$runs"); do
  whats="t1 t2 pair"
  [ "$round" -le 3 ] && whats="t1 t2 pair jq"
  for what in $whats; do
    case $what in
      t1) r=$(timed taskset -c 0 $bin hunt "$corpus" --no-builtin -r rules/sigmahq --threads 1 --format jsonl -o "$out/t1.jsonl" "${extra[@]}") ;;
      t2) r=$(timed $bin hunt "$corpus" --no-builtin -r rules/sigmahq --threads 2 --format jsonl -o "$out/t2.jsonl" "${extra[@]}") ;;
      pair)
        timed taskset -c 1 $bin hunt "$corpus" --no-builtin -r rules/sigmahq --threads 1 --format jsonl -o "$out/pair.jsonl" "${extra[@]}" > "$out/pair.other" &
        r=$(timed taskset -c 0 $bin hunt "$corpus" --no-builtin -r rules/sigmahq --threads 1 --format jsonl -o "$out/t1.jsonl" "${extra[@]}")
        wait
        other=$(cat "$out/pair.other")
        # The pair's time is the slower of the two.
        r=$(echo "$r $other" | awk '{print ($1 > $3 ? $1 : $3), ($2 > $4 ? $2 : $4)}') ;;
      jq) r=$(timed taskset -c 0 jq -c 'select(.objectRef.resource=="secrets")' "$corpus") ;;
    esac
    # Round 0 warms the page cache and is not counted.
    if [ "$round" -gt 0 ]; then
      secs[$what]+="${r% *} "
      rss[$what]=$(( ${rss[$what]:-0} > ${r#* } ? ${rss[$what]:-0} : ${r#* } ))
    fi
  done
done
m1=$(echo "${secs[t1]}" | median); m2=$(echo "${secs[t2]}" | median); mj=$(echo "${secs[jq]}" | median)
mp=$(echo "${secs[pair]}" | median)
cmp -s "$out/t1.jsonl" "$out/t2.jsonl" && same=identical || same=DIFFERENT
alerts=$(wc -l < "$out/t1.jsonl")
# Each round's 1-thread, 2-thread and pair runs follow one another, so their ratios within a
# round are less exposed to this shared machine's drift than a ratio of medians taken minutes
# apart; both are printed.
paired=$(paste <(echo "${secs[t1]}" | tr ' ' '\n' | grep -v '^$') <(echo "${secs[t2]}" | tr ' ' '\n' | grep -v '^$') <(echo "${secs[pair]}" | tr ' ' '\n' | grep -v '^$'))
sr=$(echo "$paired" | awk '{print $1/$2}' | median)
cr=$(echo "$paired" | awk '{print 2*$1/$3}' | median)
echo "runs (s), round by round: 1 thread: ${secs[t1]}| 2 threads: ${secs[t2]}| pair: ${secs[pair]}"
awk -v n="$lines" -v mp="$mp" -v m1="$m1" -v m2="$m2" -v mj="$mj" -v r1="${rss[t1]}" -v r2="${rss[t2]}" -v a="$alerts" -v same="$same" -v runs="$runs" -v sr="$sr" -v cr="$cr" 'BEGIN {
  printf "corpus: %d events, medians of %d runs (jq: 3)\n", n, runs
  printf "hunt --threads 1 : %6.2f s  %9.0f events/s  peak %5.1f MiB\n", m1, n/m1, r1/1024
  printf "hunt --threads 2 : %6.2f s  %9.0f events/s  peak %5.1f MiB\n", m2, n/m2, r2/1024
  printf "jq secrets       : %6.2f s  %9.0f events/s\n", mj, n/mj
  printf "two 1-thread hunts at once (cores 0, 1): %.2f s for both; 2-core ceiling here: %.2fx\n", mp, 2*m1/mp
  printf "scaling 1->2 threads: %.2fx   hunt (1 thread) vs jq: %.1fx   hunt (2 threads) vs jq: %.1fx\n", m1/m2, mj/m1, mj/m2
  printf "within each round (median of %d): scaling 1->2 threads %.2fx, 2-core ceiling %.2fx\n", runs, sr, cr
  printf "alerts: %d; threads 1 and 2 output: %s\n", a, same
}'
[ "$same" = identical ]
