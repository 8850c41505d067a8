// docker logs through the real CLI: streams apart, timestamps, tail, since/until, follow, rotation.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { docker } from '../harness.js';
import { inspect, ok, runDetached, until, useBusyboxDaemon } from './helpers.js';

const d = useBusyboxDaemon();

const run = (name: string, script: string, extra: string[] = []) =>
  runDetached(d, name, ...extra, 'busybox', 'sh', '-c', script);

async function exited(name: string): Promise<void> {
  await until(`${name} to exit`, () => inspect(d, name).State.Status === 'exited');
}

test('stdout and stderr stay apart; -t prefixes RFC3339Nano; --tail keeps the last lines', async () => {
  run('lg1', 'echo one; echo err1 >&2; echo two; echo three');
  await exited('lg1');
  const r = docker(d, ['logs', 'lg1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'one\ntwo\nthree\n');
  assert.equal(r.stderr, 'err1\n');
  const t = docker(d, ['logs', '-t', 'lg1']);
  assert.match(t.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one\n/);
  // conmon logs what it read from each pipe in turn, so --tail counts lines of one stream here.
  run('lg1b', 'echo one; echo two; echo three');
  await exited('lg1b');
  assert.equal(ok(d, ['logs', '--tail', '2', 'lg1b']), 'two\nthree');
  assert.equal(docker(d, ['logs', '--tail', '0', 'lg1b']).stdout, '');
});

test('--since and --until select by the log timestamps (inclusive)', async () => {
  run('lg2', 'echo first; sleep 1.2; echo second; sleep 1.2; echo third');
  await exited('lg2');
  const stamped = ok(d, ['logs', '-t', 'lg2']).split('\n');
  assert.equal(stamped.length, 3);
  const ts = stamped.map((l) => l.split(' ')[0]!);
  assert.equal(ok(d, ['logs', '--since', ts[1]!, 'lg2']), 'second\nthird');
  assert.equal(ok(d, ['logs', '--until', ts[1]!, 'lg2']), 'first\nsecond');
  assert.equal(ok(d, ['logs', '--since', ts[1]!, '--until', ts[1]!, 'lg2']), 'second');
});

test('logs -f streams until the container exits', async () => {
  run('lg3', 'echo a; sleep 2; echo b');
  const r = docker(d, ['logs', '-f', 'lg3'], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'a\nb\n');
});

test('a TTY container logs raw bytes', async () => {
  ok(d, ['run', '-d', '-t', '--name', 'lg4', '--network', 'none', 'busybox', 'echo', 'tty-line']);
  await exited('lg4');
  assert.equal(docker(d, ['logs', 'lg4']).stdout, 'tty-line\r\n');
});

test('--log-opt max-size/max-file rotate on disk and logs shows the retained tail', async () => {
  // ~60 bytes a line, 20 lines a second: 1k files rotate several times over 6 s.
  run(
    'lg5',
    'i=1; while [ $i -le 120 ]; do echo "line $i .................................................."; i=$((i+1)); sleep 0.05; done',
    ['--log-opt', 'max-size=1k', '--log-opt', 'max-file=3'],
  );
  await exited('lg5');
  await new Promise((r) => setTimeout(r, 1500));
  const logPath = inspect(d, 'lg5').LogPath as string;
  const base = path.basename(logPath);
  const files = fs.readdirSync(path.dirname(logPath)).filter((f) => f === base || f.startsWith(`${base}.`));
  assert.ok(files.length >= 2 && files.length <= 3, `expected 2-3 log files, got ${files.join(', ')}`);
  const lines = ok(d, ['logs', 'lg5']).split('\n');
  assert.match(lines.at(-1)!, /^line 120 /);
  assert.doesNotMatch(lines[0]!, /^line 1 /, 'the oldest lines were rotated away');
  // Whatever is retained is contiguous.
  const nums = lines.map((l) => Number(l.split(' ')[1]));
  for (let i = 1; i < nums.length; i++) assert.equal(nums[i], nums[i - 1]! + 1);
});

test('logs of a missing container is a 404 with Docker’s message', () => {
  const r = docker(d, ['logs', 'nope']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /No such container: nope/);
});
