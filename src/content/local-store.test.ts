import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { EngineError } from '../util/errors.js';
import { openContentStore } from './content.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function tempRoot(t: { after(fn: () => void): void }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-content-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  return root;
}

const ingestFiles = (root: string) => fs.readdirSync(path.join(root, 'content', 'ingest'));
const blobFiles = (root: string) => fs.readdirSync(path.join(root, 'content', 'blobs', 'sha256'));

test('ingest stores a stream under its digest and reads it back', async (t) => {
  const root = tempRoot(t);
  const cs = openContentStore(root);
  const data = Buffer.from('hello, blob\n'.repeat(10000));
  const info = await cs.ingest(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), {
    digest: sha(data),
    size: data.length,
  });
  assert.deepEqual(info, { digest: sha(data), size: data.length });
  assert.ok(cs.has(info.digest));
  assert.deepEqual(cs.info(info.digest), info);
  assert.equal(cs.path(info.digest), path.join(root, 'content', 'blobs', 'sha256', sha(data).slice(7)));
  assert.deepEqual(await cs.readBuffer(info.digest), data);
  const chunks: Buffer[] = [];
  for await (const c of cs.read(info.digest)) chunks.push(c as Buffer);
  assert.deepEqual(Buffer.concat(chunks), data);
  assert.deepEqual(cs.list(), [info]);
  assert.deepEqual(ingestFiles(root), []);
});

test('ingest without expectations computes the digest; same content twice is stored once', async (t) => {
  const root = tempRoot(t);
  const cs = openContentStore(root);
  const a = await cs.ingest(Buffer.from('same'));
  const b = await cs.ingest(Readable.from([Buffer.from('sa'), Buffer.from('me')]));
  const c = await cs.ingest(Readable.from([Buffer.from('same')]), { digest: sha('same') });
  assert.deepEqual(a, { digest: sha('same'), size: 4 });
  assert.deepEqual(b, a);
  assert.deepEqual(c, a);
  assert.deepEqual(blobFiles(root), [sha('same').slice(7)]);
  assert.deepEqual(ingestFiles(root), []);
});

test('a wrong digest is refused and leaves nothing behind', async (t) => {
  const root = tempRoot(t);
  const cs = openContentStore(root);
  const claimed = sha('something else');
  await assert.rejects(cs.ingest(Readable.from([Buffer.from('actual')]), { digest: claimed }), (e) => {
    assert.ok(e instanceof EngineError);
    assert.equal(e.status, 400);
    assert.equal(e.message, `digest mismatch: expected ${claimed}, got ${sha('actual')}`);
    return true;
  });
  assert.equal(cs.has(claimed), false);
  assert.equal(cs.has(sha('actual')), false);
  assert.deepEqual(blobFiles(root), []);
  assert.deepEqual(ingestFiles(root), []);
});

test('truncated input is refused with unexpected EOF and leaves nothing behind', async (t) => {
  const root = tempRoot(t);
  const cs = openContentStore(root);
  const full = Buffer.from('0123456789');
  await assert.rejects(
    cs.ingest(Readable.from([full.subarray(0, 6)]), { digest: sha(full), size: full.length }),
    /^EngineError: unexpected EOF: expected 10 bytes, got 6$/,
  );
  assert.deepEqual(blobFiles(root), []);
  assert.deepEqual(ingestFiles(root), []);
});

test('a stream that fails mid-way leaves nothing behind', async (t) => {
  const root = tempRoot(t);
  const cs = openContentStore(root);
  const failing = new Readable({
    read() {
      this.push(Buffer.from('partial'));
      this.destroy(new Error('connection reset'));
    },
  });
  await assert.rejects(cs.ingest(failing), /connection reset/);
  assert.deepEqual(blobFiles(root), []);
  assert.deepEqual(ingestFiles(root), []);
});

test('open sweeps leftovers of an interrupted ingest; delete and missing blobs', async (t) => {
  const root = tempRoot(t);
  const cs = openContentStore(root);
  fs.writeFileSync(path.join(root, 'content', 'ingest', 'crashed'), 'half');
  const info = await cs.ingest(Buffer.from('kept'));
  const again = openContentStore(root);
  assert.deepEqual(ingestFiles(root), []);
  assert.ok(again.has(info.digest));
  again.delete(info.digest);
  assert.equal(again.has(info.digest), false);
  assert.throws(
    () => again.path(info.digest),
    (e) => e instanceof EngineError && e.status === 404,
  );
  assert.throws(
    () => again.read('sha256:nothex'),
    (e) => e instanceof EngineError && e.status === 400,
  );
  assert.equal(again.has('md5:abc'), false);
});
