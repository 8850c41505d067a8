import assert from 'node:assert/strict';
import { test } from 'node:test';
import { userChanges } from './changes.js';
import { mergeCommitConfig, parseCommitConfig } from './commit.js';

test('mergeCommitConfig keeps the container config where the user set nothing', () => {
  const base = {
    Cmd: ['sh'],
    Entrypoint: null,
    Env: ['PATH=/bin', 'A=1'],
    User: 'u',
    WorkingDir: '/w',
    Labels: { x: '1' },
  };
  const m = mergeCommitConfig({ Env: ['A=2'], Labels: { y: '2' } }, base);
  assert.deepEqual(m.Cmd, ['sh']);
  assert.deepEqual(m.Env, ['A=2', 'PATH=/bin']);
  assert.deepEqual(m.Labels, { x: '1', y: '2' });
  assert.equal(m.User, 'u');
  assert.equal(m.WorkingDir, '/w');
  const e = mergeCommitConfig({ Entrypoint: ['/bin/echo'] }, base);
  assert.deepEqual(e.Entrypoint, ['/bin/echo']);
  assert.equal(e.Cmd, null);
});

test('parseCommitConfig: empty bodies mean no config; wrong types are named', () => {
  assert.equal(parseCommitConfig(undefined), undefined);
  assert.equal(parseCommitConfig({}), undefined);
  assert.equal(parseCommitConfig({ Cmd: null, Env: [] }), undefined);
  assert.throws(() => parseCommitConfig({ Cmd: 'echo' }), /Cmd must be a list of strings/);
});

test('diff leaves out the mount points the engine created', () => {
  const changes = [
    { Path: '/etc', Kind: 0 as const },
    { Path: '/etc/hostname', Kind: 1 as const },
    { Path: '/etc/hosts', Kind: 1 as const },
    { Path: '/tmp', Kind: 0 as const },
    { Path: '/tmp/new', Kind: 1 as const },
  ];
  assert.deepEqual(userChanges(changes), [
    { Path: '/tmp', Kind: 0 },
    { Path: '/tmp/new', Kind: 1 },
  ]);
  const withPasswd = [...changes, { Path: '/etc/passwd', Kind: 0 as const }];
  assert.deepEqual(
    userChanges(withPasswd).map((c) => c.Path),
    ['/etc', '/tmp', '/tmp/new', '/etc/passwd'],
  );
});
