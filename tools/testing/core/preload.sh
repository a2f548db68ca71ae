#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# preload.sh BUILD_DIR - real programs on the core as their malloc
# (libpympreload.so, preload.c): Python with PYTHONMALLOC=malloc (a
# program in phases, 16 modules of its own test suite from Debian's
# libpython3.11-testsuite, compileall), gcc, sort, awk and git, each run
# on glibc, then with keep_empty_arenas=1
# alone, then with the adaptive kept-arena policy. Outputs must be
# identical to glibc's and pym_core_check() must pass at every exit; the
# figure is the arenas each run obtained per arena of its peak.
set -uo pipefail
dir=$1
lib=$dir/libpympreload.so
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -f "$lib" ] || { echo "preload.sh: $lib not built"; exit 1; }
# Debian's, whose test suite libpython3.11-testsuite installs.
python=/usr/bin/python3.11
[ -x "$python" ] || { echo "preload.sh: $python not installed"; exit 1; }

# A Python program in phases, each building and dropping a large live set.
cat >"$work/phases.py" <<'EOF'
import collections, json, random, re
random.seed(1)
out = []
for phase in range(12):
    objs = [{"k%d" % i: [str(j) * (j % 7) for j in range(i % 13)]}
            for i in range(20000 + 5000 * (phase % 4))]
    s = json.dumps(objs)
    back = json.loads(s)
    words = collections.Counter(re.findall(r"[a-z0-9]+", s[:400000]))
    out.append((len(s), len(back), words.most_common(3)))
    del objs, back, s, words
print(out[-1], len(out))
EOF
# 3,814 tests; their results without the timings, and a fixed hash seed,
# so that what a test prints of a set comes in the same order every run.
cat >"$work/testsuite.sh" <<EOF
cd "$work" && env PYTHONMALLOC=malloc PYTHONHASHSEED=0 $python -m test -v \
	test_list test_dict test_set test_tuple test_unicode test_json test_re \
	test_collections test_itertools test_functools test_deque \
	test_statistics test_decimal test_long test_ast test_pickle 2>&1 |
	grep -E ' \.\.\. |^Ran |^OK|^FAILED' |
	sed -E 's/^(Ran [0-9]+ tests?) in .*/\1/'
EOF
seq 1 300000 | awk '{ print ($1 * 7919) % 100003, "x" $1 }' >"$work/data.txt"
cp -r "$(dirname "$($python -c 'import json; print(json.__file__)')")" "$work/json"

programs=(
	"python-phases|env PYTHONMALLOC=malloc $python $work/phases.py"
	"python-testsuite|bash $work/testsuite.sh"
	"python-compileall|env PYTHONMALLOC=malloc $python -m compileall -q -f $work/json"
	"gcc|gcc -O2 -I$here -I$root/include -c $root/src/core.c -o $work/core.o"
	"sort|sort -n $work/data.txt"
	"awk|awk {c[\$2%1000]++}END{for(k\\ in\\ c)n+=c[k];print\\ n} $work/data.txt"
	"git|git -C $root log --stat -n 200"
)

printf '%-18s %10s %12s %12s %6s\n' program policy served "obtained/peak" check
for entry in "${programs[@]}"; do
	name=${entry%%|*}
	cmd=${entry#*|}
	# The byte-compiled files would differ in their timestamps otherwise.
	rm -rf "$work/json/__pycache__"
	bash -c "$cmd" >"$work/glibc.out" 2>&1
	for policy in fixed adaptive; do
		rm -rf "$work/json/__pycache__" "$work/stats"
		LD_PRELOAD=$lib PYM_KEEP_ADAPTIVE=$([ $policy = adaptive ] && echo 1 || echo 0) \
			PYM_PRELOAD_STATS=$work/stats bash -c "$cmd" >"$work/pym.out" 2>&1
		same=identical
		cmp -s "$work/glibc.out" "$work/pym.out" || same="OUTPUT DIFFERS"
		# The program's own process: the one that served the most.
		sort -k3 -n -r "$work/stats" | head -n 1 |
			awk -v n="$name" -v p="$policy" -v s="$same" \
			'{ printf "%-18s %10s %12d %5d/%-6d %6s %s\n", n, p, $3, $5, $7, $9, s }'
		awk '$9 != "ok" { print "preload.sh: pym_core_check failed in", $1; exit 1 }' \
			"$work/stats" || exit 1
	done
done
