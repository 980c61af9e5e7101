# Shared by the bench scripts (sourced).

# The median of the numbers on stdin, separated by spaces or newlines (for an even count, the
# lower of the two middle ones).
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Runs a command with its output discarded and prints "seconds peak-KiB"; its files in "$out"
# are tagged by subshell, so two timed runs may go at once. A failure shows its stderr and stops.
timed() {
  local tag=$BASHPID
  /usr/bin/time -f "%e %M" -o "$out/time.$tag" "$@" >/dev/null 2>"$out/stderr.$tag" || { cat "$out/stderr.$tag" >&2; exit 1; }
  cat "$out/time.$tag"
}
