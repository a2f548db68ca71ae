#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge one QEMU test run from its two serial logs.

results.log (ttyS1) holds each suite's TAP/KTAP between PYM-SUITE-BEGIN and
PYM-SUITE-END markers; console.log (ttyS0) holds the kernel log. A run
passes only if every test case passed AND the console shows no kernel
report (BUG, WARNING, KASAN, UBSAN, lockdep, kmemleak, oops, panic, stall),
whatever the tests printed. Appends one row per suite to the TSV given.
"""
import argparse
import re
import sys

TIMESTAMP = re.compile(r'^\[\s*\d+\.\d+\]\s?')
RESULT = re.compile(r'^(\s*)(not ok|ok)\s+(\d+)\s*-?\s*(.*)$')
PLAN = re.compile(r'^1\.\.(\d+)')
BAD = [
    (re.compile(p), what) for p, what in [
        (r'BUG:', 'BUG'),
        (r'kernel BUG at', 'BUG'),
        (r'WARNING:', 'WARNING'),
        (r'KASAN', 'KASAN report'),
        (r'UBSAN', 'UBSAN report'),
        (r'possible (recursive|circular) locking', 'lockdep report'),
        (r'inconsistent lock state', 'lockdep report'),
        (r'suspicious RCU usage', 'lockdep RCU report'),
        (r'kmemleak: \d+ new suspected memory leaks', 'kmemleak report'),
        (r'unreferenced object 0x', 'kmemleak report'),
        (r'Oops', 'oops'),
        (r'general protection fault', 'oops'),
        (r'Kernel panic', 'panic'),
        (r'Call Trace:', 'stack dump'),
        (r'INFO: task .* blocked for more than', 'hung task'),
        (r'rcu: INFO: .* stall', 'RCU stall'),
        (r'soft lockup|hard LOCKUP', 'lockup'),
    ]
]


def read(path):
    try:
        with open(path, errors='replace') as f:
            return [TIMESTAMP.sub('', l.rstrip('\r\n')) for l in f]
    except FileNotFoundError:
        return []


def split_suites(lines):
    suites, cur, done, kmemleak, in_leak = [], None, False, [], False
    for line in lines:
        if line.startswith('PYM-SUITE-BEGIN '):
            cur = {'name': line.split()[1], 'lines': [], 'rc': None}
            suites.append(cur)
        elif line.startswith('PYM-SUITE-END ') and cur:
            m = re.search(r'rc=(\d+)', line)
            cur['rc'] = int(m.group(1)) if m else 1
            cur = None
        elif line == 'PYM-KMEMLEAK-BEGIN':
            in_leak = True
        elif line == 'PYM-KMEMLEAK-END':
            in_leak = False
        elif line == 'PYM-DONE':
            done = True
        elif in_leak:
            kmemleak.append(line)
        elif cur is not None:
            cur['lines'].append(line)
    return suites, done, kmemleak


def judge_suite(s):
    """Count cases. KUnit cases are the indented results; TAP's are not."""
    kunit = s['name'] == 'kunit'
    passed = failed = skipped = 0
    failures = []
    plan = None
    top_seen = 0
    suite_failed = []
    for line in s['lines']:
        m = RESULT.match(line)
        if not m:
            p = PLAN.match(line)
            if p and plan is None and not kunit:
                plan = int(p.group(1))
            continue
        indent, status, _, desc = m.groups()
        skip = re.search(r'#\s*SKIP', desc, re.I) is not None
        is_case = bool(indent) if kunit else not indent
        if not is_case:
            if kunit and status == 'not ok':
                suite_failed.append(desc)
            continue
        top_seen += 1
        if skip:
            skipped += 1
        elif status == 'ok':
            passed += 1
        else:
            failed += 1
            failures.append(desc)
    notes = []
    if kunit and suite_failed and not failed:
        failed += len(suite_failed)
        failures += ['suite ' + d for d in suite_failed]
    if plan is not None and top_seen < plan:
        failed += plan - top_seen
        notes.append('%d planned cases never reported' % (plan - top_seen))
    if s['rc'] is None:
        failed += 1
        notes.append('guest died inside the suite')
    elif s['rc'] != 0 and not failed:
        failed += 1
        notes.append('suite exited with status %d' % s['rc'])
    if passed + failed + skipped == 0:
        notes.append('no test case ran')
    return passed, failed, skipped, failures, notes


