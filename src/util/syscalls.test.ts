import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as sys from './syscalls.js';

const built = sys.available();

test('the native helpers are built (npm ci runs npm run build:native)', () => {
  assert.ok(built, 'native/build/Release/berth_sys.node is missing: run npm run build:native');
});

test('mount and umount2 mount an overlay and take it away', { skip: !built }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-sys-'));
  for (const d of ['lower', 'upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, d));
  fs.writeFileSync(path.join(dir, 'lower', 'f'), 'from the lower layer');
  const merged = path.join(dir, 'merged');
  try {
    await sys.mount(
      'overlay',
      merged,
      'overlay',
      0,
      `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work`,
    );
    assert.equal(fs.readFileSync(path.join(merged, 'f'), 'utf8'), 'from the lower layer');
    fs.writeFileSync(path.join(merged, 'g'), 'new');
    await sys.umount2(merged);
    assert.deepEqual(fs.readdirSync(merged), []);
    assert.equal(fs.readFileSync(path.join(dir, 'upper', 'g'), 'utf8'), 'new');
  } finally {
    await sys.umount2(merged, sys.MNT_DETACH).catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('failures are errors with the errno name, the call and the path', { skip: !built }, async () => {
  const missing = path.join(os.tmpdir(), 'berth-sys-no-such-dir', 'x');
  await assert.rejects(
    sys.mount('overlay', missing, 'overlay', 0, 'lowerdir=/nonexistent'),
    (e: unknown) =>
      e instanceof sys.SyscallError && e.code === 'ENOENT' && e.syscall === 'mount' && e.path === missing,
  );
  await assert.rejects(
    sys.umount2(os.tmpdir()),
    (e: unknown) => e instanceof sys.SyscallError && e.code === 'EINVAL',
  );
  await assert.rejects(sys.mount('overlay', 'a\0b', 'overlay', 0, ''), TypeError);
});

test('x32Syscalls answers whether this kernel runs x32 calls, and the daemon survives asking', {
  skip: !built,
}, () => {
  const answer = sys.x32Syscalls();
  assert.equal(typeof answer, 'boolean');
  assert.equal(sys.x32Syscalls(), answer, 'asked once, remembered');
  if (process.arch !== 'x64') assert.equal(answer, false);
});
