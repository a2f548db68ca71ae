#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tests of scripts/judge.py, the judge of every guest run: the rules that
decide whether make check is green must themselves be checked. TAP out."""
import os
import subprocess
import sys
import tempfile

JUDGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'judge.py')

RESULTS_OK = """PYM-GUEST kernel=test cpus=2
PYM-SUITE-BEGIN kselftest
TAP version 13
1..1
ok 1 pym.something
PYM-SUITE-END kselftest rc=0
PYM-DONE
"""

BOOT = ['[    0.100000] Linux version 6.12', '[    1.000000] Run /init']
START = ['[    2.000000] PYM-SUITES-START']
WARN = ['[    %s] WARNING: CPU: 0 PID: 1 at somewhere', '[    %s] Call Trace:']


def warn(at):
    return [l % at for l in WARN]


def judge(console, extra=(), results=RESULTS_OK):
    """Run the judge; return (exit code, TSV rows as lists)."""
    with tempfile.TemporaryDirectory() as d:
        paths = {n: os.path.join(d, n) for n in ('console', 'results', 'tsv')}
        with open(paths['console'], 'w') as f:
            f.write('\n'.join(console) + '\n')
        with open(paths['results'], 'w') as f:
            f.write(results)
        open(paths['tsv'], 'w').close()
        rc = subprocess.run(
            [sys.executable, JUDGE, '--run', 't', '--console', paths['console'],
             '--results', paths['results'], '--tsv', paths['tsv'],
             '--expect', 'kselftest'] + list(extra),
            stdout=subprocess.DEVNULL).returncode
        with open(paths['tsv']) as f:
            rows = [l.rstrip('\n').split('\t') for l in f if l.strip()]
    return rc, rows


def failed(rows):
    return sum(int(r[3]) for r in rows)


def kernel_log(rows):
    return next(r for r in rows if r[1] == 'kernel-log')


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


@case
def clean_run_passes():
    rc, rows = judge(BOOT + START)
    return rc == 0 and failed(rows) == 0 and kernel_log(rows)[5] == 'clean'


@case
def report_after_start_fails():
    rc, rows = judge(BOOT + START + warn('3.000000'), ['--boot-retry'])
    return rc == 0 and failed(rows) > 0


@case
def report_only_before_start_asks_for_a_boot_retry():
    rc, rows = judge(BOOT + warn('0.500000') + START, ['--boot-retry'])
    return rc == 3 and rows == []


@case
def report_before_and_after_start_fails_without_retry():
    rc, rows = judge(BOOT + warn('0.500000') + START + warn('3.000000'),
                     ['--boot-retry'])
    return rc == 0 and failed(rows) > 0


@case
def report_before_start_without_retry_flag_fails():
    rc, rows = judge(BOOT + warn('0.500000') + START)
    return rc == 0 and failed(rows) > 0


@case
def retried_boot_is_noted_in_the_table():
    rc, rows = judge(BOOT + START, ['--note', 'boot retried'])
    return failed(rows) == 0 and kernel_log(rows)[5] == 'boot retried'


@case
def expected_report_tolerated_and_required():
    window = ['[    3.0] PYM-EXPECT-REPORT-BEGIN refcount_t: underflow',
              '[    3.1] WARNING: refcount_t: underflow; use-after-free.',
              '[    3.2] Call Trace:', '[    3.3] PYM-EXPECT-REPORT-END']
    ok = failed(judge(BOOT + START + window)[1]) == 0
    missing = ['[    3.0] PYM-EXPECT-REPORT-BEGIN refcount_t: underflow',
               '[    3.3] PYM-EXPECT-REPORT-END']
    return ok and failed(judge(BOOT + START + missing)[1]) > 0


@case
def allowed_report_tolerated_not_required():
    window = ['[    3.0] PYM-ALLOW-REPORT-BEGIN refcount_t: underflow',
              '[    3.1] WARNING: refcount_t: underflow; use-after-free.',
              '[    3.3] PYM-ALLOW-REPORT-END']
    missing = [window[0], window[2]]
    after = warn('4.0')
    return (failed(judge(BOOT + START + window)[1]) == 0 and
            failed(judge(BOOT + START + missing)[1]) == 0 and
            failed(judge(BOOT + START + missing + after)[1]) > 0)


@case
def failed_test_fails_the_suite():
    results = RESULTS_OK.replace('ok 1 pym.something', 'not ok 1 pym.something')
    return failed(judge(BOOT + START, results=results)[1]) > 0


def main():
    print('TAP version 13')
    print('1..%d' % len(CASES))
    bad = 0
    for i, fn in enumerate(CASES, 1):
        ok = fn()
        bad += not ok
        print('%s %d %s' % ('ok' if ok else 'not ok', i, fn.__name__))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
