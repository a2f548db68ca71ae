#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tables from make bench's results: OUT SMP... [--doc PATH]

Reads OUT/smp<N>-wall.txt and OUT/smp<N>-icount.txt ("workload allocator
value" lines, a "# kernel ..." head), prints per workload and allocator the
wall ns/op, instructions/op and ratios to kmalloc, and writes
OUT/results.csv and OUT/pairs.dat. With --doc, also writes the figures file
(Documentation/figures.md) from those results and from the user-space
outputs OUT/user.txt, OUT/icount.txt and OUT/memory.txt."""
import datetime
import os
import platform
import subprocess
import sys

args = sys.argv[1:]
doc = None
if '--doc' in args:
    i = args.index('--doc')
    doc = args[i + 1]
    del args[i:i + 2]
out, smps = args[0], args[1:]


def load(path):
    rows, head = {}, ''
    try:
        lines = open(path).readlines()
    except FileNotFoundError:  # PYM_BENCH_MODES left this run out
        return rows, head
    for line in lines:
        if line.startswith('#'):
            head = head or line.lstrip('# ').strip()
            continue
        parts = line.split()
        if len(parts) == 3:
            rows[(parts[0], parts[1])] = float(parts[2])
    return rows, head


def ratio(v, k, w):
    return v / k if k and 'bytes' not in w else float('nan')


runs = {}
with open('%s/results.csv' % out, 'w') as csv, open('%s/pairs.dat' % out, 'w') as dat:
    csv.write('smp,workload,allocator,wall_ns_per_op,instructions_per_op,'
              'wall_ratio_to_kmalloc,instr_ratio_to_kmalloc\n')
    for smp in smps:
        wall, head = load('%s/smp%s-wall.txt' % (out, smp))
        ins, ihead = load('%s/smp%s-icount.txt' % (out, smp))
        head = head or ihead
        keys = list(wall) + [k for k in ins if k not in wall]
        runs[smp] = (wall, ins, head, keys)
        print('\n== -smp %s  %s' % (smp, head))
        print('%-26s %-16s %11s %12s %9s %9s' % (
            'workload', 'allocator', 'wall ns/op', 'instr/op', 'wall x', 'instr x'))
        for w, a in keys:
            v = wall.get((w, a), float('nan'))
            i = ins.get((w, a), float('nan'))
            kw, ki = wall.get((w, 'kmalloc')), ins.get((w, 'kmalloc'))
            rw, ri = ratio(v, kw, w), ratio(i, ki, w)
            print('%-26s %-16s %11.1f %12.1f %9.2f %9.2f' % (w, a, v, i, rw, ri))
            csv.write('%s,%s,%s,%.2f,%.2f,%.3f,%.3f\n' % (smp, w, a, v, i, rw, ri))
            if w.startswith('pair-') and a == 'pymalloc':
                size = w.split('-')[1]
                dat.write('%s %s %.1f %.1f %.1f %.1f\n' % (
                    smp, size, v, kw or 0, i, ki or 0))
print('\nratios are pymalloc (or the row\'s allocator) / kmalloc: below 1 is better')
print('CSV: %s/results.csv' % out)


def cell(v, r):
    if v != v:  # NaN: not measured in this configuration
        return ''
    s = '{:.1f}'.format(v) if v < 1000 else '{:,.0f}'.format(v)
    return s + (' (%.2f)' % r if r == r else '')


def first_line(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return 'unknown'


def machine():
    model = 'unknown CPU'
    for line in open('/proc/cpuinfo'):
        if line.startswith('model name'):
            model = line.split(':', 1)[1].strip()
            break
    mem = 0
    for line in open('/proc/meminfo'):
        if line.startswith('MemTotal'):
            mem = int(line.split()[1]) // (1024 * 1024)
    return '%s, %d CPUs, %d GiB, %s %s' % (model, os.cpu_count(), mem,
                                          platform.system(), platform.release())


def verbatim(path):
    try:
        text = open(path).read().rstrip()
    except FileNotFoundError:
        return '(not measured in this run)\n'
    return '```\n%s\n```\n' % text


def write_doc(path):
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    o = []
    o.append('# pymalloc figures\n')
    o.append('Written by `make bench` (scripts/bench_report.py) from its own results; '
             'run it again rather than editing this file. Why the figures are what '
             'they are: [pymalloc.rst](pymalloc.rst).\n')
    o.append('- Measured: %s' % now)
    o.append('- Machine: %s' % machine())
    o.append('- QEMU: %s, TCG (no KVM), 4 GiB guests; wall time from the emulated '
             'clock, instructions from a second boot under `-icount shift=0,sleep=off`'
             % first_line(['qemu-system-x86_64', '--version']))
    for smp in smps:
        o.append('- Guest at `-smp %s`: %s' % (smp, runs[smp][2] or 'no results'))
    o.append('')
    o.append('## In the kernel: pymalloc against kmalloc\n')
    o.append('bench/pym_bench.c, best of five rounds of 100,000 operations for '
             'single-CPU workloads. In parentheses: the ratio to kmalloc in the '
             'same boot, below 1 is better. Wall time under TCG moves by tens of '
             'percent from run to run; instruction counts are reproducible. '
             'The -bytes rows are memory at the peak: kmalloc\'s slab growth '
             '(shared with the rest of the kernel, so it moves by up to megabytes), '
             'its bytes_alloc, and pymalloc\'s arenas, descriptors and the '
             'bytes_alloc of its requests above 512 bytes, from its own figures.\n')
    hdr = '| workload | allocator |'
    sep = '|---|---|'
    for smp in smps:
        hdr += ' -smp %s ns | -smp %s instructions |' % (smp, smp)
        sep += '---|---|'
    o.append(hdr)
    o.append(sep)
    keys = []
    for smp in smps:
        keys += [k for k in runs[smp][3] if k not in keys]
    for w, a in keys:
        row = '| %s | %s |' % (w, a)
        for smp in smps:
            wall, ins = runs[smp][0], runs[smp][1]
            v, i = wall.get((w, a), float('nan')), ins.get((w, a), float('nan'))
            row += ' %s | %s |' % (cell(v, ratio(v, wall.get((w, 'kmalloc')), w)),
                                   cell(i, ratio(i, ins.get((w, 'kmalloc')), w)))
        o.append(row)
    o.append('')
    z0, _ = load('%s/init-on-alloc-0.txt' % out)
    if z0 and '1' in runs:
        z1 = runs['1'][1]
        o.append('## Pairs with and without init_on_alloc\n')
        o.append('Instructions per alloc+free pair at `-smp 1` under `-icount`: Debian\'s '
                 'default `init_on_alloc=1` (the table above) and `init_on_alloc=0`. In '
                 'parentheses: the ratio to kmalloc in the same boot.\n')
        o.append('| workload | kmalloc, =1 | pymalloc, =1 | kmalloc, =0 | pymalloc, =0 |')
        o.append('|---|---|---|---|---|')
        for (w, a), v in z0.items():
            if a != 'pymalloc' or not w.startswith('pair-') or w.count('-') != 1:
                continue
            k0, k1 = z0.get((w, 'kmalloc')), z1.get((w, 'kmalloc'))
            p1 = z1.get((w, 'pymalloc'))
            if not (k0 and k1 and p1):
                continue
            o.append('| %s | %.1f | %.1f (%.2f) | %.1f | %.1f (%.2f) |'
                     % (w, k1, p1, p1 / k1, k0, v, v / k0))
        o.append('')
    off, _ = load('%s/sampling-off.txt' % out)
    on, _ = load('%s/sampling-on.txt' % out)
    if off and on:
        o.append('## The cost of sampling call sites\n')
        o.append('The same short run (`pym_bench.quick=1`) at `-smp 1` under `-icount`, '
                 'with `sample_interval` 0 (off, the default) and 4096. Off, sampling and '
                 'the tracepoints are one patched-out jump on allocation and one on free.\n')
        o.append('| workload | allocator | off, instructions | on, instructions | on / off |')
        o.append('|---|---|---|---|---|')
        for (w, a), v in off.items():
            if a != 'pymalloc' or (w, a) not in on:
                continue
            o.append('| %s | %s | %.1f | %.1f | %.3f |' % (w, a, v, on[(w, a)], on[(w, a)] / v))
        o.append('')
    o.append('## User space: the same core and magazines against user-space allocators\n')
    o.append('tools/testing/core/ubench.sh: "pymalloc" is a magazine and depot in front '
             'of the core, as one CPU of a kernel heap runs them; "pym-core" the core '
             'alone. Instructions per operation from callgrind, then wall ns.\n')
    o.append(verbatim('%s/user.txt' % out))
    o.append('## User space: instructions of the core and the object layer\n')
    o.append('tools/testing/core/icount.sh (callgrind): "unchecked" is the core built '
             'without its always-on bad-free checks, which the module always has.\n')
    o.append(verbatim('%s/icount.txt' % out))
    o.append('## Memory held at the peak of a replayed kmalloc trace\n')
    o.append('tools/testing/core/replay.c on the kmalloc trace of a Debian 6.12 boot '
             '(tools/testing/core/data/), and on uniform random sizes; pymalloc\'s '
             'figure is the arenas it holds plus their descriptors.\n')
    o.append(verbatim('%s/memory.txt' % out))
    with open(path, 'w') as f:
        f.write('\n'.join(o).rstrip() + '\n')
    print('figures: %s' % path)


if doc:
    write_doc(doc)
