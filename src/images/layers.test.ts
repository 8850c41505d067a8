import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { makeImageArchive, seededBytes, sha256, tarBuffer } from '../../test/fixtures/busybox-image.js';
import { openContentStore } from '../content/content.js';
import { openSnapshotStore, type SnapshotStore } from '../snapshots/snapshots.js';
import { openStore, type Store } from '../store/store.js';
import type { ImageService, ImageUse } from './images.js';
import { openImageService } from './images.js';

interface Env {
  dir: string;
  tmp: string;
  store: Store;
  snapshots: SnapshotStore;
  images: ImageService;
  use: Map<string, ImageUse>;
}

function open(t: { after(fn: () => void): void }): Env {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-layers-'));
  const tmp = path.join(dir, 'tmp');
  fs.mkdirSync(tmp);
  const store = openStore(dir);
  const snapshots = openSnapshotStore(dir, store);
  const use = new Map<string, ImageUse>();
  const images = openImageService({
    store,
    content: openContentStore(dir),
    snapshots,
    tmpDir: tmp,
    isImageInUse: (id) => use.get(id) ?? { running: [], stopped: [] },
  });
  t.after(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { dir, tmp, store, snapshots, images, use };
}

const streamOf = (b: Buffer) => Readable.from([b], { objectMode: false });

/** Files under content/ and snapshots/, leaving out what is inside unpacked layers (`<dir>/fs`). */
function storedFiles(env: Env): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!/^snapshots\/[0-9a-f]{10}\/fs$/.test(r)) walk(path.join(d, e.name), r);
      } else out.push(r);
    }
  };
  for (const top of ['content', 'snapshots']) walk(path.join(env.dir, top), top);
  return out.sort();
}

const isTar = (file: string) => {
  const b = Buffer.alloc(262);
  const fd = fs.openSync(file, 'r');
  try {
    return fs.readSync(fd, b, 0, 262, 0) === 262 && b.toString('latin1', 257, 262) === 'ustar';
  } finally {
    fs.closeSync(fd);
  }
};

const dataLayer = (i: number, size = 200_000) =>
  tarBuffer([{ name: `data/layer-${i}.bin`, data: seededBytes(size, `layers-test-${i}`) }]);

async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

for (const [format, gzip] of [
  ['docker', false],
  ['oci', true],
] as const) {
  test(`a loaded 3-layer image (${format}${gzip ? ', gzip' : ''}) keeps exactly one tar per layer`, async (t) => {
    const env = open(t);
    const img = makeImageArchive({ layers: [0, 1, 2].map((i) => dataLayer(i)), tags: ['x:1'], format, gzip });
    await env.images.load(streamOf(img.tar), { quiet: true });
    const files = storedFiles(env);
    const tars = files.filter((f) => isTar(path.join(env.dir, f)));
    assert.equal(tars.length, 3, `tar files: ${tars.join(', ')}`);
    assert.ok(tars.every((f) => /^snapshots\/[0-9a-f]{10}\/layer\.tar$/.test(f)));
    // Besides the layer tars, only the config blob.
    assert.deepEqual(
      files.filter((f) => !tars.includes(f)),
      [`content/blobs/sha256/${img.id.slice(7)}`],
    );
    assert.deepEqual(fs.readdirSync(env.tmp), [], 'the spool is removed');

    // save serves the snapshot store's tars: another store loads the same image ID.
    const saved = await collect(env.images.save(['x:1']));
    const other = open(t);
    await other.images.load(streamOf(saved), { quiet: true });
    assert.equal(other.images.resolve('x:1').id, img.id);
    assert.deepEqual(other.images.inspect('x:1').RootFS.Layers, img.diffIds);
  });
}

