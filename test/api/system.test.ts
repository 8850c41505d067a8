// The daemon's system endpoints through the real docker CLI and raw HTTP.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { BERTHD, docker, request, useDaemon } from '../harness.js';

const d = useDaemon();
const raw = (method: string, p: string) => request(d, method, p);

test('docker version negotiates down to API 1.41', () => {
  const r = docker(d, [
    'version',
    '--format',
    '{{.Server.APIVersion}} {{.Client.APIVersion}} {{.Server.Os}}',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '1.41 1.41 linux');
});

test('docker info shows the engine, its storage driver and counts', () => {
  const r = docker(d, [
    'info',
    '--format',
    '{{.Driver}} {{.Images}} {{.Containers}} {{.DockerRootDir}} {{.Swarm.LocalNodeState}}',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), `overlay2 0 0 ${d.root} inactive`);
  const full = docker(d, ['info']);
  assert.equal(full.code, 0, full.stderr);
  assert.match(full.stdout, /Server Version: 0\.1\.0/);
});

test('HEAD and GET /_ping answer with the API version header', async () => {
  const head = await raw('HEAD', '/_ping');
  assert.equal(head.status, 200);
  assert.equal(head.headers['api-version'], '1.41');
  const get = await raw('GET', '/_ping');
  assert.equal(get.body, 'OK');
});

test('unknown endpoints answer 404 with a JSON message', async () => {
  const r = await raw('GET', '/v1.41/no/such/thing');
  assert.equal(r.status, 404);
  assert.deepEqual(JSON.parse(r.body), { message: 'page not found' });
});

test('the API socket is mode 660', () => {
  assert.equal(fs.statSync(d.socket).mode & 0o777, 0o660);
});

test('a second berthd on the same exec-root refuses to start and names the first', () => {
  const r = spawnSync(
    process.execPath,
    [BERTHD, '--root', d.root, '--exec-root', d.execRoot, '-H', `unix://${d.dir}/other.sock`],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /berthd is already running \(pid \d+\)/);
});

test('berthd rejects a bad flag with a clear message and exit 125', () => {
  const r = spawnSync(process.execPath, [BERTHD, '--bogus'], { encoding: 'utf8' });
  assert.equal(r.status, 125);
  assert.match(r.stderr, /unknown flag: --bogus/);
});
