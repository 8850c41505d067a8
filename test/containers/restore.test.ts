// Restart policies and live restore: containers outlive the daemon, and it picks them up again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { docker } from '../harness.js';
import { demux, inspect, ok, rawAttach, runDetached, sleep, until, useBusyboxDaemon } from './helpers.js';

const d = useBusyboxDaemon();

const state = (name: string) => inspect(d, name).State;

test('on-failure:2 restarts twice, then stays exited with RestartCount 2', async () => {
  runDetached(d, 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3');
  await until('two restarts', () => {
    const c = inspect(d, 'flaky');
    return c.RestartCount === 2 && c.State.Status === 'exited';
  });
  await sleep(1000);
  const c = inspect(d, 'flaky');
  assert.equal(c.RestartCount, 2);
  assert.equal(c.State.ExitCode, 3);
  assert.equal(c.State.Status, 'exited');
  ok(d, ['rm', 'flaky']);
});

test('restarting shows in ps, and a user stop ends the restarts', async () => {
  runDetached(d, 'loop', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.3; exit 1');
  await until('a restart', () => inspect(d, 'loop').RestartCount >= 1);
  ok(d, ['stop', '-t', '1', 'loop']);
  const count = inspect(d, 'loop').RestartCount;
  await sleep(1500);
  const c = inspect(d, 'loop');
  assert.equal(c.State.Status, 'exited');
  assert.equal(c.RestartCount, count, 'no restart after the stop');
  ok(d, ['rm', 'loop']);
});

test('running containers survive kill -9 of the daemon and are adopted: listed, attachable, stoppable', async () => {
  runDetached(d, 'ticker', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.2; done');
  runDetached(d, 'always', '--restart', 'always', 'busybox', 'sleep', '1000');
  const pid = state('ticker').Pid;
  const alwaysPid = state('always').Pid;
  await d.kill9();
  await sleep(500);
  assert.ok(process.kill(pid, 0), 'the container runs without the daemon');
  await d.restart();
  assert.equal(state('ticker').Status, 'running');
  assert.equal(state('ticker').Pid, pid);
  assert.equal(state('always').Pid, alwaysPid);
  const names = ok(d, ['ps', '--format', '{{.Names}}']).split('\n').sort();
  assert.deepEqual(names, ['always', 'ticker']);
  const id = inspect(d, 'ticker').Id;
  const a = await rawAttach(d, id, 'stream=1&stdout=1&stderr=1', { end: true, ms: 1500 });
  assert.equal(a.status, '101');
  assert.match(demux(a.output).stdout, /tick\n/);
  ok(d, ['stop', '-t', '1', 'ticker']);
  assert.equal(state('ticker').Status, 'exited');
  // The adopted container's restart policy still acts: kill its process from outside.
  process.kill(alwaysPid, 'SIGKILL');
  await until('the always container to come back', () => {
    const s = state('always');
    return s.Status === 'running' && s.Pid !== alwaysPid;
  });
  assert.ok(inspect(d, 'always').RestartCount >= 1);
  ok(d, ['rm', '-f', 'ticker', 'always']);
});

test('a container that exits while the daemon is down shows its real exit code; --rm ones are removed', async () => {
  runDetached(d, 'short', 'busybox', 'sh', '-c', 'sleep 1; exit 7');
  runDetached(d, 'gone', '--rm', 'busybox', 'sh', '-c', 'sleep 1; exit 0');
  await d.stop();
  await sleep(2500);
  await d.restart();
  const s = state('short');
  assert.equal(s.Status, 'exited');
  assert.equal(s.ExitCode, 7);
  assert.equal(s.Running, false);
  assert.notEqual(s.FinishedAt, '0001-01-01T00:00:00Z');
  await until('the --rm container to be removed', () => docker(d, ['inspect', 'gone']).code !== 0);
  ok(d, ['rm', 'short']);
});

test('after a daemon restart, always comes back, unless-stopped that was stopped stays down', async () => {
  runDetached(d, 'back', '--restart', 'always', 'busybox', 'sleep', '1000');
  runDetached(d, 'down', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000');
  ok(d, ['stop', '-t', '0', 'back', 'down']);
  await d.restart();
  await until('always to be running', () => state('back').Status === 'running');
  assert.equal(state('down').Status, 'exited');
  assert.deepEqual(inspect(d, 'down').HostConfig.RestartPolicy, {
    Name: 'unless-stopped',
    MaximumRetryCount: 0,
  });
  ok(d, ['rm', '-f', 'back', 'down']);
});
