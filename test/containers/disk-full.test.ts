// A full disk under --root: the daemon keeps answering, waiters get the exit code, and once
// space is back the state is recorded as it happened.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { docker } from '../harness.js';
import { inspect, ok, runDetached, useBusyboxDaemon } from './helpers.js';

const d = useBusyboxDaemon(undefined, { rootOnTmpfs: '64m' });

/** Fills the root's filesystem to the last byte; returns the filler's path. */
function fillRoot(): string {
  const filler = path.join(d.root, 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(1 << 20);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  }
  // Then page by page, so not even one SQLite page fits.
  try {
    for (;;) fs.writeSync(fd, chunk, 0, 4096);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  }
  fs.closeSync(fd);
  return filler;
}

test('a container that exits while the disk is full: wait answers, the daemon lives on', async () => {
  runDetached(d, 'quick', 'busybox', 'sleep', '1000');
  const pid = inspect(d, 'quick').State.Pid;
  const filler = fillRoot();
  try {
    process.kill(pid, 'SIGKILL');
    const w = docker(d, ['wait', 'quick']);
    assert.equal(w.code, 0, `docker wait: ${w.stderr}\n${d.output()}`);
    assert.equal(w.stdout.trim(), '137');
    assert.match(ok(d, ['version', '--format', '{{.Server.Version}}']), /\S/, 'the daemon still answers');
  } finally {
    fs.rmSync(filler);
  }
  assert.equal(inspect(d, 'quick').State.ExitCode, 137);
  // With space back, changes are recorded again: the rename, and the exit with it, survive a restart.
  ok(d, ['rename', 'quick', 'quick2']);
  await d.restart();
  const c = inspect(d, 'quick2').State;
  assert.equal(c.Status, 'exited');
  assert.equal(c.ExitCode, 137);
  ok(d, ['rm', 'quick2']);
});
