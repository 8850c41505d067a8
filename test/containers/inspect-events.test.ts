// docker events: container and image actions, replayed with --since/--until and filtered.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { docker } from '../harness.js';
import { ok, runDetached, until, useBusyboxDaemon } from './helpers.js';

const d = useBusyboxDaemon();

interface Ev {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
  timeNano: number;
}

function events(args: string[]): Ev[] {
  return ok(d, ['events', '--format', '{{json .}}', ...args])
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Ev);
}

const now = () => (Date.now() / 1000).toFixed(3);

test('container life cycle and image actions are published and replayed with --since/--until', async () => {
  const since = now();
  await new Promise((r) => setTimeout(r, 20));
  const run = docker(d, [
    'run',
    '--name',
    'ev1',
    '--network',
    'none',
    '--label',
    'team=a',
    'busybox',
    'sh',
    '-c',
    'exit 2',
  ]);
  assert.equal(run.code, 2, run.stderr);
  ok(d, ['rm', 'ev1']);
  ok(d, ['tag', 'busybox', 'ev-tag:v1']);
  ok(d, ['rmi', 'ev-tag:v1']);
  await new Promise((r) => setTimeout(r, 20));
  const untilT = now();

  const all = events(['--since', since, '--until', untilT]);
  const container = all.filter((e) => e.Type === 'container').map((e) => e.Action);
  for (const a of ['create', 'start', 'die', 'destroy'])
    assert.ok(container.includes(a), `${a} in ${container.join(',')}`);
  const die = all.find((e) => e.Action === 'die')!;
  assert.equal(die.Actor.Attributes.exitCode, '2');
  assert.equal(die.Actor.Attributes.name, 'ev1');
  assert.equal(die.Actor.Attributes.team, 'a');
  const image = all.filter((e) => e.Type === 'image').map((e) => e.Action);
  assert.ok(image.includes('tag'), `tag in ${image.join(',')}`);
  assert.ok(image.includes('untag') || image.includes('delete'), `untag/delete in ${image.join(',')}`);

  assert.deepEqual(
    events(['--since', since, '--until', untilT, '--filter', 'event=die']).map((e) => e.Action),
    ['die'],
  );
  assert.ok(
    events(['--since', since, '--until', untilT, '--filter', 'type=image']).every((e) => e.Type === 'image'),
  );
  assert.ok(events(['--since', since, '--until', untilT, '--filter', 'container=ev1']).length >= 4);
  assert.ok(events(['--since', since, '--until', untilT, '--filter', 'label=team=a']).length >= 4);
  assert.equal(events(['--since', untilT, '--until', untilT]).length, 0);
});

test('exec, commit, cp and export publish their events', async () => {
  const since = now();
  runDetached(d, 'ev2', 'busybox', 'sleep', '1000');
  ok(d, ['exec', 'ev2', 'true']);
  ok(d, ['export', '-o', `${d.dir}/ev2.tar`, 'ev2']);
  ok(d, ['commit', 'ev2', 'ev-commit']);
  await new Promise((r) => setTimeout(r, 20));
  const actions = events(['--since', since, '--until', now(), '--filter', 'container=ev2']).map(
    (e) => e.Action,
  );
  for (const a of ['exec_create: true ', 'exec_start: true ', 'exec_die', 'export', 'commit']) {
    assert.ok(actions.includes(a), `${a} in ${actions.join(',')}`);
  }
});

test('a live events stream sees new actions as they happen', async () => {
  const child = spawn(
    'docker',
    ['events', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}', '--filter', 'type=container'],
    {
      env: d.env,
    },
  );
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  try {
    await new Promise((r) => setTimeout(r, 300));
    ok(d, ['create', '--name', 'ev3', '--network', 'none', 'busybox', 'true']);
    ok(d, ['rm', 'ev3']);
    await until('the live events', () => out.includes('container destroy ev3'), 10_000);
    assert.match(out, /container create ev3/);
  } finally {
    child.kill();
  }
});
