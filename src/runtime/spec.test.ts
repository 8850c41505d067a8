import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { EngineError } from '../util/errors.js';
import { capabilityMask, hostCapabilities } from './capabilities.js';
import type { SpecInput } from './runtime.js';
import { defaultSeccomp } from './seccomp-profile.js';
import { buildSpec, type HostFacts, splitDev } from './spec.js';
import { specInput } from './spec-input.fixture.js';

const V1: HostFacts = { nofileHard: 20000, cgroupLayout: 'v1', swapLimit: true, blkioWeight: false };
const V2: HostFacts = { nofileHard: 1048576, cgroupLayout: 'v2', swapLimit: true, blkioWeight: true };

function input(over: Partial<SpecInput> = {}): SpecInput {
  return specInput({
    id: 'abc',
    rootfs: '/var/lib/berth/abc/merged',
    cgroupsPath: '/berth/abc',
    args: ['sh', '-c', 'echo hi'],
    hostname: 'abc',
    ...over,
  });
}

// The spec is plain JSON; these views keep the assertions short.
// biome-ignore lint/suspicious/noExplicitAny: test-only view of a JSON document
type Obj = Record<string, any>;
const view = (s: unknown) => JSON.parse(JSON.stringify(s)) as Obj;
const is400 = (re: RegExp) => (e: unknown) =>
  e instanceof EngineError && e.status === 400 && re.test(e.message);

test('defaults: Docker caps, masked paths, namespaces, mounts, rlimits', () => {
  const s = view(buildSpec(input(), V1));
  assert.equal(s.ociVersion, '1.0.2-dev');
  assert.deepEqual(s.root, { path: '/var/lib/berth/abc/merged', readonly: false });
  const caps = s.process.capabilities;
  assert.equal(capabilityMask(caps.bounding), '00000000a80425fb');
  assert.deepEqual(caps.effective, caps.bounding);
  assert.deepEqual(caps.permitted, caps.bounding);
  assert.equal(caps.inheritable, undefined);
  assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 20000 }]);
  assert.ok(s.linux.maskedPaths.includes('/proc/kcore'));
  assert.ok(s.linux.maskedPaths.includes('/sys/devices/virtual/powercap'));
  assert.deepEqual(s.linux.readonlyPaths, [
    '/proc/bus',
    '/proc/fs',
    '/proc/irq',
    '/proc/sys',
    '/proc/sysrq-trigger',
  ]);
  assert.deepEqual(
    s.linux.namespaces.map((n: Obj) => n.type),
    ['pid', 'ipc', 'uts', 'mount', 'network'],
  );
  assert.deepEqual(
    s.mounts.map((m: Obj) => m.destination),
    ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm'],
  );
  const sys = s.mounts.find((m: Obj) => m.destination === '/sys');
  assert.ok(sys.options.includes('ro'));
  const shm = s.mounts.find((m: Obj) => m.destination === '/dev/shm');
  assert.ok(shm.options.includes(`size=${64 * 1024 * 1024}`));
  assert.equal(s.linux.seccomp.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(s.linux.cgroupsPath, '/berth/abc');
  assert.equal(s.process.noNewPrivileges, false);
});

test('device cgroup denies all, then allows Docker’s defaults', () => {
  const rules = view(buildSpec(input(), V1)).linux.resources.devices as Obj[];
  assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
  const allowed = rules
    .filter((r) => r.allow)
    .map((r) => `${r.type} ${r.major ?? '*'}:${r.minor ?? '*'} ${r.access}`);
  for (const want of [
    'c *:* m',
    'b *:* m',
    'c 1:3 rwm',
    'c 1:5 rwm',
    'c 1:7 rwm',
    'c 1:8 rwm',
    'c 1:9 rwm',
    'c 5:0 rwm',
    'c 5:1 rwm',
    'c 5:2 rwm',
    'c 136:* rwm',
  ]) {
    assert.ok(allowed.includes(want), want);
  }
});

test('a non-root user gets only the bounding set (like execve)', () => {
  const caps = view(buildSpec(input({ uid: 1000, gid: 1000, additionalGids: [1000, 10] }), V1)).process;
  assert.deepEqual(caps.user, { uid: 1000, gid: 1000, additionalGids: [1000, 10] });
  assert.deepEqual(Object.keys(caps.capabilities), ['bounding']);
});

