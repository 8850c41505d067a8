import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { AttachConnection } from '../runtime/runtime.js';
import { AttachSession, frame, parseDetachKeys } from './attach-session.js';

function fakeRaw() {
  const input = new PassThrough();
  const output = new PassThrough();
  const written: Buffer[] = [];
  output.on('data', (c: Buffer) => written.push(c));
  let ended = false;
  return {
    raw: { input, output, end: () => (ended = true), destroy: () => (ended = true) },
    written,
    ended: () => ended,
  };
}

function fakeConn() {
  const stdin: Buffer[] = [];
  let stdinClosed = false;
  let data: ((s: 1 | 2, d: Buffer) => void) | undefined;
  let end: (() => void) | undefined;
  const conn: AttachConnection = {
    onData: (cb) => (data = cb),
    onEnd: (cb) => (end = cb),
    write: (b) => stdin.push(b),
    closeStdin: () => (stdinClosed = true),
    close: () => {},
  };
  return {
    conn,
    stdin,
    closed: () => stdinClosed,
    emit: (s: 1 | 2, d: string) => data?.(s, Buffer.from(d)),
    end: () => end?.(),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

test('detach keys parse like Docker’s', () => {
  assert.deepEqual(parseDetachKeys(undefined), [16, 17]);
  assert.deepEqual(parseDetachKeys('ctrl-x,a'), [24, 97]);
  assert.throws(() => parseDetachKeys('ctrl-1'), /Invalid escape keys/);
});

test('stdin sent before the task exists is delivered on connect, then EOF closes it (StdinOnce)', async () => {
  const r = fakeRaw();
  const s = new AttachSession(r.raw, {
    stdin: true,
    stdout: true,
    stderr: true,
    tty: false,
    stdinOnce: true,
    detachKeys: [],
  });
  r.raw.input.end('hello\n');
  await tick();
  const c = fakeConn();
  s.connect(c.conn);
  assert.equal(Buffer.concat(c.stdin).toString(), 'hello\n');
  assert.equal(c.closed(), true);
  c.emit(1, 'out');
  c.emit(2, 'err');
  await tick();
  assert.deepEqual(
    Buffer.concat(r.written),
    Buffer.concat([frame(1, Buffer.from('out')), frame(2, Buffer.from('err'))]),
  );
  c.end();
  assert.equal(r.ended(), true);
});

test('without StdinOnce, the client’s EOF ends the session; detach keys end it too', async () => {
  const r = fakeRaw();
  const s = new AttachSession(r.raw, {
    stdin: true,
    stdout: true,
    stderr: true,
    tty: true,
    stdinOnce: false,
    detachKeys: [16, 17],
  });
  const c = fakeConn();
  s.connect(c.conn);
  r.raw.input.write(Buffer.from([0x61, 16, 0x62, 16, 17]));
  await tick();
  assert.deepEqual([...Buffer.concat(c.stdin)], [0x61, 16, 0x62]);
  assert.equal(s.closed, true);
  const r2 = fakeRaw();
  const s2 = new AttachSession(r2.raw, {
    stdin: true,
    stdout: true,
    stderr: true,
    tty: true,
    stdinOnce: false,
    detachKeys: [],
  });
  s2.connect(fakeConn().conn);
  r2.raw.input.end();
  await tick();
  assert.equal(s2.closed, true);
});
