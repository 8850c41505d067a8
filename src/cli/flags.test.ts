import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlagError, parseFlags } from './flags.js';
import { COMMAND_SPECS } from './spec-data.js';

const spec = (path: string) => {
  const s = COMMAND_SPECS.find((c) => c.path === path);
  if (!s) throw new Error(path);
  return s.flags;
};

test('run: combined shorts, repeated flags, stop at the image', () => {
  const r = parseFlags(
    spec('container run'),
    ['-dit', '-e', 'A=1', '--env=B=2', '-p8080:80', '--rm=false', 'busybox', 'sh', '-c', 'echo -e x'],
    {
      interspersed: false,
    },
  );
  assert.equal(r.flags.bool('detach'), true);
  assert.equal(r.flags.bool('interactive'), true);
  assert.equal(r.flags.bool('tty'), true);
  assert.deepEqual(r.flags.list('env'), ['A=1', 'B=2']);
  assert.deepEqual(r.flags.list('publish'), ['8080:80']);
  assert.equal(r.flags.bool('rm'), false);
  assert.equal(r.flags.changed('rm'), true);
  assert.deepEqual(r.args, ['busybox', 'sh', '-c', 'echo -e x']);
  // defaults from docker's help text
  assert.equal(r.flags.bool('sig-proxy'), true);
  assert.equal(r.flags.string('pull'), 'missing');
});

test('interspersed flags and the -- terminator', () => {
  const r = parseFlags(spec('container rm'), ['a', '-f', 'b', '--', '-v']);
  assert.equal(r.flags.bool('force'), true);
  assert.deepEqual(r.args, ['a', 'b', '-v']);
});

test('errors read like pflag', () => {
  assert.throws(
    () => parseFlags(spec('container run'), ['--bogus', 'x']),
    new FlagError('unknown flag: --bogus'),
  );
  assert.throws(
    () => parseFlags(spec('container ls'), ['-x']),
    new FlagError("unknown shorthand flag: 'x' in -x"),
  );
  assert.throws(
    () => parseFlags(spec('container ls'), ['-n']),
    new FlagError("flag needs an argument: 'n' in -n"),
  );
  assert.throws(
    () => parseFlags(spec('container ls'), ['--format']),
    new FlagError('flag needs an argument: --format'),
  );
  assert.throws(
    () => parseFlags(spec('container ls'), ['-n', 'x']),
    new FlagError(
      'invalid argument "x" for "-n, --last" flag: strconv.ParseInt: parsing "x": invalid syntax',
    ),
  );
  assert.throws(
    () => parseFlags(spec('container run'), ['-m', '10q', 'busybox']),
    new FlagError(`invalid argument "10q" for "-m, --memory" flag: invalid suffix: 'q'`),
  );
  assert.throws(
    () => parseFlags(spec('container ls'), ['--all=foo']),
    new FlagError(
      'invalid argument "foo" for "-a, --all" flag: strconv.ParseBool: parsing "foo": invalid syntax',
    ),
  );
});

test('typed values', () => {
  const r = parseFlags(spec('container run'), [
    '-m',
    '200m',
    '--memory-swap',
    '-1',
    '--cpus',
    '1.5',
    '--health-interval',
    '1m30s',
    'x',
  ]);
  assert.equal(r.flags.bytes('memory'), 209715200);
  assert.equal(r.flags.bytes('memory-swap'), -1);
  assert.equal(r.flags.float('cpus'), 1.5);
  assert.equal(r.flags.duration('health-interval'), 90000);
});

test('help flags', () => {
  assert.equal(parseFlags(spec('container ls'), ['-h']).help, true);
  assert.equal(parseFlags(spec('container ls'), ['--help']).help, true);
  // run uses -h for the hostname, like docker
  const r = parseFlags(spec('container run'), ['-h', 'box', 'busybox'], { interspersed: false });
  assert.equal(r.help, false);
  assert.equal(r.flags.string('hostname'), 'box');
  assert.equal(parseFlags(spec('container run'), ['--help']).help, true);
});
