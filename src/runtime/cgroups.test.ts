import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  cgroupPids,
  detectCgroupLayout,
  parseNetDev,
  readCgroupStats,
  readFreezerState,
  readOomKillCount,
  removeCgroupParents,
  v1ControllerDir,
} from './cgroups.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cgroups-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Writes `--- name` blocks (the format of research/cgroup-v2.md's appendix) into dir. */
function writeTree(dir: string, blocks: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const block of blocks.split(/^--- /m).slice(1)) {
    const nl = block.indexOf('\n');
    fs.writeFileSync(path.join(dir, block.slice(0, nl).trim()), block.slice(nl + 1));
  }
}

// A container's cgroup on a real v2 host (research/cgroup-v2.md, appendix; unused files left out).
const V2_CONTAINER = `--- cgroup.controllers
cpuset cpu io memory hugetlb pids
--- cgroup.events
populated 1
frozen 0
--- cgroup.freeze
0
--- cgroup.procs
4242
4250
--- cpu.max
50000 100000
--- cpu.stat
usage_usec 800826
user_usec 796880
system_usec 3945
nice_usec 0
nr_periods 16
nr_throttled 15
throttled_usec 745460
nr_bursts 0
burst_usec 0
--- io.stat
254:0 rbytes=1048576 wbytes=20971520 rios=12 wios=160 dbytes=0 dios=0
--- memory.current
1765376
--- memory.events
low 0
high 0
max 0
oom 0
oom_kill 0
oom_group_kill 0
--- memory.max
67108864
--- memory.peak
3645440
--- memory.stat
anon 110592
file 0
kernel 331776
kernel_stack 32768
pagetables 90112
percpu 6336
sock 0
shmem 0
inactive_file 4096
--- pids.current
2
--- pids.max
64
`;

