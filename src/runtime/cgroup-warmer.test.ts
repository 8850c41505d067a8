import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cgroupWarmer, selfProcsFile } from './cgroup-warmer.js';

function tree(files: string[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-warmer-'));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), '');
  }
  return root;
}

test('selfProcsFile: on a hybrid host, the unified hierarchy wins over the v1 controllers', () => {
  const root = tree(['unified/cgroup.procs', 'pids/user.slice/cgroup.procs']);
  const cgroup = '8:pids:/user.slice\n0::/\n';
  const mountinfo = [
    `30 25 0:26 / ${root}/pids rw,nosuid - cgroup cgroup rw,pids`,
    `31 25 0:27 / ${root}/unified rw,nosuid - cgroup2 cgroup2 rw`,
  ].join('\n');
  assert.equal(selfProcsFile(cgroup, mountinfo), `${root}/unified/cgroup.procs`);
  fs.rmSync(root, { recursive: true });
});

test('selfProcsFile: on pure v2, the daemon own cgroup below the mount', () => {
  const root = tree(['system.slice/berth.service/cgroup.procs']);
  const mountinfo = `35 24 0:30 / ${root} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate`;
  assert.equal(
    selfProcsFile('0::/system.slice/berth.service\n', mountinfo),
    `${root}/system.slice/berth.service/cgroup.procs`,
  );
  fs.rmSync(root, { recursive: true });
});

test('selfProcsFile: a v1-only host uses a controller mount; a mount root inside a container is stripped', () => {
  const root = tree(['cgroup.procs']);
  const cgroup = '4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n';
  const mountinfo = `40 30 0:40 /docker/abc ${root} rw - cgroup cgroup rw,cpu,cpuacct`;
  assert.equal(selfProcsFile(cgroup, mountinfo), `${root}/cgroup.procs`);
  fs.rmSync(root, { recursive: true });
});

test('selfProcsFile: nothing usable gives undefined', () => {
  assert.equal(selfProcsFile('', ''), undefined);
  assert.equal(
    selfProcsFile('0::/x\n', '35 24 0:30 / /nonexistent-cgroup rw - cgroup2 cgroup2 rw'),
    undefined,
  );
});

test('cgroupWarmer writes the pid while held, stops when released, and does nothing without a file', async () => {
  const root = tree(['cgroup.procs']);
  const file = path.join(root, 'cgroup.procs');
  const w = cgroupWarmer(file, 4242);
  const release = w.hold();
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(fs.readFileSync(file, 'utf8'), '4242');
  release();
  await new Promise((r) => setTimeout(r, 20));
  fs.writeFileSync(file, 'cleared');
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(fs.readFileSync(file, 'utf8'), 'cleared');
  fs.rmSync(root, { recursive: true });

  const none = cgroupWarmer(undefined);
  none.hold()();
  const missing = cgroupWarmer(path.join(root, 'gone', 'cgroup.procs'));
  missing.hold()();
});
