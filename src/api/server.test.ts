import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { conflict } from '../util/errors.js';
import { ApiServer, splitVersion } from './server.js';

let dir: string;
let socket: string;
const server = new ApiServer();

function request(
  method: string,
  p: string,
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: p }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-api-'));
  socket = path.join(dir, 'api.sock');
  server.add('GET', '/things/:id/json', (req, res) => res.json(200, { id: req.params[0], v: req.version }));
  server.add('POST', '/things/:id/echo', async (req, res) => res.json(200, (await req.json()) ?? null));
  server.add('DELETE', '/things/:id', () => {
    throw conflict('thing is in use');
  });
  server.add('GET', /^\/images\/(.+)\/json$/, (req, res) => res.json(200, { name: req.params[0] }));
  server.add('POST', '/things/:id/attach', (req, res) => {
    const conn = res.hijack();
    conn.output.write(`upgrade=${req.upgrade}\n`);
    conn.input.on('data', (d: Buffer) => conn.output.write(d));
    conn.input.on('end', () => conn.end());
  });
  await server.listen(`unix://${socket}`);
});

after(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the socket is created with mode 660', () => {
  assert.equal(fs.statSync(socket).mode & 0o777, 0o660);
});

test('versioned and unversioned paths reach the same route; Docker headers on every answer', async () => {
  const a = await request('GET', '/v1.41/things/abc/json');
  const b = await request('GET', '/things/abc/json');
  assert.deepEqual(JSON.parse(a.body), { id: 'abc', v: '1.41' });
  assert.deepEqual(JSON.parse(b.body), { id: 'abc', v: '1.41' });
  assert.equal(a.headers['api-version'], '1.41');
  assert.equal(a.headers.ostype, 'linux');
  assert.equal(a.headers['content-type'], 'application/json');
  const old = await request('GET', '/v1.24/things/x/json');
  assert.equal(JSON.parse(old.body).v, '1.24');
});

test("a too-new API version is a 400 with Docker's message", async () => {
  const r = await request('GET', '/v1.44/things/abc/json');
  assert.equal(r.status, 400);
  assert.equal(
    JSON.parse(r.body).message,
    'client version 1.44 is too new. Maximum supported API version is 1.41',
  );
  assert.throws(() => splitVersion('/v1.5/x'), /too old/);
});

test('unknown endpoints are 404 with a message, errors carry their status', async () => {
  const r = await request('GET', '/v1.41/nothing/here');
  assert.equal(r.status, 404);
  assert.equal(JSON.parse(r.body).message, 'page not found');
  const d = await request('DELETE', '/things/abc');
  assert.equal(d.status, 409);
  assert.deepEqual(JSON.parse(d.body), { message: 'thing is in use' });
});

test('bad JSON bodies are a 400 naming the problem', async () => {
  const r = await request('POST', '/things/a/echo', '{"x":');
  assert.equal(r.status, 400);
  assert.match(JSON.parse(r.body).message, /invalid JSON in request body/);
});

test('image names with slashes and colons route by suffix', async () => {
  const r = await request('GET', '/v1.41/images/127.0.0.1:5000/ar/x:v1/json');
  assert.equal(JSON.parse(r.body).name, '127.0.0.1:5000/ar/x:v1');
});

test('hijack answers 101 UPGRADED and carries raw bytes both ways, with half-close', async () => {
  const sock = net.connect(socket);
  await new Promise((r) => sock.once('connect', r));
  sock.write(
    'POST /v1.41/things/a/attach HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n',
  );
  let got = '';
  sock.on('data', (d) => {
    got += d;
    if (got.includes('upgrade=true\n') && !got.includes('ping')) {
      sock.end('ping');
    }
  });
  await new Promise((r) => sock.once('end', r));
  assert.match(got, /^HTTP\/1\.1 101 UPGRADED\r\n/);
  assert.match(got, /Content-Type: application\/vnd\.docker\.raw-stream/);
  assert.ok(got.endsWith('upgrade=true\nping'), got);
});

test('hijack without Upgrade answers 200 with the raw-stream content type (dockerode)', async () => {
  const r = await request('POST', '/things/a/attach', 'hello');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/vnd.docker.raw-stream');
  assert.equal(r.body, 'upgrade=false\nhello');
});
