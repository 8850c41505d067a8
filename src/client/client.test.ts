import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import { ApiError, ConnectError, Demuxer, DockerClient, demux, jsonLines, parseHost } from './client.js';

function frame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

async function withServer(
  handler: http.RequestListener,
  fn: (sock: string, server: http.Server) => Promise<void>,
): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-client-'));
  const sock = path.join(dir, 'd.sock');
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    await fn(sock, server);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('negotiates down to the server version and maps error bodies', async () => {
  const seen: string[] = [];
  await withServer(
    (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === '/_ping') {
        res.writeHead(200, { 'Api-Version': '1.40', Ostype: 'linux' });
        res.end();
      } else if (req.url?.endsWith('/containers/nope/json')) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end('{"message":"No such container: nope"}\n');
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"Version":"x"}');
      }
    },
    async (sock) => {
      const c = new DockerClient(`unix://${sock}`);
      try {
        assert.deepEqual(await c.get('/version'), { Version: 'x' });
        assert.equal(c.apiVersion, '1.40');
        await assert.rejects(c.get('/containers/nope/json'), new ApiError(404, 'No such container: nope'));
        assert.deepEqual(seen, ['HEAD /_ping', 'GET /v1.40/version', 'GET /v1.40/containers/nope/json']);
      } finally {
        c.close();
      }
    },
  );
});

test('caps the version at 1.41 and sends queries like the docker CLI', async () => {
  await withServer(
    (req, res) => {
      if (req.url === '/_ping') res.writeHead(200, { 'Api-Version': '1.47' });
      else res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(req.url === '/_ping' ? '' : JSON.stringify(req.url));
    },
    async (sock) => {
      const c = new DockerClient(sock);
      try {
        const url = await c.get<string>('/images/json', {
          all: true,
          filters: '{"a":{"b":true}}',
          skip: undefined,
          names: ['x', 'y'],
        });
        assert.equal(
          url,
          '/v1.41/images/json?all=1&filters=%7B%22a%22%3A%7B%22b%22%3Atrue%7D%7D&names=x&names=y',
        );
      } finally {
        c.close();
      }
    },
  );
});

test('hijack returns the raw socket after 101 with early bytes kept', async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200, { 'Api-Version': '1.41' });
      res.end();
    },
    async (sock, server) => {
      server.on('upgrade', (req, socket) => {
        assert.equal(req.headers.upgrade, 'tcp');
        socket.write(
          'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
        );
        socket.write(frame(1, 'early\n'));
        socket.on('data', (d: Buffer) => socket.write(frame(2, d.toString())));
        socket.on('end', () => socket.end());
      });
      const c = new DockerClient(`unix://${sock}`);
      try {
        const s = await c.hijack('/containers/x/attach', { stream: true, stdin: true });
        s.write('ping');
        const out = new PassThrough();
        const err = new PassThrough();
        const chunks = { out: '', err: '' };
        out.on('data', (d: Buffer) => {
          chunks.out += d.toString();
        });
        err.on('data', (d: Buffer) => {
          chunks.err += d.toString();
          s.end();
        });
        await demux(s, out, err);
        assert.deepEqual(chunks, { out: 'early\n', err: 'ping' });
      } finally {
        c.close();
      }
    },
  );
});

test('a missing socket is a ConnectError naming the host', async () => {
  const c = new DockerClient('unix:///nonexistent/berth.sock');
  await assert.rejects(
    c.negotiate(),
    (e: unknown) =>
      e instanceof ConnectError &&
      /Cannot connect to the Berth daemon at unix:\/\/\/nonexistent\/berth.sock/.test(e.message),
  );
  c.close();
});

test('demuxer reassembles frames split across reads', () => {
  const got: [number, string][] = [];
  const d = new Demuxer((k, p) => got.push([k, p.toString()]));
  const all = Buffer.concat([frame(1, 'hello '), frame(2, 'oops'), frame(1, 'world')]);
  for (let i = 0; i < all.length; i += 3) d.push(all.subarray(i, i + 3));
  assert.deepEqual(got, [
    [1, 'hello '],
    [2, 'oops'],
    [1, 'world'],
  ]);
  assert.equal(d.pending, 0);
});

test('jsonLines splits messages across chunks', async () => {
  const src = Readable.from([Buffer.from('{"a":1}\r\n{"b"'), Buffer.from(':2}\n'), Buffer.from('{"c":3}')]);
  const got: unknown[] = [];
  for await (const m of jsonLines(src)) got.push(m);
  assert.deepEqual(got, [{ a: 1 }, { b: 2 }, { c: 3 }]);
});

test('host syntax', () => {
  assert.deepEqual(parseHost('unix:///run/berth/berth.sock'), {
    kind: 'unix',
    path: '/run/berth/berth.sock',
  });
  assert.deepEqual(parseHost('tcp://127.0.0.1:2375'), { kind: 'tcp', hostname: '127.0.0.1', port: 2375 });
  assert.throws(() => parseHost('ftp://x'), /unable to parse docker host/);
  assert.equal(
    DockerClient.fromEnv(undefined, { DOCKER_HOST: 'unix:///d', BERTH_HOST: 'unix:///b' }).host,
    'unix:///b',
  );
  assert.equal(DockerClient.fromEnv('unix:///h', { BERTH_HOST: 'unix:///b' }).host, 'unix:///h');
  assert.equal(DockerClient.fromEnv(undefined, {}).host, 'unix:///run/berth/berth.sock');
});
