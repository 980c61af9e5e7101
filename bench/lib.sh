# Shared by the bench scripts (sourced): the median of the numbers on stdin, separated by spaces
# or newlines (for an even count, the lower of the two middle ones).
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
