#!/usr/bin/env bash
# Scan throughput: `credwatch scan` over ~1 GB of benign container logs at 1 and 2 threads, beside
# two baselines in the same run so the ratios compare like with like: splitting the lines
# (`cat | wc -l`, the floor for anything that reads every line) and a literal matcher
# (`grep -c -i -F` with the scanner's anchor words, for reference). Prints medians, MB/s, the
# ratio of each to the wc baseline, credwatch's peak memory, and the findings credwatch reports,
# which on this corpus should be none.
#   bench/scan.sh [SIZE_MB] [RUNS]      defaults: 1000 MB, 5 runs
# The corpus (bench/gen_container_logs.py, seed 42: 40 containers in 8 namespaces in the
# kubelet's /var/log/pods layout, half CRI, half Docker json-file) is made once under
# target/bench/. MB is 10^6 bytes. grep runs in C.UTF-8 where there is one: GNU grep 3.8 -i -F
# measured ~30% faster there than in the C locale on this corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
grep_locale=C
locale -a 2>/dev/null | grep -ix 'c.utf-\?8' >/dev/null && grep_locale=C.UTF-8
size=${1:-1000}
runs=${2:-5}
corpus=target/bench/container-logs-${size}mb-seed42
out=target/bench/scan
bin=target/release/credwatch
words=(-e password -e secret -e token -e AKIA -e eyJ -e BEGIN -e ghp_ -e xox)

cargo build --release --locked -q
if [ ! -d "$corpus" ]; then
  command -v python3 >/dev/null || { echo "python3 is needed to generate $corpus" >&2; exit 2; }
  mkdir -p target/bench
  echo "generating $corpus with bench/gen_container_logs.py (seed 42)" >&2
  rm -rf "$corpus.tmp"
  python3 bench/gen_container_logs.py --out "$corpus.tmp" --size-mb "$size" --seed 42
  mv "$corpus.tmp" "$corpus"
fi
mkdir -p "$out"
files=$(find "$corpus" -type f | wc -l)
bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
[ "$files" -gt 0 ] || { echo "no files under $corpus" >&2; exit 1; }

# The scan verb may not be built yet: the baselines still run, then the script fails saying so.
if "$bin" scan --help >/dev/null 2>&1; then
  has_scan=1
else
  has_scan=0
  echo "scan.sh: $bin has no \`scan\` verb (\`credwatch scan --help\` fails); only the wc and" \
    "grep baselines will run" >&2
fi
gnutime=
[ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null && gnutime=/usr/bin/time

wc_lines() {
  find "$corpus" -type f -print0 | xargs -0 cat | wc -l
}
grep_lines() {
  # grep -c exits 1 (xargs: 123) when nothing matched: a count of 0, not a failure.
  find "$corpus" -type f -print0 |
    { LC_ALL=$grep_locale xargs -0 grep -H -c -i -F "${words[@]}" -- || [ $? -eq 123 ]; } |
    awk -F: '{s += $NF} END {print s + 0}'
}

# One timed run: prints "seconds peak_kib" (peak 0 when not measured); the command's stdout goes
# to $out/<what>.out.
timed() {
  local what=$1
  shift
  local t0 t1 rc=0
  t0=$EPOCHREALTIME
  if [[ $what == t* && -n $gnutime ]]; then
    $gnutime -f %M -o "$out/$what.rss" "$@" >"$out/$what.out" 2>"$out/$what.err" || rc=$?
  else
    "$@" >"$out/$what.out" 2>"$out/$what.err" || rc=$?
    echo 0 >"$out/$what.rss"
  fi
  t1=$EPOCHREALTIME
  if [ "$rc" -ne 0 ]; then
    echo "scan.sh: $what failed (exit $rc): $*" >&2
    cat "$out/$what.err" >&2
    exit 1
  fi
  echo "$t0 $t1 $(tail -n 1 "$out/$what.rss")" | awk '{printf "%.4f %d\n", $2 - $1, $3}'
}

whats="wc grep"
[ "$has_scan" = 1 ] && whats="wc grep t1 t2"
declare -A secs rss
# Round 0 warms the page cache and is not counted; then the tools alternate, RUNS times each.
for round in $(seq 0 "$runs"); do
  for what in $whats; do
    case $what in
      wc) r=$(timed wc wc_lines) ;;
      grep) r=$(timed grep grep_lines) ;;
      t1) r=$(timed t1 "$bin" scan "$corpus" --format jsonl -o /dev/null --threads 1) ;;
      t2) r=$(timed t2 "$bin" scan "$corpus" --format jsonl -o /dev/null --threads 2) ;;
    esac
    if [ "$round" -gt 0 ]; then
      secs[$what]+="${r% *} "
      rss[$what]=$(( ${rss[$what]:-0} > ${r#* } ? ${rss[$what]:-0} : ${r#* } ))
    fi
  done
done
# shellcheck source=bench/lib.sh
. bench/lib.sh
lines=$(cat "$out/wc.out")
matching=$(cat "$out/grep.out")
mwc=$(echo "${secs[wc]}" | median)
row() { # label median peak_kib note
  awk -v l="$1" -v m="$2" -v p="$3" -v n="$4" -v b="$bytes" -v w="$mwc" 'BEGIN {
    printf "%-28s %7.3f s %8.1f MB/s %6.2fx wc", l, m, b / 1e6 / m, m / w
    if (p > 0) printf "   peak %6.1f MiB", p / 1024
    if (n != "") printf "   %s", n
    printf "\n"
  }'
}
awk -v c="$corpus" -v f="$files" -v b="$bytes" -v l="$lines" -v r="$runs" 'BEGIN {
  printf "corpus: %s: %d files, %.1f MB, %d lines (%.0f bytes a line); medians of %d runs\n", c, f, b / 1e6, l, b / l, r
}'
row "wc -l (find | cat | wc)" "$mwc" 0 ""
row "grep -c -i -F (8 anchors)" "$(echo "${secs[grep]}" | median)" 0 "$matching lines match an anchor ($grep_locale)"
if [ "$has_scan" = 0 ]; then
  echo "scan.sh: FAILED: $bin has no \`scan\` verb, so credwatch was not measured; build the" \
    "scan command (credwatch scan PATH --format jsonl -o FILE --threads N) and run again" >&2
  exit 1
fi
m1=$(echo "${secs[t1]}" | median)
m2=$(echo "${secs[t2]}" | median)
row "credwatch scan --threads 1" "$m1" "${rss[t1]}" ""
row "credwatch scan --threads 2" "$m2" "${rss[t2]}" "$(awk -v a="$m1" -v b="$m2" 'BEGIN {printf "scaling 1->2 threads: %.2fx", a / b}')"
[ -n "$gnutime" ] || echo "(no GNU /usr/bin/time: peak memory not measured)"

# Findings, once, to a file: a benign corpus should give none.
"$bin" scan "$corpus" --format jsonl -o "$out/findings.jsonl" --threads 2 2>"$out/findings.err" || {
  cat "$out/findings.err" >&2
  exit 1
}
findings=$(wc -l <"$out/findings.jsonl")
summary=$(grep -m 1 'scanned' "$out/findings.err" || true)
[ -n "$summary" ] && echo "$summary"
if [ "$findings" -eq 0 ]; then
  echo "findings: 0"
else
  echo "WARNING: credwatch reported $findings findings on a corpus that holds no credentials" \
    "($out/findings.jsonl); by kind:"
  grep -o '"kind":"[^"]*"' "$out/findings.jsonl" | sort | uniq -c | sort -rn | sed 's/^/  /'
fi
