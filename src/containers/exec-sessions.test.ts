import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeEnv, parseExecConfig } from './exec-sessions.js';

test('parseExecConfig reads the CLI body and rejects bad fields by name', () => {
  const c = parseExecConfig({
    User: 'nobody',
    Privileged: false,
    Tty: true,
    AttachStdin: true,
    AttachStderr: true,
    AttachStdout: true,
    DetachKeys: '',
    Env: ['A=1'],
    WorkingDir: '/tmp',
    Cmd: ['sh', '-c', 'id'],
  });
  assert.deepEqual(c.cmd, ['sh', '-c', 'id']);
  assert.equal(c.user, 'nobody');
  assert.equal(c.tty, true);
  assert.throws(() => parseExecConfig({ Cmd: [] }), /No exec command specified/);
  assert.throws(() => parseExecConfig({ Cmd: ['x'], Tty: 'yes' }), /invalid Tty/);
  assert.throws(() => parseExecConfig({ Cmd: [1] }), /invalid Cmd/);
  assert.throws(() => parseExecConfig({ Cmd: ['x'], WorkingDir: 'rel' }), /needs to be an absolute path/);
});

test('mergeEnv replaces in place, appends new keys, drops bare names', () => {
  assert.deepEqual(mergeEnv(['PATH=/bin', 'A=1', 'B=2'], ['A=9', 'C=3', 'B']), ['PATH=/bin', 'A=9', 'C=3']);
});
