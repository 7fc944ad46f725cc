#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Time and peak memory of `portcullis generate` (nft, iptables, ip6tables
and pf in one run, lint on) on one shape of gen_shapes.py at several sizes,
and the growth from each size to the next. Not a test: it asserts nothing.

  bench_growth.py PORTCULLIS SHAPE SIZE [SIZE...]
      SHAPE capirca: SIZE is the number of terms (rules);
      SHAPE realworld: SIZE is the number of blocklist entries.

Each size: the median wall and CPU time of RUNS runs (default 3), the
largest peak resident set size (wait4's ru_maxrss) of those runs, the
bytes of peak memory per rule or entry, and the phases of one more run
with PORTCULLIS_TIMING=1. Output goes to a temporary directory (TMPDIR;
/dev/shm keeps `-o`'s fsyncs off the disk). SEED (default 1) seeds the
generator.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, env, tmp):
    """(wall s, cpu s, peak KB, stderr) of one run of cmd. The peak comes
    from /usr/bin/time: a child forked from this Python process would count
    Python's own resident pages before its exec in its ru_maxrss."""
    peakfile = os.path.join(tmp, 'peak')
    t0 = time.perf_counter()
    p = subprocess.Popen(['/usr/bin/time', '-f', '%M', '-o', peakfile] + cmd,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    t1 = time.perf_counter()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write('FAIL (exit %d): %s\n%s' % (code, ' '.join(cmd),
                                                    err.decode()[-2000:]))
        sys.exit(1)
    with open(peakfile) as f:
        peak = int(f.read().split()[-1])
    return t1 - t0, ru.ru_utime + ru.ru_stime, peak, err.decode()


def main():
    if len(sys.argv) < 4 or sys.argv[2] not in ('capirca', 'realworld'):
        sys.stderr.write('usage: bench_growth.py PORTCULLIS capirca|realworld SIZE [SIZE...]\n')
        return 2
    prog = os.path.abspath(sys.argv[1])
    shape = sys.argv[2]
    sizes = [int(s) for s in sys.argv[3:]]
    runs = int(os.environ.get('RUNS', '3'))
    seed = os.environ.get('SEED', '1')
    env = dict(os.environ)
    env.setdefault('PORTCULLIS_DATADIR', os.path.join(HERE, '..', 'data'))
    tmp = tempfile.mkdtemp()
    rows = []
    try:
        for n in sizes:
            out = os.path.join(tmp, str(n))
            if shape == 'capirca':
                gen = ['capirca', '--terms', str(n)]
                policy = os.path.join(out, 'capirca.policy')
            else:
                gen = ['realworld', '--blocklist', str(n)]
                policy = os.path.join(out, 'realworld.policy')
            subprocess.run([sys.executable, os.path.join(HERE, 'gen_shapes.py')] + gen +
                           ['--seed', seed, out], check=True)
            cmd = [prog, 'generate']
            for b, ext in (('nft', 'nft'), ('iptables', 'v4'), ('ip6tables', 'v6'), ('pf', 'pf')):
                cmd += ['-b', b, '-o', os.path.join(out, 'out.' + ext)]
            cmd.append(policy)
            results = [run(cmd, env, tmp) for _ in range(runs)]
            wall = statistics.median(r[0] for r in results)
            cpu = statistics.median(r[1] for r in results)
            peak = max(r[2] for r in results)
            tenv = dict(env, PORTCULLIS_TIMING='1')
            phases = re.findall(r'timing: (.*?)\s+([0-9.]+) ms', run(cmd, tenv, tmp)[3])
            size = os.path.getsize(policy)
            lines = sum(1 for name in os.listdir(out) if name.startswith('out.')
                        for _ in open(os.path.join(out, name)))
            rows.append((n, wall, cpu, peak, size, lines, phases))
            shutil.rmtree(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    unit, one = ('rules', 'rule') if shape == 'capirca' else ('entries', 'entry')
    print('shape %s (seed %s), %d runs per size, load average %s' %
          (shape, seed, runs, ' '.join(open('/proc/loadavg').read().split()[:3])))
    print('%9s %9s %9s %11s %10s %10s %11s' % (unit, 'wall ms', 'cpu ms', 'peak MB',
                                                'B/' + one, 'policy KB', 'out lines'))
    for n, wall, cpu, peak, size, lines, phases in rows:
        print('%9d %9.1f %9.1f %11.1f %10.0f %10.0f %11d' %
              (n, wall * 1e3, cpu * 1e3, peak / 1024, peak * 1024 / n, size / 1024, lines))
    for n, *_, phases in rows:
        print('phases at %d (ms): %s' % (n, ', '.join('%s %s' % p for p in phases)))
    for a, b in zip(rows, rows[1:]):
        print('growth %d -> %d %s (%.1fx): %.1fx wall, %.1fx cpu, %.1fx peak memory' %
              (a[0], b[0], unit, b[0] / a[0], b[1] / a[1], b[2] / a[2], b[3] / a[3]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
