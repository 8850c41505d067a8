// docker exec through the real CLI: exit codes, env, user, cwd, stdin, detach, tty, errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { docker } from '../harness.js';
import { api, ok, runDetached, until, useBusyboxDaemon } from './helpers.js';

const d = useBusyboxDaemon((daemon) => {
  runDetached(daemon, 'ex', '-e', 'FROM_RUN=1', '-w', '/etc', 'busybox', 'sleep', '1000');
});

test('the exit code of the process comes back; output streams stay apart', () => {
  const r = docker(d, ['exec', 'ex', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
  assert.equal(r.code, 7);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(docker(d, ['exec', 'ex', 'true']).code, 0);
});

test('-e adds to the container env, -u and -w apply, defaults come from the container', () => {
  assert.equal(
    ok(d, ['exec', '-e', 'A=b', 'ex', 'sh', '-c', 'echo $A $FROM_RUN; pwd; id -u']),
    'b 1\n/etc\n0',
  );
  assert.equal(
    ok(d, ['exec', '-u', 'nobody', '-w', '/tmp', 'ex', 'sh', '-c', 'id -un; pwd']),
    'nobody\n/tmp',
  );
  assert.equal(ok(d, ['exec', '-u', '1234:5678', 'ex', 'sh', '-c', 'id -u; id -g']), '1234\n5678');
  const bad = docker(d, ['exec', '-u', 'nosuchuser', 'ex', 'true']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stdout + bad.stderr, /unable to find user nosuchuser/);
});

test('-i passes piped stdin and its end; -t gives a terminal', () => {
  assert.equal(
    docker(d, ['exec', '-i', 'ex', 'sh', '-c', 'cat; echo done'], { input: 'piped\n' }).stdout,
    'piped\ndone\n',
  );
  assert.equal(
    docker(d, ['exec', '-i', 'ex', 'wc', '-c'], { input: 'x'.repeat(100_000) }).stdout.trim(),
    '100000',
  );
  const t = docker(d, ['exec', '-t', 'ex', 'sh', '-c', 'tty; echo line']);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^\/dev\/pts\/\d+\r\nline\r\n$/);
});

test('-d returns at once and the process runs', async () => {
  ok(d, ['exec', '-d', 'ex', 'sh', '-c', 'sleep 0.3; echo done > /tmp/detached']);
  await until(
    'the detached exec to write its file',
    () => docker(d, ['exec', 'ex', 'cat', '/tmp/detached']).stdout === 'done\n',
  );
});

test('--privileged widens the capability set', () => {
  const capEff = (args: string[]) =>
    ok(d, ['exec', ...args, 'ex', 'sh', '-c', 'grep CapEff /proc/self/status']);
  assert.notEqual(capEff(['--privileged']), capEff([]));
});

test('a missing or non-executable binary fails with Docker’s message and 126/127', () => {
  const missing = docker(d, ['exec', 'ex', 'nosuchbinary']);
  assert.ok(missing.code === 126 || missing.code === 127, `exit ${missing.code}`);
  assert.match(missing.stdout + missing.stderr, /executable file not found/);
  const notExec = docker(d, ['exec', 'ex', '/etc/passwd']);
  assert.equal(notExec.code, 126);
  assert.match(notExec.stdout + notExec.stderr, /permission denied/);
});

test('exec inspect shows Docker’s fields; exec in a stopped container is a 409', async () => {
  const created = await api(d, 'POST', '/v1.41/containers/ex/exec', {
    Cmd: ['sh', '-c', 'exit 3'],
    AttachStdout: true,
  });
  assert.equal(created.status, 201, created.body);
  const { Id } = JSON.parse(created.body) as { Id: string };
  const before = JSON.parse((await api(d, 'GET', `/v1.41/exec/${Id}/json`)).body);
  assert.equal(before.Running, false);
  assert.equal(before.ExitCode, null);
  assert.deepEqual(before.ProcessConfig, {
    arguments: ['-c', 'exit 3'],
    entrypoint: 'sh',
    privileged: false,
    tty: false,
    user: '',
  });
  const started = await api(d, 'POST', `/v1.41/exec/${Id}/start`, { Detach: true });
  assert.equal(started.status, 200, started.body);
  let after: Record<string, unknown> = {};
  for (let i = 0; i < 50; i++) {
    after = JSON.parse((await api(d, 'GET', `/v1.41/exec/${Id}/json`)).body);
    if (after.ExitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(after.ExitCode, 3);
  assert.equal(after.Running, false);
  const again = await api(d, 'POST', `/v1.41/exec/${Id}/start`, { Detach: true });
  assert.equal(again.status, 409);
  assert.equal((await api(d, 'GET', '/v1.41/exec/nosuch/json')).status, 404);

  ok(d, ['create', '--name', 'stopped', '--network', 'none', 'busybox', 'true']);
  const r = docker(d, ['exec', 'stopped', 'true']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /is not running/);
});
