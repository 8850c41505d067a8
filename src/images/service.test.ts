import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  makeBusyboxImage,
  makeImageArchive,
  seededBytes,
  tarBuffer,
} from '../../test/fixtures/busybox-image.js';
import { openContentStore } from '../content/content.js';
import { openSnapshotStore } from '../snapshots/snapshots.js';
import { openStore, type Store } from '../store/store.js';
import type { ImageService, ImageUse, ProgressMessage } from './images.js';
import { openImageService } from './images.js';

interface Env {
  dir: string;
  store: Store;
  images: ImageService;
  events: { type: string; action: string; id: string; name: string | undefined }[];
  use: Map<string, ImageUse>;
}

function open(): Env {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-images-'));
  const store = openStore(dir);
  const content = openContentStore(dir);
  const snapshots = openSnapshotStore(dir, store);
  const events: Env['events'] = [];
  const use = new Map<string, ImageUse>();
  const images = openImageService({
    store,
    content,
    snapshots,
    events: { publish: (type, action, id, attrs) => events.push({ type, action, id, name: attrs?.name }) },
    isImageInUse: (id) => use.get(id) ?? { running: [], stopped: [] },
  });
  return { dir, store, images, events, use };
}

function close(env: Env): void {
  env.store.close();
  fs.rmSync(env.dir, { recursive: true, force: true });
}

async function load(env: Env, tar: Buffer, quiet = true): Promise<ProgressMessage[]> {
  const msgs: ProgressMessage[] = [];
  await env.images.load(Readable.from([tar], { objectMode: false }), {
    quiet,
    progress: (m) => msgs.push(m),
  });
  return msgs;
}

/** Everything a user could see of the store, to compare before and after a failure. */
function snapshotOf(env: Env): string {
  const walk = (d: string): string[] =>
    fs.existsSync(d)
      ? fs
          .readdirSync(d, { withFileTypes: true })
          .flatMap((e) =>
            e.isDirectory()
              ? [`${e.name}/`, ...walk(path.join(d, e.name)).map((x) => `${e.name}/${x}`)]
              : [e.name],
          )
      : [];
  return JSON.stringify({
    list: env.images.list({ all: true }),
    blobs: walk(path.join(env.dir, 'content', 'blobs')),
    snapshots: fs.existsSync(path.join(env.dir, 'snapshots'))
      ? fs.readdirSync(path.join(env.dir, 'snapshots')).sort()
      : [],
  });
}

