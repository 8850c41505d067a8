// berth against an isolated berthd, side by side with the real docker CLI on the same daemon:
// the image and container listings must print the same bytes, and the container commands must
// behave (output, exit codes) like docker's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { busyboxRootfsTar } from '../fixtures/busybox-image.js';
import { BERTH, berth, type CliResult, docker, useDaemon } from '../harness.js';

const d = useDaemon((daemon) => {
  const r = berth(daemon, ['import', '-c', 'CMD ["sh"]', '-', 'busybox:latest'], {
    input: busyboxRootfsTar(),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(berth(daemon, ['tag', 'busybox', 'second/name:v1']).code, 0);
});

function ok(args: string[], input?: string | Buffer): string {
  const r = berth(d, args, { input });
  assert.equal(r.code, 0, `berth ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/**
 * Same stdout, stderr and exit code from berth and docker. Relative times ("1 second ago") may tick
 * between the two runs: after two exact tries, those phrases (and the column padding that follows
 * their length) are compared loosely, everything else still exactly.
 */
function same(args: string[]): CliResult {
  const strip = (r: CliResult, loose: boolean) => {
    const relax = (t: string) =>
      loose
        ? t
            .replace(
              /(Less than a second|About a minute|About an hour|\d+ (second|minute|hour)s?) ago/g,
              'AGO',
            )
            .replace(/ {2,}/g, '  ')
        : t;
    return { code: r.code, stdout: relax(r.stdout), stderr: relax(r.stderr.replaceAll('docker', 'berth')) };
  };
  for (let attempt = 0; ; attempt++) {
    const b = berth(d, args);
    const k = docker(d, args);
    const loose = attempt === 2;
    if (JSON.stringify(strip(b, loose)) === JSON.stringify(strip(k, loose)) || loose) {
      assert.deepEqual(strip(b, loose), strip(k, loose), `berth ${args.join(' ')}`);
      return b;
    }
  }
}

describe('image commands print what docker prints', () => {
  for (const args of [
    ['images'],
    ['images', '-q'],
    ['images', '--no-trunc'],
    ['images', '--digests'],
    ['images', 'busybox'],
    ['images', '--filter', 'dangling=true'],
    ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}'],
    ['images', '--format', 'table {{.ID}}\\t{{.Repository}}'],
    ['history', 'busybox'],
    ['history', '--no-trunc', 'busybox'],
    ['history', '-q', 'busybox'],
    ['history', '-H=false', 'busybox'],
    ['image', 'inspect', 'busybox'],
    ['image', 'inspect', '-f', '{{.Id}} {{.Config.Cmd}} {{.Os}}', 'busybox'],
    ['inspect', '--format', '{{json .Config.Cmd}}', 'busybox'],
    ['inspect', 'no-such-thing'],
    ['rmi', 'no-such-image'],
    ['system', 'df'],
  ]) {
    test(`berth ${args.join(' ')}`, () => {
      same(args);
    });
  }
});

describe('containers', () => {
  test('run --rm returns the exit code and keeps stdout and stderr apart', () => {
    const r = berth(d, ['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
    assert.equal(ok(['ps', '-aq']), '');
  });

  test('run -i feeds piped stdin', () => {
    assert.equal(ok(['run', '--rm', '-i', 'busybox', 'cat'], 'piped\n'), 'piped\n');
  });

  test('run of a missing command exits 127 with docker wording', () => {
    const r = berth(d, ['run', '--rm', 'busybox', '/no-such-binary']);
    assert.equal(r.code, 127);
    assert.match(
      r.stderr,
      /^berth: Error response from daemon: .*no such file or directory.*\n\nRun 'berth run --help' for more information\n$/s,
    );
  });

  test('detached container: ps, logs, exec, top, inspect, cp, stop, rm', () => {
    const id = ok([
      'run',
      '-d',
      '--name',
      'web',
      '-l',
      'tier=front',
      'busybox',
      'sh',
      '-c',
      'echo ready; sleep 1000',
    ]).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    try {
      same(['ps']);
      same(['ps', '-a', '--no-trunc']);
      same(['ps', '--format', '{{.Names}}\\t{{.Label "tier"}}\\t{{.Labels}}\\t{{.State}}']);
      same(['inspect', '-f', '{{.Name}} {{.State.Status}} {{.Config.Labels}}', 'web']);
      same(['top', 'web']);
      for (let i = 0; i < 50 && !ok(['logs', 'web']).includes('ready'); i++) spawnSync('sleep', ['0.1']);
      assert.equal(ok(['logs', 'web']), 'ready\n');
      const e = berth(d, ['exec', 'web', 'sh', '-c', 'echo in; exit 4']);
      assert.deepEqual([e.code, e.stdout], [4, 'in\n']);

      const src = path.join(d.dir, 'cp-src');
      fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
      fs.writeFileSync(path.join(src, 'sub', 'f.txt'), 'hello cp\n');
      ok(['cp', src, 'web:/tmp/']);
      assert.equal(ok(['exec', 'web', 'cat', '/tmp/cp-src/sub/f.txt']), 'hello cp\n');
      ok(['cp', `${src}/sub/f.txt`, 'web:/tmp/renamed.txt']);
      assert.equal(ok(['exec', 'web', 'cat', '/tmp/renamed.txt']), 'hello cp\n');
      const back = path.join(d.dir, 'cp-back');
      ok(['cp', 'web:/tmp/cp-src', back]);
      assert.equal(fs.readFileSync(path.join(back, 'sub', 'f.txt'), 'utf8'), 'hello cp\n');

      assert.equal(ok(['stop', '-t', '1', 'web']), 'web\n');
      assert.match(ok(['ps', '-a', '--format', '{{.Status}}']), /^Exited \(\d+\)/);
    } finally {
      berth(d, ['rm', '-f', 'web']);
    }
    assert.equal(ok(['ps', '-aq']), '');
  });

  test('errors name the container and exit 1', () => {
    const r = berth(d, ['stop', 'nope']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error response from daemon: No such container: nope\n');
  });
});

describe('command line', () => {
  test('usage errors match docker', () => {
    const runs: [string[], number][] = [
      [['run', '--bogus', 'x'], 125],
      [['ps', '-n', 'x'], 125],
      [['rmi'], 1],
      [['tag', 'a'], 1],
      [['ps', 'extra'], 1],
      [['image', 'nope'], 1],
    ];
    for (const [args, code] of runs) {
      const b = berth(d, args);
      const k = docker(d, args);
      assert.equal(b.code, code, args.join(' '));
      assert.equal(b.code, k.code, args.join(' '));
      assert.equal(b.stderr, k.stderr.replaceAll('docker', 'berth'), args.join(' '));
    }
  });

  test('no daemon: says how to start one', () => {
    const r = spawnSync(process.execPath, [BERTH, 'ps'], {
      env: { ...process.env, BERTH_HOST: '', DOCKER_HOST: `unix://${path.join(d.dir, 'absent.sock')}` },
      encoding: 'utf8',
    });
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^Cannot connect to the Berth daemon at unix:\/\/.*absent\.sock\. Is berthd running\? Start it with: sudo berthd &\n$/,
    );
  });

  test('save | load round trip', () => {
    const tar = path.join(d.dir, 'bb.tar');
    ok(['save', '-o', tar, 'busybox']);
    assert.ok(fs.statSync(tar).size > 100_000);
    assert.match(ok(['load', '-i', tar]), /Loaded image: busybox:latest/);
  });
});