const PROC = `--- stat
cpu  1000 20 300 50000 40 0 10 0 0 0
cpu0 500 10 150 25000 20 0 5 0 0 0
cpu1 500 10 150 25000 20 0 5 0 0 0
intr 12345
--- meminfo
MemTotal:        4000000 kB
MemFree:         1000000 kB
`;

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0:    5000      40    1    2    0     0          0         0     3000      30    3    4    0     0       0          0
`;

function procFixture(): string {
  const proc = path.join(tmp, 'proc');
  if (!fs.existsSync(proc)) {
    writeTree(proc, PROC);
    writeTree(path.join(proc, '4242/net'), `--- dev\n${NET_DEV}`);
  }
  return proc;
}

test('v2: layout, stats in Docker shape', async () => {
  const root = path.join(tmp, 'v2');
  writeTree(root, '--- cgroup.controllers\ncpuset cpu io memory hugetlb pids\n');
  writeTree(path.join(root, 'berth/abc'), V2_CONTAINER);
  assert.equal(detectCgroupLayout(root), 'v2');

  const s = await readCgroupStats('/berth/abc', {
    root,
    proc: procFixture(),
    pid: 4242,
    name: '/web',
    id: 'abc',
  });
  assert.equal(s.name, '/web');
  assert.equal(s.id, 'abc');
  assert.equal(s.preread, '0001-01-01T00:00:00Z');
  assert.ok(!Number.isNaN(Date.parse(s.read as string)));
  assert.deepEqual(s.pids_stats, { current: 2, limit: 64 });
  assert.deepEqual(s.cpu_stats, {
    cpu_usage: { total_usage: 800826000, usage_in_kernelmode: 3945000, usage_in_usermode: 796880000 },
    // (1000+20+300+50000+40+0+10) jiffies × 1e9 / 100
    system_cpu_usage: 513700000000,
    online_cpus: 2,
    throttling_data: { periods: 16, throttled_periods: 15, throttled_time: 745460000 },
  });
  const mem = s.memory_stats as Record<string, unknown>;
  assert.equal(mem.usage, 1765376);
  assert.equal(mem.max_usage, 3645440);
  assert.equal(mem.limit, 67108864);
  assert.equal((mem.stats as Record<string, number>).inactive_file, 4096);
  const blkio = s.blkio_stats as Record<string, unknown>;
  assert.deepEqual(blkio.io_service_bytes_recursive, [
    { major: 254, minor: 0, op: 'read', value: 1048576 },
    { major: 254, minor: 0, op: 'write', value: 20971520 },
  ]);
  assert.deepEqual(s.networks, {
    eth0: {
      rx_bytes: 5000,
      rx_packets: 40,
      rx_errors: 1,
      rx_dropped: 2,
      tx_bytes: 3000,
      tx_packets: 30,
      tx_errors: 3,
      tx_dropped: 4,
    },
  });
  // The CLI's JSON decoding needs plain JSON values throughout.
  assert.deepEqual(JSON.parse(JSON.stringify(s)).cpu_stats, s.cpu_stats);

  assert.equal(await readOomKillCount('/berth/abc', root), 0);
  assert.equal(await readFreezerState('/berth/abc', root), 'thawed');
  assert.deepEqual(await cgroupPids('/berth/abc', root), [4242, 4250]);
});

test('v2: unlimited memory reports the host MemTotal; pids max has no limit field', async () => {
  const root = path.join(tmp, 'v2-unlimited');
  writeTree(root, '--- cgroup.controllers\nmemory pids\n');
  writeTree(
    path.join(root, 'berth/x'),
    '--- memory.max\nmax\n--- memory.current\n10\n--- pids.max\nmax\n--- pids.current\n1\n--- cgroup.freeze\n1\n--- memory.events\noom 2\noom_kill 1\n',
  );
  const s = await readCgroupStats('/berth/x', { root, proc: procFixture() });
  assert.equal((s.memory_stats as Record<string, number>).limit, 4000000 * 1024);
  assert.deepEqual(s.pids_stats, { current: 1 });
  assert.equal(s.networks, undefined);
  assert.equal(await readFreezerState('/berth/x', root), 'frozen');
  assert.equal(await readOomKillCount('/berth/x', root), 1);
});

function v1Fixture(name: string, cpuDirs: string[]): string {
  const root = path.join(tmp, name);
  const cg = 'berth/abc';
  for (const d of cpuDirs) fs.mkdirSync(path.join(root, d, cg), { recursive: true });
  const cpuacct = path.join(root, v1ControllerDir(root, 'cpuacct')!.slice(root.length + 1), cg);
  const cpu = path.join(root, v1ControllerDir(root, 'cpu')!.slice(root.length + 1), cg);
  writeTree(
    cpuacct,
    '--- cpuacct.usage\n123456789\n--- cpuacct.usage_percpu\n100000000 23456789 \n--- cpuacct.stat\nuser 10\nsystem 2\n',
  );
  writeTree(cpu, '--- cpu.stat\nnr_periods 5\nnr_throttled 1\nthrottled_time 1000\n');
  writeTree(
    path.join(root, 'memory', cg),
    `--- memory.usage_in_bytes
5000000
--- memory.max_usage_in_bytes
6000000
--- memory.limit_in_bytes
9223372036854771712
--- memory.failcnt
3
--- memory.stat
cache 100
rss 200
total_inactive_file 4096
--- memory.oom_control
oom_kill_disable 0
under_oom 0
oom_kill 2
`,
  );
  writeTree(
    path.join(root, 'pids', cg),
    '--- pids.current\n3\n--- pids.max\nmax\n--- cgroup.procs\n10\n11\n',
  );
  writeTree(
    path.join(root, 'blkio', cg),
    `--- blkio.io_service_bytes_recursive