describe('image service', () => {
  let env: Env;
  const busybox = makeBusyboxImage();
  before(() => {
    env = open();
  });
  after(() => close(env));

  test('load a docker-archive: tags, list, inspect, progress', async () => {
    const msgs = await load(env, busybox.tar, false);
    assert.ok(
      msgs.some((m) => m.status === 'Loading layer' && m.id?.length === 12 && m.progressDetail?.total),
    );
    assert.deepEqual(
      msgs.filter((m) => m.stream),
      [{ stream: 'Loaded image: busybox:latest\n' }],
    );
    const list = env.images.list();
    assert.equal(list.length, 1);
    assert.equal(list[0]!.Id, busybox.id);
    assert.deepEqual(list[0]!.RepoTags, ['busybox:latest']);
    assert.equal(list[0]!.Created, 1704067200);
    assert.ok(list[0]!.Size > 500_000);
    const ins = env.images.inspect('busybox');
    assert.equal(ins.Id, busybox.id);
    assert.deepEqual(ins.Config?.Cmd, ['sh']);
    assert.deepEqual(ins.RootFS.Layers, busybox.diffIds);
    assert.equal(ins.GraphDriver.Name, 'overlay2');
    assert.ok(fs.existsSync(path.join(ins.GraphDriver.Data!.UpperDir!, 'bin/busybox')));
    assert.ok(env.events.some((e) => e.action === 'load' && e.id === busybox.id));
  });

  test('resolve by name, familiar name, full and short ID', () => {
    for (const r of [
      'busybox',
      'busybox:latest',
      'docker.io/library/busybox:latest',
      'library/busybox',
      busybox.id,
      busybox.id.slice(7),
      busybox.id.slice(7, 19),
      busybox.id.slice(0, 14),
    ]) {
      assert.equal(env.images.resolve(r).id, busybox.id, r);
    }
    assert.throws(() => env.images.resolve('nope'), { status: 404, message: 'No such image: nope:latest' });
    assert.throws(() => env.images.resolve('Busybox'), {
      status: 400,
      message: 'invalid reference format: repository name (library/Busybox) must be lowercase',
    });
  });

  test('tag, list filters, untag, remove by ID conflict', async () => {
    assert.equal(env.images.tag('busybox', 'docker.io/library/bb', 'v1'), 'bb:v1');
    env.images.tag(busybox.id, '127.0.0.1:5000/ar/x:v2');
    assert.deepEqual(env.images.list()[0]!.RepoTags, ['127.0.0.1:5000/ar/x:v2', 'bb:v1', 'busybox:latest']);
    const f = (k: string, v: string) => env.images.list({ filters: new Map([[k, [v]]]) });
    assert.deepEqual(f('reference', 'bb')[0]!.RepoTags, ['bb:v1']);
    assert.deepEqual(f('reference', 'busybox:*')[0]!.RepoTags, ['busybox:latest']);
    assert.equal(f('reference', 'nothing*').length, 0);
    assert.equal(f('dangling', 'true').length, 0);
    assert.throws(() => f('bogus', 'x'), { status: 400, message: "invalid filter 'bogus'" });
    await assert.rejects(env.images.remove(busybox.id.slice(7, 19)), {
      status: 409,
      message: `conflict: unable to delete ${busybox.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
    });
    assert.deepEqual(await env.images.remove('bb:v1'), [{ Untagged: 'bb:v1' }]);
    assert.deepEqual(await env.images.remove('127.0.0.1:5000/ar/x:v2'), [
      { Untagged: '127.0.0.1:5000/ar/x:v2' },
    ]);
  });

  test('image in use: rmi refuses, -f on running refuses', async () => {
    env.use.set(busybox.id, { running: ['c'.repeat(64)], stopped: [] });
    await assert.rejects(env.images.remove('busybox'), {
      status: 409,
      message: `conflict: unable to remove repository reference "busybox" (must force) - container cccccccccccc is using its referenced image ${busybox.id.slice(7, 19)}`,
    });
    await assert.rejects(env.images.remove(busybox.id, { force: true }), {
      status: 409,
      message: `conflict: unable to delete ${busybox.id.slice(7, 19)} (cannot be forced) - image is being used by running container cccccccccccc`,
    });
    env.use.delete(busybox.id);
  });

  test('history', () => {
    const h = env.images.history('busybox');
    assert.equal(h.length, 1);
    assert.equal(h[0]!.Id, busybox.id);
    assert.equal(h[0]!.CreatedBy, 'berth test fixture layer 0');
    assert.deepEqual(h[0]!.Tags, ['busybox:latest']);
  });

  test('save round trip keeps the ID, then rmi deletes image and layer', async () => {
    const chunks: Buffer[] = [];
    for await (const c of env.images.save(['busybox'])) chunks.push(c as Buffer);
    const saved = Buffer.concat(chunks);
    const other = open();
    try {
      const msgs = await load(other, saved);
      assert.deepEqual(msgs, [{ stream: 'Loaded image: busybox:latest\n' }]);
      assert.equal(other.images.resolve('busybox').id, busybox.id);
    } finally {
      close(other);
    }
    const items = await env.images.remove('busybox');
    assert.deepEqual(items, [
      { Untagged: 'busybox:latest' },
      { Deleted: busybox.id },
      { Deleted: busybox.diffIds[0]! },
    ]);
    assert.equal(env.images.count(), 0);
  });

  test('OCI layout (gzip layers) and Docker 25 archives load with the same ID', async () => {
    for (const format of ['oci', 'docker25'] as const) {
      const e = open();
      try {
        const img = makeBusyboxImage({ format, gzip: true, layers: 2, layerSize: 10_000 });
        await load(e, img.tar);
        assert.equal(e.images.resolve('busybox:latest').id, img.id, format);
        assert.equal(e.images.inspect('busybox').RootFS.Layers.length, 2);
      } finally {
        close(e);
      }
    }
  });

  test('OCI index with a manifest list picks linux/amd64; ref.name tags', async () => {
    const e = open();
    try {
      const img = makeBusyboxImage({ format: 'oci', tags: [] });
      const blobs = new Map<string, Buffer>();
      const add = (b: Buffer) => {
        const d = `sha256:${createHash('sha256').update(b).digest('hex')}`;
        blobs.set(d, b);
        return { digest: d, size: b.length };
      };
      // Reuse the fixture's blobs, then wrap its manifest in a list next to an arm64 entry.
      const src = makeBusyboxImage({ format: 'oci', tags: [] });
      const index = JSON.parse(extractFile(src.tar, 'index.json').toString()) as {
        manifests: { digest: string }[];
      };
      const manifestDigest = index.manifests[0]!.digest;
      for (const name of listNames(src.tar).filter((n) => n.startsWith('blobs/sha256/'))) {
        add(extractFile(src.tar, name));
      }
      const bogus = add(
        Buffer.from('{"schemaVersion":2,"config":{"digest":"sha256:' + '0'.repeat(64) + '"},"layers":[]}'),
      );
      const list = add(
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.index.v1+json',
            manifests: [
              {
                mediaType: 'application/vnd.oci.image.manifest.v1+json',
                ...bogus,
                platform: { os: 'linux', architecture: 'arm64' },
              },
              {
                mediaType: 'application/vnd.oci.image.manifest.v1+json',
                digest: manifestDigest,
                size: blobs.get(manifestDigest)!.length,
                platform: { os: 'linux', architecture: 'amd64' },
              },
            ],
          }),
        ),
      );
      const tar = tarBuffer([
        ...[...blobs].map(([d, b]) => ({ name: `blobs/sha256/${d.slice(7)}`, data: b })),
        { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
        {
          name: 'index.json',
          data: JSON.stringify({
            schemaVersion: 2,
            manifests: [
              {
                mediaType: 'application/vnd.oci.image.index.v1+json',
                ...list,
                annotations: { 'org.opencontainers.image.ref.name': 'example.com/multi:v1' },
              },
            ],
          }),
        },
      ]);
      assert.deepEqual(await load(e, tar), [{ stream: 'Loaded image: example.com/multi:v1\n' }]);
      assert.equal(e.images.resolve('example.com/multi:v1').id, img.id);
    } finally {
      close(e);
    }
  });

  test('a tag that moves prints the rename message; untagged loads print the ID', async () => {
    const e = open();
    try {
      await load(e, busybox.tar);
      const second = makeBusyboxImage({ labels: { v: '2' } });
      const msgs = await load(e, second.tar);
      assert.deepEqual(msgs, [
        {
          stream: `The image busybox:latest already exists, renaming the old one with ID ${busybox.id} to empty string\n`,
        },
        { stream: 'Loaded image: busybox:latest\n' },
      ]);
      assert.deepEqual(
        e.images.list({ filters: new Map([['dangling', ['true']]]) }).map((i) => [i.Id, i.RepoTags]),
        [[busybox.id, ['<none>:<none>']]],
      );
      const untagged = makeBusyboxImage({ tags: [], labels: { v: '3' } });
      assert.deepEqual(await load(e, untagged.tar), [{ stream: `Loaded image ID: ${untagged.id}\n` }]);
      const pruned = await e.images.prune();
      assert.deepEqual(
        new Set(pruned.ImagesDeleted?.map((d) => ('Deleted' in d ? d.Deleted : d.Untagged))),
        new Set([busybox.id, untagged.id]),
      );
      assert.equal(e.images.count(), 1);
    } finally {
      close(e);
    }
  });

  test('bad archives fail with a message naming the problem and change nothing', async () => {
    const e = open();
    try {
      await load(e, busybox.tar);
      const before = snapshotOf(e);
      const extra = tarBuffer([{ name: 'data/x.bin', data: seededBytes(100_000, 'bad') }]);
      const good = makeImageArchive({
        layers: [tarBuffer([{ name: 'a', data: 'a' }]), extra],
        tags: ['bad:1'],
      });
      const cases: [string, Buffer, RegExp][] = [
        [
          'truncated',
          good.tar.subarray(0, Math.floor(good.tar.length / 2)),
          /invalid image archive|not found/,
        ],
        ['garbage', Buffer.from('this is not a tar file at all'.repeat(40)), /invalid image archive/],
        ['empty', Buffer.alloc(0), /the tar is empty/],
      ];
      // A config whose diff_ids do not match the layers.
      const wrong = makeImageArchive({ layers: [extra], tags: ['bad:2'] });
      const swapped = Buffer.from(wrong.tar);
      const i = swapped.indexOf(Buffer.from(wrong.diffIds[0]!.slice(7)));
      swapped.write('0000', i + 10);
      cases.push(['wrong diffID', swapped, /invalid diffID for layer 0: expected "sha256:/]);
      // An OCI blob whose content does not match its name.
      const oci = makeImageArchive({ layers: [extra], tags: ['bad:3'], format: 'oci' });
      const corrupt = Buffer.from(oci.tar);
      corrupt[corrupt.indexOf(Buffer.from('x.bin')) + 600] ^= 0xff;
      cases.push(['corrupt blob', corrupt, /blob blobs\/sha256\/[a-f0-9]{64} has digest/]);
      const unsafe = makeImageArchive({
        layers: [tarBuffer([{ name: '../../escape', data: 'x' }])],
        tags: ['bad:4'],
      });
      cases.push(['unsafe layer entry', unsafe.tar, /escape/]);
      for (const [name, tar, re] of cases) {
        await assert.rejects(load(e, tar), (err: Error) => {
          assert.match(err.message, re, name);
          return true;
        });
        assert.equal(snapshotOf(e), before, `${name} changed the store`);
      }
    } finally {
      close(e);
    }
  });

  test('import with changes, then commit-style image on top', async () => {
    const e = open();
    try {
      const rootfs = tarBuffer([{ name: 'hello.txt', data: 'hi' }]);
      const id = await e.images.import(Readable.from([rootfs], { objectMode: false }), {
        repo: 'ar-imported:v1',
        changes: [
          'CMD ["/bin/sh"]',
          'ENV A=b C="d e"',
          'EXPOSE 80 53/udp',
          'LABEL x=y',
          'WORKDIR /w',
          'USER nobody',
        ],
        message: 'imported',
      });
      const ins = e.images.inspect('ar-imported:v1');
      assert.equal(ins.Id, id);
      assert.equal(ins.Comment, 'imported');
      assert.deepEqual(ins.Config?.Cmd, ['/bin/sh']);
      assert.deepEqual(ins.Config?.Env, ['A=b', 'C=d e']);
      assert.deepEqual(ins.Config?.ExposedPorts, { '53/udp': {}, '80/tcp': {} });
      assert.deepEqual(ins.Config?.Labels, { x: 'y' });
      assert.equal(ins.Config?.WorkingDir, '/w');
      assert.equal(ins.Config?.User, 'nobody');
      await assert.rejects(
        e.images.import(Readable.from([rootfs], { objectMode: false }), { changes: ['RUN echo'] }),
        { status: 400, message: 'run is not a valid change command' },
      );
      const child = await e.images.createImageFromLayer({
        parentImageId: id,
        layerTar: Readable.from([tarBuffer([{ name: 'more.txt', data: 'more' }])], { objectMode: false }),
        comment: 'c',
        repo: 'docker.io/library/committed',
        tag: 'v1',
      });
      const h = e.images.history('committed:v1');
      assert.deepEqual(
        h.map((x) => [x.Id, x.Comment]),
        [
          [child, 'c'],
          [id, 'imported'],
        ],
      );
      await assert.rejects(e.images.remove(id.slice(7), { force: true }), {
        status: 409,
        message: `conflict: unable to delete ${id.slice(7, 19)} (cannot be forced) - image has dependent child images`,
      });
      const del = await e.images.remove('committed:v1');
      assert.deepEqual(
        del.map((d) => Object.keys(d)[0]),
        ['Untagged', 'Deleted', 'Deleted'],
      );
      assert.equal(e.images.count(), 1);
    } finally {
      close(e);
    }
  });
});

/** A file of an (uncompressed, ustar) tar made by the fixture. */
function extractFile(tar: Buffer, name: string): Buffer {
  for (let off = 0; off + 512 <= tar.length; ) {
    const n = tar.toString('utf8', off, off + 100).replace(/\0.*$/s, '');
    if (!n) break;
    const size = Number.parseInt(tar.toString('utf8', off + 124, off + 136).replace(/\0.*$/s, ''), 8);
    if (n === name) return tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${name} not in tar`);
}

function listNames(tar: Buffer): string[] {
  const out: string[] = [];
  for (let off = 0; off + 512 <= tar.length; ) {
    const n = tar.toString('utf8', off, off + 100).replace(/\0.*$/s, '');
    if (!n) break;
    out.push(n);
    const size = Number.parseInt(tar.toString('utf8', off + 124, off + 136).replace(/\0.*$/s, ''), 8);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}