test('cap-add unlocks the matching seccomp group', () => {
  const names = (s: Obj) =>
    s.linux.seccomp.syscalls.flatMap((r: Obj) => (r.action === 'SCMP_ACT_ALLOW' ? r.names : []));
  const plain = view(buildSpec(input(), V1));
  assert.ok(!names(plain).includes('mount'));
  assert.ok(!names(plain).includes('kcmp'));
  const admin = view(buildSpec(input({ capAdd: ['SYS_ADMIN', 'sys_time'] }), V1));
  assert.ok(names(admin).includes('mount'));
  assert.ok(names(admin).includes('unshare'));
  assert.ok(names(admin).includes('clock_settime'));
  assert.ok(admin.process.capabilities.bounding.includes('CAP_SYS_ADMIN'));
  assert.throws(
    () => buildSpec(input({ capAdd: ['CAP_FOO'] }), V1),
    is400(/^unknown capability: "CAP_FOO"$/),
  );
  assert.throws(
    () => buildSpec(input({ capDrop: ['bogus'] }), V1),
    is400(/^unknown capability: "CAP_BOGUS"$/),
  );
});

test('seccomp: clone namespace filter and clone3 ENOSYS only without CAP_SYS_ADMIN', () => {
  const host = { arch: 'x64', kernel: '6.1.0' };
  const plain = defaultSeccomp(['CAP_CHOWN'], host);
  assert.deepEqual(plain.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.equal(plain.defaultErrnoRet, 1);
  const clone = plain.syscalls.find((r) => r.names.includes('clone'));
  assert.deepEqual(clone?.args, [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  assert.deepEqual(
    plain.syscalls.find((r) => r.names.includes('clone3')),
    {
      names: ['clone3'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 38,
    },
  );
  assert.ok(plain.syscalls.some((r) => r.names.includes('arch_prctl')));
  const admin = defaultSeccomp(['CAP_SYS_ADMIN'], host);
  assert.ok(admin.syscalls.every((r) => !(r.names.includes('clone') && r.args)));
  assert.ok(admin.syscalls.every((r) => r.action === 'SCMP_ACT_ALLOW'));
  const arm = defaultSeccomp([], { arch: 'arm64', kernel: '5.10' });
  assert.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.ok(!arm.syscalls.some((r) => r.names.includes('arch_prctl')));
  assert.ok(arm.syscalls.some((r) => r.names.includes('set_tls')));
  const old = defaultSeccomp([], { arch: 'x64', kernel: '4.4.0' });
  assert.ok(!old.syscalls.some((r) => r.names.includes('ptrace')));
});

test('seccomp: x32 is compiled in unless the kernel refuses x32 calls', () => {
  const arches = (x32?: boolean) => defaultSeccomp([], { arch: 'x64', kernel: '6.1.0', x32 }).architectures;
  assert.deepEqual(arches(false), ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
  assert.deepEqual(arches(true), ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(arches(undefined), ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
});

test('privileged lifts the restrictions', () => {
  const s = view(buildSpec(input({ privileged: true, capDrop: ['ALL'] }), V1));
  assert.deepEqual(s.process.capabilities.bounding, hostCapabilities());
  assert.equal(s.linux.seccomp, undefined);
  assert.equal(s.linux.maskedPaths, undefined);
  assert.equal(s.linux.readonlyPaths, undefined);
  assert.ok(s.mounts.find((m: Obj) => m.destination === '/sys').options.includes('rw'));
  assert.ok(s.mounts.find((m: Obj) => m.destination === '/sys/fs/cgroup').options.includes('rw'));
  assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(s.linux.devices.some((d: Obj) => d.path === '/dev/null' && d.major === 1 && d.minor === 3));
  assert.ok(!s.linux.devices.some((d: Obj) => d.path.startsWith('/dev/pts/') || d.path === '/dev/console'));
});

test('seccomp unconfined drops only the seccomp filter', () => {
  const s = view(buildSpec(input({ seccomp: 'unconfined' }), V1));
  assert.equal(s.linux.seccomp, undefined);
  assert.ok(s.linux.maskedPaths.length > 0);
});

test('namespaces: new by default, joined by path, left out for the host’s; /dev/shm follows ipc', () => {
  const kinds = (spec: Obj) =>
    spec.linux.namespaces.map((n: Obj) => (n.path ? `${n.type}=${n.path}` : n.type));
  assert.deepEqual(kinds(view(buildSpec(input(), V1))), ['pid', 'ipc', 'uts', 'mount', 'network']);
  const joined = view(
    buildSpec(input({ netns: '/run/netns/x', ipcns: '/proc/42/ns/ipc', pidns: '/proc/42/ns/pid' }), V1),
  );
  assert.deepEqual(kinds(joined), [
    'pid=/proc/42/ns/pid',
    'ipc=/proc/42/ns/ipc',
    'uts',
    'mount',
    'network=/run/netns/x',
  ]);
  const host = view(buildSpec(input({ netns: 'host', pidns: 'host', ipcns: 'host', utsHost: true }), V1));
  assert.deepEqual(kinds(host), ['mount']);
  assert.equal(host.hostname, undefined, 'runc refuses a hostname without its own UTS namespace');
  assert.equal(view(buildSpec(input(), V1)).hostname, input().hostname);
  const v2 = view(buildSpec(input(), V2)).linux.namespaces;
  assert.ok(v2.some((n: Obj) => n.type === 'cgroup'));

  const shm = (spec: Obj) => spec.mounts.filter((m: Obj) => m.destination === '/dev/shm');
  assert.equal(shm(view(buildSpec(input(), V1)))[0].type, 'tmpfs');
  assert.deepEqual(shm(view(buildSpec(input({ shm: 'none' }), V1))), []);
  assert.deepEqual(shm(view(buildSpec(input({ shm: { bind: '/dev/shm' } }), V1))), [
    { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] },
  ]);
});

test('memory: swap defaults to twice the limit, -1 is unlimited, unsupported swap is dropped', () => {
  const mem = (r: SpecInput['resources'], h = V1) =>
    view(buildSpec(input({ resources: r }), h)).linux.resources.memory;
  assert.deepEqual(mem({ memory: 64 << 20 }), { limit: 64 << 20, swap: 128 << 20 });
  assert.deepEqual(mem({ memory: 64 << 20, memorySwap: -1 }), { limit: 64 << 20, swap: -1 });
  assert.deepEqual(
    mem({ memory: 64 << 20, memorySwap: 100 << 20, memoryReservation: 32 << 20, oomKillDisable: true }),
    {
      limit: 64 << 20,
      swap: 100 << 20,
      reservation: 32 << 20,
      disableOOMKiller: true,
    },
  );
  assert.deepEqual(mem({ memory: 64 << 20 }, { ...V1, swapLimit: false }), { limit: 64 << 20 });
  assert.equal(mem({}), undefined);
  assert.throws(() => mem({ memory: 64 << 20, memorySwap: 32 << 20 }), is400(/memoryswap/));
});

test('cpu, pids and blkio', () => {
  const r = view(
    buildSpec(
      input({
        resources: {
          nanoCpus: 1.5e9,
          cpuShares: 512,
          cpusetCpus: '0-1',
          pidsLimit: 64,
          blkioWeight: 300,
        },
      }),
      V2,
    ),
  ).linux.resources;
  assert.deepEqual(r.cpu, { shares: 512, period: 100000, quota: 150000, cpus: '0-1' });
  assert.deepEqual(r.pids, { limit: 64 });
  assert.deepEqual(r.blockIO, { weight: 300 });
  const q = view(buildSpec(input({ resources: { cpuQuota: 50000, cpuPeriod: 100000, pidsLimit: -1 } }), V1))
    .linux.resources;
  assert.deepEqual(q.cpu, { period: 100000, quota: 50000 });
  assert.equal(q.pids, undefined);
  // Without a weight file on v1 the weight is dropped, as Docker does.
  assert.equal(
    view(buildSpec(input({ resources: { blkioWeight: 300 } }), V1)).linux.resources.blockIO,
    undefined,
  );
});

const blockDev = ['/dev/vda', '/dev/sda', '/dev/nvme0n1', '/dev/loop0'].find((p) => {
  try {
    return fs.statSync(p).isBlockDevice();
  } catch {
    return false;
  }
});

test('blkio throttles resolve major:minor from the device node', { skip: !blockDev }, () => {
  const st = fs.statSync(blockDev!);
  const r = view(
    buildSpec(input({ resources: { blkioDeviceReadBps: [{ path: blockDev!, rate: 1048576 }] } }), V1),
  ).linux.resources;
  assert.deepEqual(r.blockIO.throttleReadBpsDevice, [{ ...splitDev(st.rdev), rate: 1048576 }]);
  assert.throws(
    () => buildSpec(input({ resources: { blkioDeviceWriteIOps: [{ path: '/dev/null', rate: 5 }] } }), V1),
    is400(/blkioDeviceWriteIOps.*not a block device/),
  );
});

test('--device adds the node and a cgroup rule', () => {
  const s = view(
    buildSpec(
      input({ devices: [{ pathOnHost: '/dev/full', pathInContainer: '/dev/xfull', permissions: 'rw' }] }),
      V1,
    ),
  );
  assert.deepEqual(s.linux.devices, [
    {
      path: '/dev/xfull',
      type: 'c',
      major: 1,
      minor: 7,
      fileMode: fs.statSync('/dev/full').mode & 0o7777,
      uid: 0,
      gid: 0,
    },
  ]);
  assert.deepEqual(s.linux.resources.devices.at(-1), {
    allow: true,
    type: 'c',
    major: 1,
    minor: 7,
    access: 'rw',
  });
  assert.throws(
    () =>
      buildSpec(
        input({ devices: [{ pathOnHost: '/dev/nope', pathInContainer: '/dev/nope', permissions: 'rwm' }] }),
        V1,
      ),
    is400(/error gathering device information while adding custom device "\/dev\/nope"/),
  );
});

test('ulimits map Docker names; an explicit nofile replaces the default', () => {
  const s = view(
    buildSpec(
      input({
        ulimits: [
          { name: 'nproc', soft: 100, hard: 200 },
          { name: 'nofile', soft: 10, hard: 20 },
        ],
      }),
      V1,
    ),
  );
  assert.deepEqual(s.process.rlimits, [
    { type: 'RLIMIT_NPROC', soft: 100, hard: 200 },
    { type: 'RLIMIT_NOFILE', soft: 10, hard: 20 },
  ]);
  assert.deepEqual(view(buildSpec(input(), V2)).process.rlimits, [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 1048576 },
  ]);
  assert.throws(
    () => buildSpec(input({ ulimits: [{ name: 'bogus', soft: 1, hard: 1 }] }), V1),
    is400(/invalid ulimit type: bogus/),
  );
});

test('user mounts replace defaults at the same place and come parents-first; init goes in front', () => {
  const s = view(
    buildSpec(
      input({
        initPath: '/usr/bin/tini-static',
        shmSize: 1 << 20,
        mounts: [
          { destination: '/data/sub', type: 'bind', source: '/a', options: ['rbind'] },
          { destination: '/data', type: 'bind', source: '/b', options: ['rbind'] },
          { destination: '/dev/mqueue', type: 'bind', source: '/c', options: ['rbind'] },
        ],
        oomScoreAdj: 500,
        noNewPrivileges: true,
        readonlyRootfs: true,
        sysctls: { 'net.ipv4.ip_forward': '1' },
        domainname: 'example.org',
      }),
      V1,
    ),
  );
  assert.deepEqual(s.process.args, ['/dev/init', '--', 'sh', '-c', 'echo hi']);
  const dests = s.mounts.map((m: Obj) => m.destination);
  assert.deepEqual(dests, [
    '/proc',
    '/dev',
    '/dev/pts',
    '/sys',
    '/sys/fs/cgroup',
    '/dev/shm',
    '/data',
    '/data/sub',
    '/dev/mqueue',
    '/dev/init',
  ]);
  assert.deepEqual(
    s.mounts.find((m: Obj) => m.destination === '/dev/init'),
    {
      destination: '/dev/init',
      type: 'bind',
      source: '/usr/bin/tini-static',
      options: ['bind', 'ro'],
    },
  );
  assert.ok(s.mounts.find((m: Obj) => m.destination === '/dev/shm').options.includes('size=1048576'));
  assert.equal(s.process.oomScoreAdj, 500);
  assert.equal(s.process.noNewPrivileges, true);
  assert.equal(s.root.readonly, true);
  assert.deepEqual(s.linux.sysctl, { 'net.ipv4.ip_forward': '1' });
  assert.equal(s.domainname, 'example.org');
});

test('invalid input is a 400 naming the value', () => {
  assert.throws(() => buildSpec(input({ args: [] }), V1), is400(/no command specified/));
  assert.throws(() => buildSpec(input({ cwd: 'relative' }), V1), is400(/'relative' is invalid/));
  assert.throws(
    () =>
      buildSpec(input({ mounts: [{ destination: 'data', type: 'bind', source: '/x', options: [] }] }), V1),
    is400(/"data"/),
  );
});
