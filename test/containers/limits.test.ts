// Resource limits that act, not only get written: memory (OOM), CPU shares, block IO, pids.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { docker } from '../harness.js';
import { inspect, ok, runRemoved, sleep, useBusyboxDaemon } from './helpers.js';

const d = useBusyboxDaemon();

test('allocating past -m 200m --memory-swap 300m is OOM-killed and inspect says so', () => {
  const r = docker(d, [
    'run',
    '--name',
    'oom',
    '--network',
    'none',
    '-m',
    '200m',
    '--memory-swap',
    '300m',
    'busybox',
    'dd',
    'if=/dev/zero',
    'of=/dev/null',
    'bs=400M',
    'count=1',
  ]);
  assert.equal(r.code, 137);
  const c = inspect(d, 'oom');
  assert.equal(c.State.OOMKilled, true);
  assert.equal(c.State.ExitCode, 137);
  assert.equal(c.HostConfig.Memory, 200 * 1024 * 1024);
  assert.equal(c.HostConfig.MemorySwap, 300 * 1024 * 1024);
  ok(d, ['rm', 'oom']);
});

test('-m alone defaults the swap limit to twice the memory', () => {
  const id = ok(d, ['create', '--network', 'none', '-m', '64m', 'busybox', 'true']);
  assert.equal(inspect(d, id).HostConfig.MemorySwap, 128 * 1024 * 1024);
  ok(d, ['rm', id]);
});

test('two busy containers on one CPU with shares 1024 and 512 get about 2:1', async () => {
  const busy = (shares: string) =>
    ok(d, [
      'run',
      '-d',
      '--network',
      'none',
      '--cpuset-cpus',
      '0',
      '--cpu-shares',
      shares,
      'busybox',
      'sh',
      '-c',
      'while :; do :; done',
    ]);
  const a = busy('1024');
  const b = busy('512');
  try {
    const usage = (id: string) =>
      Number(fs.readFileSync(`/sys/fs/cgroup/cpuacct${d.cgroupParent}/${id}/cpuacct.usage`, 'utf8'));
    await sleep(500);
    const a0 = usage(a);
    const b0 = usage(b);
    await sleep(3000);
    const ratio = (usage(a) - a0) / (usage(b) - b0);
    assert.ok(ratio > 1.5 && ratio < 2.7, `CPU ratio ${ratio.toFixed(2)} is not about 2:1`);
  } finally {
    ok(d, ['rm', '-f', a, b]);
  }
});

test('--device-write-bps /dev/vda:30mb holds direct writes near 30 MB/s', () => {
  // The container's writable layer is on the root disk (vda) here; O_DIRECT bypasses the page cache.
  const r = runRemoved(d, [
    '--device-write-bps',
    '/dev/vda:30mb',
    'busybox',
    'sh',
    '-c',
    'cut -d" " -f1 /proc/uptime; dd if=/dev/zero of=/f bs=1M count=90 oflag=direct 2>/dev/null; cut -d" " -f1 /proc/uptime',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const [t0, t1] = r.stdout.trim().split('\n').map(Number);
  const mbPerSec = 90 / (t1! - t0!);
  assert.ok(mbPerSec > 20 && mbPerSec < 40, `wrote at ${mbPerSec.toFixed(1)} MB/s`);
});

test('--pids-limit stops forks past the limit', () => {
  const r = runRemoved(d, [
    '--pids-limit',
    '8',
    'busybox',
    'sh',
    '-c',
    'for i in $(seq 1 20); do sleep 2 & done; wait',
  ]);
  assert.match(r.stderr, /can't fork/);
});
