// Health checks: --health-* and HEALTHCHECK, State.Health, ps status and filter, events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { docker, request } from '../harness.js';
import { ok, runDetached, until, useBusyboxDaemon } from './helpers.js';

const d = useBusyboxDaemon();

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

const health = (name: string): Health | null =>
  JSON.parse(ok(d, ['inspect', '-f', '{{json .State.Health}}', name])) as Health | null;

const psStatus = (name: string) => ok(d, ['ps', '--filter', `name=^${name}$`, '--format', '{{.Status}}']);

test('a failing check turns unhealthy after the retries, a passing one healthy again', async () => {
  const since = Math.floor(Date.now() / 1000);
  runDetached(
    d,
    'web',
    '--health-cmd',
    'echo probing; test -f /tmp/ok',
    '--health-interval',
    '200ms',
    '--health-retries',
    '2',
    'busybox',
    'sleep',
    '1000',
  );
  assert.equal(health('web')?.Status, 'starting');
  assert.match(psStatus('web'), /^Up .* \(health: starting\)$/);
  await until('unhealthy', () => health('web')?.Status === 'unhealthy');
  const sick = health('web');
  assert.ok(sick && sick.FailingStreak >= 2);
  assert.equal(sick?.Log.at(-1)?.ExitCode, 1);
  assert.equal(sick?.Log.at(-1)?.Output, 'probing\n');
  assert.match(psStatus('web'), /\(unhealthy\)$/);
  assert.equal(ok(d, ['ps', '-q', '--filter', 'health=unhealthy']).length, 12);

  ok(d, ['exec', 'web', 'touch', '/tmp/ok']);
  await until('healthy', () => health('web')?.Status === 'healthy');
  assert.equal(health('web')?.FailingStreak, 0);
  assert.match(psStatus('web'), /\(healthy\)$/);
  assert.equal(ok(d, ['ps', '-q', '--filter', 'health=healthy']).length, 12);
  assert.equal(ok(d, ['ps', '-q', '--filter', 'health=unhealthy']), '');
  await until('five log entries kept', () => (health('web')?.Log.length ?? 0) === 5);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(health('web')?.Log.length, 5, 'never more than five');

  const events = ok(d, [
    'events',
    '--since',
    String(since),
    '--until',
    String(Math.ceil(Date.now() / 1000) + 1),
    '--filter',
    'container=web',
    '--format',
    '{{.Action}}',
  ]).split('\n');
  assert.ok(events.includes('health_status: unhealthy'), events.join(', '));
  assert.ok(events.includes('health_status: healthy'), events.join(', '));
  ok(d, ['rm', '-f', 'web']);
});

test('a probe past its timeout is killed and logged with dockerd’s message', async () => {
  runDetached(
    d,
    'slow',
    '--health-cmd',
    'sleep 30',
    '--health-timeout',
    '300ms',
    '--health-interval',
    '200ms',
    '--health-retries',
    '1',
    'busybox',
    'sleep',
    '1000',
  );
  await until('unhealthy', () => health('slow')?.Status === 'unhealthy');
  const entry = health('slow')?.Log.at(-1);
  assert.equal(entry?.ExitCode, -1);
  assert.equal(entry?.Output, 'Health check exceeded timeout (300ms)');
  ok(d, ['pause', 'slow']);
  ok(d, ['unpause', 'slow']);
  ok(d, ['rm', '-f', 'slow']);
});

test('failures inside the start period do not count; no check means no Health', async () => {
  runDetached(
    d,
    'boot',
    '--health-cmd',
    'false',
    '--health-interval',
    '100ms',
    '--health-start-period',
    '60s',
    'busybox',
    'sleep',
    '1000',
  );
  await until('three probes', () => (health('boot')?.Log.length ?? 0) >= 3);
  assert.equal(health('boot')?.Status, 'starting');
  assert.equal(health('boot')?.FailingStreak, 0);
  ok(d, ['rm', '-f', 'boot']);

  runDetached(d, 'plain', 'busybox', 'sleep', '1000');
  assert.equal(health('plain'), null);
  assert.match(psStatus('plain'), /^Up [^(]*$/);
  assert.equal(ok(d, ['ps', '-q', '--filter', 'health=none']).length, 12);
  ok(d, ['rm', '-f', 'plain']);
});

test('HEALTHCHECK of the image applies; --no-healthcheck turns it off', async () => {
  runDetached(d, 'base', 'busybox', 'sleep', '1000');
  ok(d, ['commit', '-c', 'HEALTHCHECK --interval=200ms CMD true', 'base', 'checked:1']);
  ok(d, ['rm', '-f', 'base']);
  runDetached(d, 'inherits', 'checked:1', 'sleep', '1000');
  await until('healthy', () => health('inherits')?.Status === 'healthy');
  runDetached(d, 'off', '--no-healthcheck', 'checked:1', 'sleep', '1000');
  assert.equal(health('off'), null);
  ok(d, ['rm', '-f', 'inherits', 'off']);
  ok(d, ['rmi', 'checked:1']);
});

test('bad health check settings get dockerd’s messages', async () => {
  for (const [hc, message] of [
    [{ Test: ['CMD', 'true'], Interval: 500 }, 'Interval in Healthcheck cannot be less than 1ms'],
    [{ Test: ['CMD', 'true'], Retries: -1 }, 'Retries in Healthcheck cannot be negative'],
  ] as const) {
    const r = await request(d, 'POST', '/containers/create', {
      body: JSON.stringify({ Image: 'busybox', Healthcheck: hc }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.status, 400, r.body);
    assert.equal(JSON.parse(r.body).message, message);
  }
  const bad = docker(d, ['ps', '--filter', 'health=great']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /health: great/);
});

test('health checks go on after berthd restarts, from the recorded state', async () => {
  runDetached(d, 'kept', '--health-cmd', 'true', '--health-interval', '200ms', 'busybox', 'sleep', '1000');
  await until('healthy', () => health('kept')?.Status === 'healthy');
  await d.restart();
  assert.equal(health('kept')?.Status, 'healthy');
  const before = health('kept')?.Log.at(-1)?.End ?? '';
  await until('a new probe', () => (health('kept')?.Log.at(-1)?.End ?? '') > before);
  assert.match(psStatus('kept'), /\(healthy\)$/);
  ok(d, ['rm', '-f', 'kept']);
});
