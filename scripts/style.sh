#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# style.sh TOOLS - the coding-style gate, as TAP: checkpatch --strict on
# every C file, kernel-doc on the exported API (every EXPORT_SYMBOL_GPL
# needs a kernel-doc comment that kernel-doc accepts without warnings), and
# a modinfo description for every module parameter.
# TOOLS is a kernel tree, or the tools lib.sh's pym_kernel_tools() extracts.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

tools=$1
cd "$PYM_ROOT"
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null || find src include tests selftests samples tools -name '*.[ch]')
for tool in checkpatch.pl kernel-doc spelling.txt; do
	[ -f "$tools/scripts/$tool" ] || die "style: no $tools/scripts/$tool"
done
echo "TAP version 13"
echo "1..3"
out=$(perl "$tools/scripts/checkpatch.pl" --strict --no-tree --terse --show-types -f $files 2>&1 |
	grep -E 'ERROR|WARNING|CHECK')
if [ -z "$out" ]; then
	echo "ok 1 checkpatch --strict"
else
	echo "$out" | sed 's/^/# /'
	echo "not ok 1 checkpatch --strict"
fi
exported=$(grep -ho 'EXPORT_SYMBOL_GPL([a-z_]*)' src/*.c | sed 's/.*(\(.*\))/\1/' | sort)
documented=$(perl "$tools/scripts/kernel-doc" -rst src/*.c 2>/dev/null |
	sed -n 's/^\.\. c:function:: [^(]*[ *]\([a-z_][a-z_0-9]*\) (.*/\1/p' | sort)
warnings=$(perl "$tools/scripts/kernel-doc" -none -Wall src/*.c include/*.h 2>&1 |
	grep -v -e 'Sphinx version' -e 'no structured comments found')
missing=$(comm -23 <(echo "$exported") <(echo "$documented"))
if [ -z "$missing" ] && [ -z "$warnings" ]; then
	echo "ok 2 kernel-doc on $(echo "$exported" | wc -w) exported symbols"
else
	[ -n "$missing" ] && echo "# undocumented exports: $missing"
	[ -n "$warnings" ] && echo "$warnings" | sed 's/^/# /'
	echo "not ok 2 kernel-doc on exported symbols"
fi
params=$(grep -ho 'module_param[a-z_]*([a-z_0-9]*' $files | sed 's/.*(//' | sort -u)
described=$(grep -ho 'MODULE_PARM_DESC([a-z_0-9]*' $files | sed 's/.*(//' | sort -u)
undescribed=$(comm -23 <(echo "$params") <(echo "$described"))
if [ -n "$params" ] && [ -z "$undescribed" ]; then
	echo "ok 3 MODULE_PARM_DESC for $(echo "$params" | wc -w) module parameters"
else
	echo "# module parameters without MODULE_PARM_DESC: ${undescribed:-none found}"
	echo "not ok 3 MODULE_PARM_DESC for every module parameter"
fi
