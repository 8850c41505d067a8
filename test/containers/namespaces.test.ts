// --pid, --ipc and --uts: a namespace of the container's own, the host's, or another container's.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { test } from 'node:test';
import { docker, request } from '../harness.js';
import { inspect, ok, runDetached, runRemoved, until, useBusyboxDaemon } from './helpers.js';

const d = useBusyboxDaemon();

/** Runs `sh -c script` in a --rm container with `flags`; its stdout, insisting on exit 0. */
function sh(flags: string[], script: string): string {
  const r = runRemoved(d, [...flags, 'busybox', 'sh', '-c', script]);
  assert.equal(r.code, 0, `run ${flags.join(' ')} sh -c '${script}' → ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

const hostNs = (kind: string) => fs.readlinkSync(`/proc/self/ns/${kind}`);

test('--pid: own namespace by default, the host’s with host, another container’s with container:', () => {
  assert.equal(sh([], 'cat /proc/1/comm'), 'cat', 'the command is PID 1 of its own namespace');
  assert.equal(sh(['--pid', 'host'], 'readlink /proc/self/ns/pid'), hostNs('pid'));
  assert.equal(sh(['--pid', 'host'], 'cat /proc/1/comm'), fs.readFileSync('/proc/1/comm', 'utf8').trim());
  runDetached(d, 'pid-donor', 'busybox', 'sleep', '1000');
  assert.equal(sh(['--pid', 'container:pid-donor'], 'cat /proc/1/comm'), 'sleep');
  assert.equal(inspect(d, 'pid-donor').State.Status, 'running');
  ok(d, ['rm', '-f', 'pid-donor']);
});

test('--ipc: host shares the host’s namespace and /dev/shm; shareable donors can be joined', async () => {
  const marker = `berth-test-${process.pid}`;
  fs.writeFileSync(`/dev/shm/${marker}`, 'from the host');
  try {
    assert.equal(sh(['--ipc', 'host'], 'readlink /proc/self/ns/ipc'), hostNs('ipc'));
    assert.equal(sh(['--ipc', 'host'], `cat /dev/shm/${marker}`), 'from the host');
  } finally {
    fs.rmSync(`/dev/shm/${marker}`, { force: true });
  }
  assert.notEqual(sh([], 'readlink /proc/self/ns/ipc'), hostNs('ipc'));

  runDetached(
    d,
    'ipc-donor',
    '--ipc',
    'shareable',
    'busybox',
    'sh',
    '-c',
    'echo shared > /dev/shm/x; sleep 1000',
  );
  const donorNs = ok(d, ['exec', 'ipc-donor', 'readlink', '/proc/self/ns/ipc']);
  assert.equal(sh(['--ipc', 'container:ipc-donor'], 'readlink /proc/self/ns/ipc'), donorNs);
  assert.equal(sh(['--ipc', 'container:ipc-donor'], 'cat /dev/shm/x'), 'shared');
  assert.equal(inspect(d, 'ipc-donor').HostConfig.IpcMode, 'shareable');

  // Docker's default is private: such a container cannot be joined.
  runDetached(d, 'ipc-private', 'busybox', 'sleep', '1000');
  const r = runRemoved(d, ['--ipc', 'container:ipc-private', 'busybox', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /non-shareable IPC \(hint: use IpcMode:shareable for the donor container\)/);
  const shmMounts = () =>
    fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.split(' ')[4]?.startsWith(d.dir) && l.split(' ')[4]?.endsWith('/shm'));
  assert.equal(shmMounts().length, 1, 'the shareable /dev/shm is a tmpfs on the host');
  ok(d, ['stop', '-t', '0', 'ipc-donor']);
  await until('the shareable /dev/shm to go with the task', () => shmMounts().length === 0);
  ok(d, ['rm', '-f', 'ipc-donor', 'ipc-private']);
});

test('--ipc none has no /dev/shm; a stopped donor is refused', () => {
  assert.equal(sh(['--ipc', 'none'], 'grep -c " /dev/shm " /proc/mounts || true'), '0');
  assert.equal(sh([], 'grep -c " /dev/shm " /proc/mounts'), '1');
  ok(d, ['create', '--name', 'idle', '--ipc', 'shareable', '--network', 'none', 'busybox', 'true']);
  const r = runRemoved(d, ['--ipc', 'container:idle', 'busybox', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /cannot join IPC of a non running container: [0-9a-f]{64}/);
  ok(d, ['rm', 'idle']);
});

test('--uts host: the host’s name inside and in inspect; -h with it is refused', () => {
  assert.equal(sh(['--uts', 'host'], 'hostname'), os.hostname());
  assert.equal(sh(['--uts', 'host'], 'cat /etc/hostname'), os.hostname());
  assert.equal(sh(['--uts', 'host'], 'readlink /proc/self/ns/uts'), hostNs('uts'));
  ok(d, ['create', '--name', 'uts', '--uts', 'host', '--network', 'none', 'busybox', 'true']);
  assert.equal(inspect(d, 'uts').Config.Hostname, os.hostname());
  ok(d, ['rm', 'uts']);
  const r = docker(d, ['create', '-h', 'box', '--uts', 'host', 'busybox']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /conflicting options: hostname and the UTS mode/);
});

test('unknown modes get Docker’s messages and create nothing', async () => {
  // The docker CLI checks the flags itself; other clients get the daemon's 400.
  const cli = docker(d, ['create', '--pid', 'nosuch', 'busybox']);
  assert.equal(cli.code, 125);
  assert.match(cli.stderr, /invalid PID mode/);
  for (const [field, value, message] of [
    ['PidMode', 'nosuch', 'invalid PID mode: nosuch'],
    ['IpcMode', 'container:', 'invalid IPC mode: container:'],
    ['UTSMode', 'nosuch', 'invalid UTS mode: nosuch'],
  ] as const) {
    const r = await request(d, 'POST', '/containers/create', {
      body: JSON.stringify({ Image: 'busybox', HostConfig: { [field]: value } }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.status, 400, r.body);
    assert.equal(JSON.parse(r.body).message, message);
  }
  assert.equal(ok(d, ['ps', '-aq']), '');
});
