# SPDX-License-Identifier: GPL-2.0
"""gdb script for scripts/pathcount.sh: single-step one call of each
function (after skipping the first calls, so caches are warm and the
bench's pair loop is running) and write the instructions it executed.

Reads PYM_PATHCOUNT_FUNCS ("name=address:skip ...") and
PYM_PATHCOUNT_OUT (a directory) from the environment."""
import os

import gdb


def count(addr, skip, limit=5000):
    gdb.execute("delete")
    gdb.execute("hbreak *0x%x" % addr)
    gdb.execute("ignore $bpnum %d" % skip)
    gdb.execute("continue")
    gdb.execute("delete")
    ret = int(gdb.parse_and_eval("*(unsigned long *)$sp")) & (2**64 - 1)
    lines = []
    while len(lines) < limit:
        pc = int(gdb.parse_and_eval("$pc")) & (2**64 - 1)
        if pc == ret:
            break
        lines.append(gdb.execute("x/i 0x%x" % pc, to_string=True).strip())
        gdb.execute("stepi", to_string=True)
    return lines


gdb.execute("set pagination off")
gdb.execute("target remote :1234")
out = os.environ["PYM_PATHCOUNT_OUT"]
for spec in os.environ["PYM_PATHCOUNT_FUNCS"].split():
    name, rest = spec.split("=")
    addr, skip = rest.split(":")
    lines = count(int(addr, 16), int(skip))
    with open(os.path.join(out, name + ".txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("%-20s %5d instructions" % (name, len(lines)))
gdb.execute("kill")