EXPECT_BEGIN = 'PYM-EXPECT-REPORT-BEGIN '
EXPECT_END = 'PYM-EXPECT-REPORT-END'
# As EXPECT, but the report may be missing: for warnings the kernel gives
# once per boot (WARN_ONCE), which an earlier test may have used up.
ALLOW_BEGIN = 'PYM-ALLOW-REPORT-BEGIN '
ALLOW_END = 'PYM-ALLOW-REPORT-END'
# The guest's init prints this once booted, before it loads any module.
SUITES_START = 'PYM-SUITES-START'


def console_reports(lines):
    """Kernel reports, except inside windows where a test announced one.

    A test that provokes a report on purpose (a refcount_t warning, say)
    prints PYM-EXPECT-REPORT-BEGIN <text> before and PYM-EXPECT-REPORT-END
    after; reports inside are tolerated if <text> shows up there, and the
    window is itself a failure if it does not."""
    found, window, expect, seen, required = [], None, None, False, True
    for i, line in enumerate(lines):
        for begin in (EXPECT_BEGIN, ALLOW_BEGIN):
            if begin in line:
                window = i
                expect = line.split(begin, 1)[1].strip()
                seen = False
                required = begin == EXPECT_BEGIN
        if window == i:
            continue
        if window is not None and (EXPECT_END in line or ALLOW_END in line):
            if required and not seen:
                found.append((window, 'expected report missing',
                              'announced but not seen: ' + expect))
            window = None
            continue
        if window is not None:
            seen = seen or expect in line
            continue
        for rx, what in BAD:
            if rx.search(line):
                found.append((i, what, line))
                break
    if window is not None:
        found.append((window, 'expected report unterminated', expect))
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--run', required=True)
    ap.add_argument('--console', required=True)
    ap.add_argument('--results', required=True)
    ap.add_argument('--qemu-rc', type=int, default=0)
    ap.add_argument('--tsv', required=True)
    ap.add_argument('--expect', default='', help='suites that must appear')
    ap.add_argument('--boot-retry', action='store_true',
                    help='exit 3, writing nothing, when the only kernel '
                    'reports came before the suites started (a boot flake)')
    ap.add_argument('--note', default='', help='added to the kernel-log row')
    a = ap.parse_args()

    console = read(a.console)
    if a.boot_retry:
        start = next((i for i, l in enumerate(console) if SUITES_START in l),
                     len(console))
        early = [r for r in console_reports(console) if r[0] < start]
        if early and len(early) == len(console_reports(console)):
            for i, what, line in early[:3]:
                print('  BOOT %s: %s before any suite: %s' % (a.run, what, line))
            return 3
    suites, done, kmemleak = split_suites(read(a.results))
    rows = []
    for s in suites:
        p, f, k, failures, notes = judge_suite(s)
        rows.append((s['name'], p, f, k, '; '.join(notes)))
        for name in failures:
            print('  FAIL %s/%s: %s' % (a.run, s['name'], name))
        for n in notes:
            print('  NOTE %s/%s: %s' % (a.run, s['name'], n))
        if f:
            for line in s['lines'][-40:]:
                print('    | ' + line)
    seen = {s['name'] for s in suites}
    for name in a.expect.split():
        if name not in seen:
            rows.append((name, 0, 1, 0, 'suite never started'))
            print('  FAIL %s/%s: never started' % (a.run, name))

    problems = []
    if not done:
        why = {124: 'guest timed out',
               125: 'guest hung while booting, twice'}.get(a.qemu_rc,
                                                         'guest did not finish')
        problems.append(why)
    reports = console_reports(console)
    for i, what, line in reports[:5]:
        print('  REPORT %s: %s: %s' % (a.run, what, line))
        for ctx in console[i + 1:i + 12]:
            print('    | ' + ctx)
    if reports:
        problems.append('%d kernel report lines (%s)' % (
            len(reports), ', '.join(sorted({w for _, w, _ in reports}))))
    if any('unreferenced object' in l for l in kmemleak):
        problems.append('kmemleak found leaks')
        for line in kmemleak[:30]:
            print('    | ' + line)
    if a.note:
        problems = problems and problems + [a.note]
    if problems:
        rows.append(('kernel-log', 0, len(problems) - bool(a.note), 0,
                     '; '.join(problems)))
        print('  FAIL %s/kernel-log: %s' % (a.run, '; '.join(problems)))
        if not done:
            print('  last console lines:')
            for line in console[-30:]:
                print('    | ' + line)
    else:
        rows.append(('kernel-log', 1, 0, 0, a.note or 'clean'))

    with open(a.tsv, 'a') as f:
        for name, p, fl, k, note in rows:
            f.write('%s\t%s\t%d\t%d\t%d\t%s\n' % (a.run, name, p, fl, k, note))
    return 0


if __name__ == '__main__':
    sys.exit(main())