test('a gzip layer with a wrong diffID fails in docker words and leaves nothing', async (t) => {
  const env = open(t);
  const layer = dataLayer(7);
  const wrong = sha256('not this layer');
  // An OCI layout whose config names another diffID (its blobs' own digests are all right).
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [wrong] } }),
  );
  const gz = zlib.gzipSync(layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(config),
        size: config.length,
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(gz), size: gz.length },
      ],
    }),
  );
  const blob = (b: Buffer) => ({ name: `blobs/sha256/${sha256(b).slice(7)}`, data: b });
  const tar = tarBuffer([
    blob(gz),
    blob(config),
    blob(manifest),
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    {
      name: 'index.json',
      data: JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: sha256(manifest),
            size: manifest.length,
          },
        ],
      }),
    },
  ]);
  await assert.rejects(env.images.load(streamOf(tar), { quiet: true }), {
    status: 400,
    message: `invalid diffID for layer 0: expected "${wrong}", got "${sha256(layer)}"`,
  });
  assert.deepEqual(storedFiles(env), []);
  assert.deepEqual(env.snapshots.listLayers(), []);
  assert.deepEqual(fs.readdirSync(env.tmp), []);
});

test('import names the layer when its compression is bad or unsupported', async (t) => {
  const env = open(t);
  const gz = zlib.gzipSync(dataLayer(1));
  await assert.rejects(env.images.import(streamOf(gz.subarray(0, gz.length >> 1))), {
    status: 400,
    message: 'layer import: unexpected end of file',
  });
  const zstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(100)]);
  await assert.rejects(env.images.import(streamOf(zstd)), {
    status: 400,
    message: 'layer import: zstd-compressed layers are not supported',
  });
  assert.deepEqual(env.snapshots.listLayers(), []);
  // A gzip'd rootfs imports; its diffID is that of the uncompressed tar.
  const id = await env.images.import(streamOf(gz), { repo: 'imp:1' });
  assert.deepEqual(env.images.inspect(id).RootFS.Layers, [sha256(dataLayer(1))]);
  assert.equal(storedFiles(env).filter((f) => isTar(path.join(env.dir, f))).length, 1);
});

test('rmi -f of an image a container stands on keeps its layers until the container is gone', async (t) => {
  const env = open(t);
  const img = makeImageArchive({ layers: [dataLayer(1), dataLayer(2)], tags: ['x:1'] });
  await env.images.load(streamOf(img.tar), { quiet: true });
  const rec = env.images.resolve('x:1');
  env.snapshots.prepare('c1', rec.topChainId);
  env.use.set(rec.id, { running: [], stopped: ['c1'.padEnd(64, '0')] });
  assert.deepEqual(await env.images.remove('x:1', { force: true }), [
    { Untagged: 'x:1' },
    { Deleted: rec.id },
  ]);
  env.use.delete(rec.id);
  assert.equal(env.snapshots.listLayers().length, 2);
  assert.deepEqual(await env.images.releaseUnusedLayers(), [], 'the container still stands on them');
  await env.snapshots.remove('c1');
  assert.deepEqual(await env.images.releaseUnusedLayers(), [...rec.chainIds].reverse());
  assert.deepEqual(env.snapshots.listLayers(), []);
  assert.deepEqual(storedFiles(env), []);
});

test('rmi removes every layer no other image needs; prune sweeps layers left behind', async (t) => {
  const env = open(t);
  const a = makeImageArchive({ layers: [dataLayer(1), dataLayer(2)], tags: ['a:1'] });
  const b = makeImageArchive({ layers: [dataLayer(1), dataLayer(3)], tags: ['b:1'] });
  await env.images.load(streamOf(a.tar), { quiet: true });
  await env.images.load(streamOf(b.tar), { quiet: true });
  const ra = env.images.resolve('a:1');
  const rb = env.images.resolve('b:1');
  assert.equal(env.snapshots.listLayers().length, 3);
  // The shared bottom layer stays for b.
  assert.deepEqual(await env.images.remove('a:1'), [
    { Untagged: 'a:1' },
    { Deleted: ra.id },
    { Deleted: ra.chainIds[1]! },
  ]);
  assert.equal(env.snapshots.listLayers().length, 2);
  // b removed while a container stands on it: its layers stay; once the container is gone,
  // prune finds them with no image and deletes them.
  env.snapshots.prepare('c2', rb.topChainId);
  await env.images.remove('b:1', { force: true });
  assert.equal(env.snapshots.listLayers().length, 2);
  await env.snapshots.remove('c2');
  const report = await env.images.prune();
  assert.equal(report.ImagesDeleted, null);
  assert.ok(report.SpaceReclaimed >= 400_000, `reclaimed ${report.SpaceReclaimed}`);
  assert.deepEqual(env.snapshots.listLayers(), []);
  assert.deepEqual(storedFiles(env), []);
});
