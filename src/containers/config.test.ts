import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../util/errors.js';
import {
  logOptions,
  mergeImageConfig,
  normalizeHostConfig,
  parseCreateBody,
  processArgs,
  validateHostConfig,
  validateNamespaceModes,
} from './config.js';

const status400 = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof EngineError && e.status === 400 && re.test(e.message));

test('user Env comes first and overrides the image’s by key', () => {
  const c = mergeImageConfig({ Env: ['A=1', 'PATH=/x'] }, { Env: ['PATH=/usr/bin', 'B=2'] });
  assert.deepEqual(c.Env, ['A=1', 'PATH=/x', 'B=2']);
  assert.deepEqual(mergeImageConfig({ Env: null }, { Env: ['B=2'] }).Env, ['B=2']);
});

test('CMD and ENTRYPOINT follow Docker’s merge rules', () => {
  const image = { Entrypoint: ['/entry'], Cmd: ['default'] };
  assert.deepEqual(processArgs(mergeImageConfig({}, image)), ['/entry', 'default']);
  assert.deepEqual(processArgs(mergeImageConfig({ Cmd: ['x'] }, image)), ['/entry', 'x']);
  // --entrypoint replaces ENTRYPOINT and clears CMD.
  assert.deepEqual(processArgs(mergeImageConfig({ Entrypoint: ['echo'] }, image)), ['echo']);
  // --entrypoint "" leaves just the args.
  assert.deepEqual(processArgs(mergeImageConfig({ Entrypoint: [''], Cmd: ['ls'] }, image)), ['ls']);
  const merged = mergeImageConfig(
    {},
    { WorkingDir: '/w', User: 'u', StopSignal: 'SIGQUIT', Labels: { a: '1' } },
  );
  assert.equal(merged.WorkingDir, '/w');
  assert.equal(merged.User, 'u');
  assert.equal(merged.StopSignal, 'SIGQUIT');
  assert.deepEqual(merged.Labels, { a: '1' });
});

test('resource values are checked with Docker’s messages', () => {
  status400(() => validateHostConfig({ Memory: 1024 * 1024 }), /^Minimum memory limit allowed is 6MB$/);
  status400(
    () => validateHostConfig({ Memory: 100e6, MemorySwap: 50e6 }),
    /^Minimum memoryswap limit should be larger than memory limit, see usage$/,
  );
  status400(
    () => validateHostConfig({ NanoCpus: -1e9 }),
    /^Range of CPUs is from 0.01 to \d+\.00, as there are only/,
  );
  status400(() => validateHostConfig({ RestartPolicy: { Name: 'sometimes' } }), /unknown policy 'sometimes'/);
  status400(
    () => validateHostConfig({ RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } }),
    /maximum retry count/,
  );
  status400(() => validateHostConfig({ AutoRemove: true, RestartPolicy: { Name: 'always' } }), /AutoRemove/);
  status400(() => validateHostConfig({ Memory: 'lots' }), /HostConfig.Memory/);
  status400(() => validateHostConfig({ LogConfig: { Type: 'syslog' } }), /no log driver named 'syslog'/);
  validateHostConfig({
    Memory: 200 * 1024 * 1024,
    MemorySwap: -1,
    RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
  });
});

test('HostConfig gets Docker’s defaults; swap defaults to twice the memory', () => {
  const hc = normalizeHostConfig({ Memory: 64, LogConfig: { Type: '', Config: {} }, PidsLimit: 0 });
  assert.deepEqual(hc.LogConfig, { Type: 'json-file', Config: {} });
  assert.equal(hc.MemorySwap, 128);
  assert.equal(hc.PidsLimit, null);
  assert.equal(hc.ShmSize, 67108864);
  assert.deepEqual(hc.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.equal(hc.NetworkMode, 'default');
});

test('log options: max-size in decimal units, max-file needs max-size', () => {
  assert.deepEqual(logOptions({ LogConfig: { Config: { 'max-size': '10m', 'max-file': '3' } } }), {
    maxSize: 10_000_000,
    maxFiles: 3,
  });
  status400(() => logOptions({ LogConfig: { Config: { 'max-file': '3' } } }), /max-file cannot be set/);
  status400(() => logOptions({ LogConfig: { Config: { 'max-size': 'big' } } }), /max-size/);
});

test('the create body is checked field by field', () => {
  status400(() => parseCreateBody({ Image: 'busybox', Cmd: 5 }), /Cmd/);
  status400(() => parseCreateBody({ Cmd: ['x'] }), /No image specified/);
  const b = parseCreateBody({ Image: 'busybox', name: 'x', HostConfig: { Memory: 0 } });
  assert.equal(b.name, 'x');
  assert.deepEqual(b.hostConfig, { Memory: 0 });
  assert.equal('name' in b.config, false);
});

test('namespace modes: Docker’s values pass, others get its messages', () => {
  for (const hc of [
    {},
    { IpcMode: 'host', PidMode: 'host', UTSMode: 'host' },
    { IpcMode: 'none' },
    { IpcMode: 'private' },
    { IpcMode: 'shareable' },
    { IpcMode: 'container:web', PidMode: 'container:web' },
  ]) {
    validateNamespaceModes({}, hc);
  }
  status400(() => validateNamespaceModes({}, { IpcMode: 'container:' }), /^invalid IPC mode: container:$/);
  status400(() => validateNamespaceModes({}, { PidMode: 'private' }), /^invalid PID mode: private$/);
  status400(() => validateNamespaceModes({}, { UTSMode: 'container:x' }), /^invalid UTS mode: container:x$/);
  status400(
    () => validateNamespaceModes({ Hostname: 'box' }, { UTSMode: 'host' }),
    /^conflicting options: hostname and the UTS mode$/,
  );
  status400(() => validateNamespaceModes({}, { PidMode: 7 }), /HostConfig.PidMode/);
});
