/**
 * buildSpec's output run by the real runc: the spec is accepted and Docker's defaults
 * act (capabilities, user, seccomp, masked paths, read-only rootfs, memory limit, init).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { capabilityMask, hostCapabilities } from './capabilities.js';
import { detectCgroupLayout, removeCgroupParents } from './cgroups.js';
import type { SpecInput } from './runtime.js';
import { buildSpec } from './spec.js';
import { specInput } from './spec-input.fixture.js';
import { resolveUser } from './user.js';

const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => fs.existsSync(p));
const BUSYBOX = '/bin/busybox';
const CGROUP_PARENT = '/berth-test';
const skip =
  !RUNC || !fs.existsSync(BUSYBOX) || process.getuid?.() !== 0 ? 'needs root, runc and busybox' : false;

let tmp = '';
let rootfs = '';
let runcRoot = '';
const started: string[] = [];

before(() => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-spec-runc-'));
  runcRoot = path.join(tmp, 'runc');
  rootfs = path.join(tmp, 'rootfs');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'mnt', 'root']) {
    fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  }
  fs.copyFileSync(BUSYBOX, path.join(rootfs, 'bin/busybox'));
  fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  const applets = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
  fs.writeFileSync(
    path.join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/tmp:/bin/sh\n',
  );
  fs.writeFileSync(
    path.join(rootfs, 'etc/group'),
    'root:x:0:\nwheel:x:10:app\napp:x:1000:\nnogroup:x:65534:\n',
  );
});

after(async () => {
  if (skip) return;
  for (const id of started)
    spawnSync(RUNC!, ['--root', runcRoot, 'delete', '--force', id], { stdio: 'ignore' });
  await removeCgroupParents(CGROUP_PARENT);
  fs.rmSync(tmp, { recursive: true, force: true });
});

function input(over: Partial<SpecInput>, id: string): SpecInput {
  return specInput({
    id,
    rootfs,
    cgroupsPath: `${CGROUP_PARENT}/${id}`,
    env: ['PATH=/bin', 'HOME=/root'],
    ...over,
  });
}

/** Runs `script` in a container built from `over`; returns its exit code and output. */
function run(script: string, over: Partial<SpecInput> = {}): { code: number | null; out: string } {
  const id = `spec-${randomBytes(5).toString('hex')}`;
  started.push(id);
  const bundle = path.join(tmp, id);
  fs.mkdirSync(bundle);
  const spec = buildSpec(input({ args: ['sh', '-c', script], ...over }, id));
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
  const r = spawnSync(RUNC!, ['--root', runcRoot, 'run', '--bundle', bundle, id], {
    encoding: 'utf8',
    timeout: 15_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const MASKED =
  ['/proc/kcore', '/proc/keys', '/proc/timer_list'].find((p) => fs.existsSync(p)) ?? '/proc/keys';

const field = (out: string, key: string) => new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(out)?.[1];

test('defaults: Docker caps, root user, seccomp, masks, rlimits, memory limit', { skip }, () => {
  const memFile =
    detectCgroupLayout() === 'v2'
      ? '/sys/fs/cgroup/memory.max'
      : '/sys/fs/cgroup/memory/memory.limit_in_bytes';
  const r = run(
    [
      'cat /proc/self/status',
      'echo "id=$(id)"',
      'unshare -U true 2>/dev/null; echo "unshare=$?"',
      'mount -t tmpfs none /mnt 2>/dev/null; echo "mount=$?"',
      // /proc/kcore is absent on some kernels (runc skips masking what does not exist).
      `echo "masked=$(cat ${MASKED} | wc -c)"`,
      'echo "firmware=$(ls /sys/firmware | wc -l)"',
      'echo "nofile=$(ulimit -n)/$(ulimit -Hn)"',
      `echo "memlimit=$(cat ${memFile})"`,
      'echo x > /written && echo "rootfs=rw"',
      'echo "hostname=$(hostname)"',
    ].join('; '),
    { resources: { memory: 64 * 1024 * 1024 }, ...resolveUser(rootfs, '') },
  );
  assert.equal(r.code, 0, r.out);
  assert.equal(field(r.out, 'CapEff'), '00000000a80425fb');
  assert.equal(field(r.out, 'CapBnd'), '00000000a80425fb');
  assert.equal(field(r.out, 'CapInh'), '0000000000000000');
  assert.equal(field(r.out, 'Seccomp'), '2');
  assert.match(r.out, /^id=uid=0\(root\) gid=0\(root\)/m);
  assert.match(r.out, /^unshare=1$/m);
  assert.match(r.out, /^mount=\d+$/m);
  assert.doesNotMatch(r.out, /^mount=0$/m);
  assert.match(r.out, /^masked=0$/m);
  assert.match(r.out, /^firmware=0$/m);
  assert.match(r.out, /^nofile=1024\/\d+$/m);
  assert.match(r.out, new RegExp(`^memlimit=${64 * 1024 * 1024}$`, 'm'));
  assert.match(r.out, /^rootfs=rw$/m);
});

test('a resolved non-root user runs with its groups and no effective caps', { skip }, () => {
  const user = resolveUser(rootfs, 'app');
  const r = run('id; grep CapEff /proc/self/status', user);
  assert.equal(r.code, 0, r.out);
  // The kernel sorts supplementary groups.
  assert.match(r.out, /uid=1000\(app\) gid=1000\(app\) groups=10\(wheel\),1000\(app\)/);
  assert.equal(field(r.out, 'CapEff'), '0000000000000000');
});

test('seccomp unconfined allows what the profile blocks', { skip }, () => {
  const r = run('unshare -U true; echo "unshare=$?"', { seccomp: 'unconfined' });
  assert.match(r.out, /^unshare=0$/m, r.out);
});

test('privileged: all caps, no seccomp, no masks, mount allowed', { skip }, () => {
  const r = run(
    [
      'grep -E "^(CapEff|Seccomp)" /proc/self/status',
      'unshare -U true; echo "unshare=$?"',
      'mount -t tmpfs none /mnt; echo "mount=$?"',
      `grep -c " ${MASKED} " /proc/self/mountinfo; echo "masked=$?"`,
      'test -c /dev/full && echo "hostdev=yes"',
    ].join('; '),
    { privileged: true },
  );
  assert.equal(r.code, 0, r.out);
  assert.equal(field(r.out, 'CapEff'), capabilityMask(hostCapabilities()));
  assert.equal(field(r.out, 'Seccomp'), '0');
  assert.match(r.out, /^unshare=0$/m, r.out);
  assert.match(r.out, /^mount=0$/m, r.out);
  assert.match(r.out, /^masked=1$/m, r.out);
  assert.match(r.out, /^hostdev=yes$/m, r.out);
});

test('a read-only rootfs refuses writes; /dev/shm stays writable', { skip }, () => {
  const r = run('echo x > /file; echo "write=$?"; echo y > /dev/shm/f && echo "shm=ok"', {
    readonlyRootfs: true,
  });
  assert.match(r.out, /Read-only file system/);
  assert.match(r.out, /^write=1$/m);
  assert.match(r.out, /^shm=ok$/m);
});

test('an init runs as PID 1 in front of the command', {
  skip: skip || !fs.existsSync('/usr/bin/tini-static'),
}, () => {
  const r = run('tr "\\0" " " < /proc/1/cmdline; echo', { initPath: '/usr/bin/tini-static' });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^\/dev\/init -- sh -c /m);
});

test('host network: no network namespace, the host interfaces are visible', { skip }, () => {
  const hostIfs = fs.readdirSync('/sys/class/net').sort();
  const r = run('ls /sys/class/net', { netns: 'host' });
  assert.equal(r.code, 0, r.out);
  assert.deepEqual(r.out.trim().split(/\s+/).sort(), hostIfs);
  const isolated = run('ls /sys/class/net');
  assert.deepEqual(isolated.out.trim().split(/\s+/), ['lo']);
});
