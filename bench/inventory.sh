#!/usr/bin/env bash
# inventory rbac on a large RBAC dump (the issue's bar: 5,000 roles and 20,000 bindings in under
# 2 s), beside who-can on the same dump and, as a baseline run in the same invocation, jq
# merely reading it (`jq '.items | length'`): how much of the time is parsing the dump at all.
#   bench/inventory.sh [ROLES] [BINDINGS] [RUNS]      defaults: 5000 20000 5
set -euo pipefail
cd "$(dirname "$0")/.."
roles=${1:-5000}
bindings=${2:-20000}
runs=${3:-5}
dump=target/bench/rbac-$roles-$bindings.json
cargo build --release --locked -q
bin=target/release/credwatch
if [ ! -f "$dump" ]; then
  mkdir -p target/bench
  echo "generating $dump with bench/gen_rbac.py (seed 42)" >&2
  python3 bench/gen_rbac.py --roles "$roles" --bindings "$bindings" --out "$dump.tmp" && mv "$dump.tmp" "$dump"
fi
out=target/bench/inventory
mkdir -p "$out"
# shellcheck source=bench/lib.sh
. bench/lib.sh


declare -A secs rss
whats="rbac_json rbac_table who_can jq_read"
command -v jq >/dev/null || whats="rbac_json rbac_table who_can"
for round in $(seq 0 "$runs"); do
  for what in $whats; do
    case $what in
      rbac_json) r=$(timed $bin inventory rbac "$dump" --format json -o "$out/rbac.json") ;;
      rbac_table) r=$(timed $bin inventory rbac "$dump" -o "$out/rbac.txt") ;;
      who_can) r=$(timed $bin inventory who-can get secrets "$dump" -o "$out/who-can.txt") ;;
      jq_read) r=$(timed jq '.items | length' "$dump") ;;
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
size=$(du -m "$dump" | cut -f1)
echo "dump: $dump ($roles roles, $bindings bindings, ${size} MB); medians of $runs runs"
for what in $whats; do
  printf '%-12s %6.2f s  peak %4d MiB\n' "$what" "${med[$what]}" $(( ${rss[$what]} / 1024 ))
done
printf 'inventory rbac (json): %.2f s (target < 2 s)\n' "${med[rbac_json]}"
if [ -n "${med[jq_read]:-}" ]; then
  printf 'inventory rbac / jq reading the dump = %.2fx time\n' \
    "$(echo "${med[rbac_json]} ${med[jq_read]}" | awk '{print $1 / $2}')"
fi
