#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Table and CSV from make bench's runs: OUT SMP...

Reads OUT/smp<N>-wall.txt and OUT/smp<N>-icount.txt ("workload allocator
value" lines) and prints, per workload and allocator, wall ns/op,
instructions/op and pymalloc's ratio to kmalloc for both."""
import sys

out, smps = sys.argv[1], sys.argv[2:]


def load(path):
    rows, head = {}, ''
    try:
        lines = open(path).readlines()
    except FileNotFoundError:  # PYM_BENCH_MODES left this run out
        return rows, head
    for line in lines:
        if line.startswith('#'):
            head = head or line.strip()
            continue
        parts = line.split()
        if len(parts) == 3:
            rows[(parts[0], parts[1])] = float(parts[2])
    return rows, head


with open('%s/results.csv' % out, 'w') as csv, open('%s/pairs.dat' % out, 'w') as dat:
    csv.write('smp,workload,allocator,wall_ns_per_op,instructions_per_op,'
              'wall_ratio_to_kmalloc,instr_ratio_to_kmalloc\n')
    for smp in smps:
        wall, head = load('%s/smp%s-wall.txt' % (out, smp))
        ins, ihead = load('%s/smp%s-icount.txt' % (out, smp))
        head = head or ihead
        print('\n== -smp %s  %s' % (smp, head))
        print('%-26s %-16s %11s %12s %9s %9s' % (
            'workload', 'allocator', 'wall ns/op', 'instr/op', 'wall x', 'instr x'))
        for w, a in list(wall) + [k for k in ins if k not in wall]:
            v = wall.get((w, a), float('nan'))
            i = ins.get((w, a), float('nan'))
            kw, ki = wall.get((w, 'kmalloc')), ins.get((w, 'kmalloc'))
            rw = v / kw if kw and 'bytes' not in w else float('nan')
            ri = i / ki if ki and 'bytes' not in w else float('nan')
            print('%-26s %-16s %11.1f %12.1f %9.2f %9.2f' % (w, a, v, i, rw, ri))
            csv.write('%s,%s,%s,%.2f,%.2f,%.3f,%.3f\n' % (smp, w, a, v, i, rw, ri))
            if w.startswith('pair-') and a == 'pymalloc':
                size = w.split('-')[1]
                dat.write('%s %s %.1f %.1f %.1f %.1f\n' % (
                    smp, size, v, kw or 0, i, ki or 0))
print('\nratios are pymalloc (or the row\'s allocator) / kmalloc: below 1 is better')
print('CSV: %s/results.csv' % out)