Total 0
--- blkio.throttle.io_service_bytes
254:0 Read 4096
254:0 Write 8192
254:0 Total 12288
Total 12288
`,
  );
  writeTree(path.join(root, 'freezer', cg), '--- freezer.state\nFROZEN\n');
  return root;
}

for (const [label, dirs] of [
  ['joined cpu,cpuacct', ['cpu,cpuacct']],
  ['separate cpu and cpuacct', ['cpu', 'cpuacct']],
] as const) {
  test(`v1 (${label}): stats in Docker shape`, async () => {
    const root = v1Fixture(`v1-${dirs.length}`, [...dirs]);
    assert.equal(detectCgroupLayout(root), 'v1');
    const s = await readCgroupStats('/berth/abc', { root, proc: procFixture() });
    assert.deepEqual(s.cpu_stats, {
      cpu_usage: {
        total_usage: 123456789,
        usage_in_kernelmode: 20000000,
        usage_in_usermode: 100000000,
        percpu_usage: [100000000, 23456789],
      },
      system_cpu_usage: 513700000000,
      online_cpus: 2,
      throttling_data: { periods: 5, throttled_periods: 1, throttled_time: 1000 },
    });
    assert.deepEqual(s.memory_stats, {
      usage: 5000000,
      max_usage: 6000000,
      failcnt: 3,
      limit: 4000000 * 1024,
      stats: { cache: 100, rss: 200, total_inactive_file: 4096 },
    });
    assert.deepEqual(s.pids_stats, { current: 3 });
    assert.deepEqual((s.blkio_stats as Record<string, unknown>).io_service_bytes_recursive, [
      { major: 254, minor: 0, op: 'Read', value: 4096 },
      { major: 254, minor: 0, op: 'Write', value: 8192 },
      { major: 254, minor: 0, op: 'Total', value: 12288 },
    ]);
    assert.equal(await readOomKillCount('/berth/abc', root), 2);
    assert.equal(await readFreezerState('/berth/abc', root), 'frozen');
    assert.deepEqual(await cgroupPids('/berth/abc', root), [10, 11]);
  });
}

test('removeCgroupParents removes only empty parents, in every hierarchy', async () => {
  const root = path.join(tmp, 'v1-parents');
  fs.mkdirSync(path.join(root, 'memory/berth/still-running'), { recursive: true });
  fs.mkdirSync(path.join(root, 'pids/berth'), { recursive: true });
  fs.mkdirSync(path.join(root, 'cpu'), { recursive: true });
  await removeCgroupParents('/berth', root);
  assert.ok(fs.existsSync(path.join(root, 'memory/berth')));
  assert.ok(!fs.existsSync(path.join(root, 'pids/berth')));
  await assert.rejects(removeCgroupParents('/', root));
  await assert.rejects(removeCgroupParents('/../etc', root));
});

test('parseNetDev skips lo and the headers', () => {
  assert.deepEqual(Object.keys(parseNetDev(NET_DEV)), ['eth0']);
});

test('a real v1 memory cgroup on this host', { skip: detectCgroupLayout() !== 'v1' }, async () => {
  const name = `berth-test-${randomBytes(4).toString('hex')}`;
  const memDir = path.join(v1ControllerDir('/sys/fs/cgroup', 'memory')!, name);
  fs.mkdirSync(memDir);
  try {
    const unlimited = await readCgroupStats(`/${name}`, { id: name });
    const hostMem = Number(/MemTotal:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
    const mem = unlimited.memory_stats as Record<string, unknown>;
    assert.equal(mem.limit, hostMem);
    assert.equal(mem.usage, 0);
    assert.equal(typeof (mem.stats as Record<string, number>).total_inactive_file, 'number');
    assert.ok((unlimited.cpu_stats as { system_cpu_usage: number }).system_cpu_usage > 0);
    assert.equal((unlimited.cpu_stats as { online_cpus: number }).online_cpus, os.cpus().length);

    fs.writeFileSync(path.join(memDir, 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
    const limited = await readCgroupStats(`/${name}`, {});
    assert.equal((limited.memory_stats as Record<string, number>).limit, 64 * 1024 * 1024);
    assert.equal(await readOomKillCount(`/${name}`), 0);
    assert.deepEqual(await cgroupPids(`/${name}`), []);
    assert.equal(await readFreezerState(`/${name}`), 'thawed');
  } finally {
    fs.rmdirSync(memDir);
  }
  assert.ok(!fs.existsSync(memDir));
});
