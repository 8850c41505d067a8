import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFlags } from '../flags.js';
import { COMMAND_SPECS } from '../spec-data.js';
import { buildCreateRequest, parseMount, parseRestart } from './container-config.js';
import { splitCpArg } from './cp.js';
import { runExitCode } from './run.js';
import { EscapeProxy, parseDetachKeys } from './streams.js';

const runFlags = (argv: string[]) => {
  const spec = COMMAND_SPECS.find((c) => c.path === 'container run');
  if (!spec) throw new Error('no run spec');
  return parseFlags(spec.flags, argv, { interspersed: false });
};

test('run flags build the create body docker sends', () => {
  const { flags, args } = runFlags([
    '-it',
    '--rm',
    '--name',
    'web',
    '-e',
    'A=1',
    '-e',
    'HOME_FROM_ENV',
    '-p',
    '127.0.0.1:8080:80',
    '-p',
    '9000-9001:9000-9001/udp',
    '-v',
    '/data',
    '-v',
    '/host:/ctr:ro',
    '-m',
    '200m',
    '--memory-swap',
    '300m',
    '--cpus',
    '1.5',
    '--ulimit',
    'nofile=1024:2048',
    '--device-write-bps',
    '/dev/sda:30mb',
    '--restart',
    'no',
    '--entrypoint',
    '',
    '-u',
    '1000:1000',
    '-w',
    '/tmp',
    '-l',
    'k=v',
    '--init',
    'busybox',
    'sh',
  ]);
  const req = buildCreateRequest(flags, args[0] as string, args.slice(1), { HOME_FROM_ENV: '/root' }, true);
  const b = req.body;
  assert.equal(req.name, 'web');
  assert.equal(b.Image, 'busybox');
  assert.deepEqual(b.Cmd, ['sh']);
  assert.deepEqual(b.Entrypoint, ['']);
  assert.deepEqual(b.Env, ['A=1', 'HOME_FROM_ENV=/root']);
  assert.equal(b.Tty, true);
  assert.equal(b.OpenStdin, true);
  assert.equal(b.StdinOnce, true);
  assert.equal(b.AttachStdin, true);
  assert.deepEqual(b.ExposedPorts, { '80/tcp': {}, '9000/udp': {}, '9001/udp': {} });
  assert.deepEqual(b.Volumes, { '/data': {} });
  assert.deepEqual(b.Labels, { k: 'v' });
  assert.equal(b.User, '1000:1000');
  const h = b.HostConfig;
  assert.deepEqual(h.PortBindings, {
    '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }],
    '9000/udp': [{ HostIp: '', HostPort: '9000' }],
    '9001/udp': [{ HostIp: '', HostPort: '9001' }],
  });
  assert.deepEqual(h.Binds, ['/host:/ctr:ro']);
  assert.equal(h.Memory, 209715200);
  assert.equal(h.MemorySwap, 314572800);
  assert.equal(h.NanoCpus, 1500000000);
  assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
  assert.deepEqual(h.BlkioDeviceWriteBps, [{ Path: '/dev/sda', Rate: 31457280 }]);
  assert.equal(h.AutoRemove, true);
  assert.equal(h.Init, true);
  assert.equal(h.NetworkMode, 'default');
  assert.equal(h.MemorySwappiness, -1);
  assert.deepEqual(h.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
});

test('detached runs attach nothing; bad values are rejected with docker wording', () => {
  const d = runFlags(['-d', 'busybox']);
  const req = buildCreateRequest(d.flags, 'busybox', [], {}, true);
  assert.deepEqual(req.attach, { stdin: false, stdout: false, stderr: false });
  assert.equal(req.body.Cmd, null);
  const rel = runFlags(['-w', 'rel', 'busybox']);
  assert.throws(
    () => buildCreateRequest(rel.flags, 'busybox', [], {}, true),
    /the working directory 'rel' is invalid, it needs to be an absolute path/,
  );
  const both = runFlags(['--rm', '--restart', 'always', 'busybox']);
  assert.throws(
    () => buildCreateRequest(both.flags, 'busybox', [], {}, true),
    /Conflicting options: --restart and --rm/,
  );
  assert.throws(() => parseRestart('sometimes'), /invalid restart policy format: sometimes/);
  assert.deepEqual(parseRestart('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(parseMount('type=bind,src=/a,dst=/b,readonly'), {
    Type: 'bind',
    Source: '/a',
    Target: '/b',
    ReadOnly: true,
  });
  assert.deepEqual(parseMount('type=tmpfs,target=/t,tmpfs-size=1m'), {
    Type: 'tmpfs',
    Target: '/t',
    TmpfsOptions: { SizeBytes: 1048576 },
  });
});

test('exit codes from start errors follow docker run', () => {
  assert.equal(runExitCode('exec: "/x": stat /x: no such file or directory: unknown'), 127);
  assert.equal(runExitCode('exec: "/etc/passwd": permission denied: unknown'), 126);
  assert.equal(runExitCode('Conflict. The container name "/web" is already in use'), 125);
});

test('detach keys', () => {
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [16, 17]);
  assert.deepEqual(parseDetachKeys('ctrl-x,a'), [24, 97]);
  assert.throws(() => parseDetachKeys('ctrl-pp'), /Invalid detach keys/);
  const e = new EscapeProxy([16, 17]);
  assert.deepEqual(e.feed(Buffer.from('ab\x10')), { forward: Buffer.from('ab'), detach: false });
  assert.deepEqual(e.feed(Buffer.from('c')), { forward: Buffer.from('\x10c'), detach: false });
  assert.deepEqual(e.feed(Buffer.from('\x10\x11rest')), { forward: Buffer.from(''), detach: true });
});

test('cp arguments', () => {
  assert.deepEqual(splitCpArg('web:/etc/hosts'), { container: 'web', path: '/etc/hosts' });
  assert.deepEqual(splitCpArg('./a:b'), { container: '', path: './a:b' });
  assert.deepEqual(splitCpArg('/abs'), { container: '', path: '/abs' });
  assert.deepEqual(splitCpArg('-'), { container: '', path: '-' });
});
