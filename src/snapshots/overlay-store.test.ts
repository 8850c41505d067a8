import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { openStore } from '../store/store.js';
import { EngineError } from '../util/errors.js';
import { mountPoints, unmount } from '../util/mounts.js';
import { chainIdOf, openSnapshotStore, type SnapshotStore } from './snapshots.js';
import { collect, makeTar, sha256, streamOf } from './test-helpers.js';

interface Ctx {
  root: string;
  snaps: SnapshotStore;
  /** A mount point that is unmounted when the test ends. */
  mountDir(name: string): string;
  reopen(): SnapshotStore;
}

function setup(t: { after(fn: () => void | Promise<void>): void }): Ctx {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-snaproot-'));
  const stores = [openStore(root)];
  const targets: string[] = [];
  // One hook, so the mounts are gone before the tree under them is deleted.
  t.after(async () => {
    for (const m of targets.reverse()) await unmount(m).catch(() => {});
    for (const s of stores) s.close();
    fs.rmSync(root, { recursive: true, force: true });
  });
  return {
    root,
    snaps: openSnapshotStore(root, stores[0]!),
    mountDir(name) {
      const d = path.join(root, 'mnt', name);
      targets.push(d);
      return d;
    },
    reopen() {
      const s = openStore(root);
      stores.push(s);
      return openSnapshotStore(root, s);
    },
  };
}

const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { stdio: 'pipe' }).toString();

const baseLayer = () =>
  makeTar([
    { name: 'etc', type: 'directory' },
    { name: 'etc/a', content: 'a' },
    { name: 'etc/b', content: 'b' },
    { name: 'keep', type: 'directory' },
    { name: 'keep/y', content: 'y' },
    { name: 'opq', type: 'directory' },
    { name: 'opq/old', content: 'old' },
    { name: 'bin', type: 'directory' },
    { name: 'bin/sh', content: '#!', mode: 0o755 },
  ]);

const topLayer = () =>
  makeTar([
    { name: 'etc', type: 'directory' },
    { name: 'etc/.wh.a', content: '' },
    { name: 'etc/c', content: 'c' },
    { name: 'opq', type: 'directory' },
    { name: 'opq/.wh..wh..opq', content: '' },
    { name: 'opq/new', content: 'new' },
  ]);

const ls = (dir: string) => fs.readdirSync(dir).sort();

test('layers stack: whiteouts and opaque dirs hide lower files through a real overlay mount', async (t) => {
  const { root, snaps, mountDir } = setup(t);
  const base = await baseLayer();
  const top = await topLayer();
  const l1 = await snaps.applyLayer(null, streamOf(base), sha256(base));
  assert.deepEqual(l1, { chainId: sha256(base), parent: null, diffId: sha256(base), size: l1.size });
  const l2 = await snaps.applyLayer(l1.chainId, streamOf(top));
  assert.equal(l2.chainId, chainIdOf(l1.chainId, sha256(top)));
  assert.equal(l2.parent, l1.chainId);
  assert.equal(snaps.lowerDirs(l2.chainId).length, 2);
  assert.equal(snaps.lowerDirs(l2.chainId)[1], snaps.lowerDirs(l1.chainId)[0]);

  const [top2] = snaps.lowerDirs(l2.chainId);
  const wh = fs.lstatSync(path.join(top2!, 'etc', 'a'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'etc/a is an overlay whiteout in the layer');
  assert.match(
    sh(`getfattr -n trusted.overlay.opaque ${path.join(top2!, 'opq')}`),
    /trusted.overlay.opaque="y"/,
  );

  snaps.prepare('c1', l2.chainId);
  const m = mountDir('c1');
  await snaps.mount('c1', m);
  assert.ok(mountPoints().has(fs.realpathSync(m)));
  assert.deepEqual(ls(path.join(m, 'etc')), ['b', 'c']);
  assert.deepEqual(ls(path.join(m, 'opq')), ['new']);
  assert.deepEqual(ls(path.join(m, 'keep')), ['y']);
  assert.equal(fs.readFileSync(path.join(m, 'bin', 'sh'), 'utf8'), '#!');
  assert.ok(root);
});

test('changes() reports A/C/D like Docker, and diffTar re-applies to the same view', async (t) => {
  const { snaps, mountDir } = setup(t);
  const l1 = await snaps.applyLayer(null, streamOf(await baseLayer()));
  const l2 = await snaps.applyLayer(l1.chainId, streamOf(await topLayer()));
  snaps.prepare('c1', l2.chainId);
  const m = mountDir('c1');
  await snaps.mount('c1', m);
  fs.writeFileSync(path.join(m, 'added.txt'), 'new file');
  fs.appendFileSync(path.join(m, 'etc', 'b'), ' changed');
  fs.rmSync(path.join(m, 'keep', 'y'));
  fs.mkdirSync(path.join(m, 'etc', 'newdir'));
  fs.writeFileSync(path.join(m, 'etc', 'newdir', 'f'), 'f');
  await snaps.unmount(m);
  assert.equal(mountPoints().has(fs.realpathSync(m)), false);
  await snaps.unmount(m); // not mounted any more: fine

  assert.deepEqual(await snaps.changes('c1'), [
    { Path: '/added.txt', Kind: 1 },
    { Path: '/etc', Kind: 0 },
    { Path: '/etc/b', Kind: 0 },
    { Path: '/etc/newdir', Kind: 1 },
    { Path: '/etc/newdir/f', Kind: 1 },
    { Path: '/keep', Kind: 0 },
    { Path: '/keep/y', Kind: 2 },
  ]);
  assert.ok(snaps.writableSize('c1') >= 'new file'.length + 'b changed'.length);

  const diff = await collect(snaps.diffTar('c1'));
  assert.deepEqual(await collect(snaps.diffTar('c1')), diff, 'diffTar is deterministic');
  const listing = sh(`printf '%s' '${diff.toString('base64')}' | base64 -d | tar -tvf -`);
  assert.match(listing, /keep\/\.wh\.y/);

  const l3 = await snaps.applyLayer(l2.chainId, streamOf(diff), sha256(diff));
  snaps.prepare('c2', l3.chainId);
  const m2 = mountDir('c2');
  await snaps.mount('c2', m2, { readonly: true });
  assert.equal(fs.readFileSync(path.join(m2, 'added.txt'), 'utf8'), 'new file');
  assert.equal(fs.readFileSync(path.join(m2, 'etc', 'b'), 'utf8'), 'b changed');
  assert.deepEqual(ls(path.join(m2, 'keep')), []);
  assert.deepEqual(ls(path.join(m2, 'etc')), ['b', 'c', 'newdir']);
  assert.throws(() => fs.writeFileSync(path.join(m2, 'x'), 'x'), /EROFS/);
  await snaps.unmount(m2);
});

test('an opaque directory made in a container is reported and committed', async (t) => {
  const { snaps, mountDir } = setup(t);
  const l1 = await snaps.applyLayer(null, streamOf(await baseLayer()));
  snaps.prepare('c1', l1.chainId);
  const m = mountDir('c1');
  await snaps.mount('c1', m);
  fs.rmSync(path.join(m, 'opq'), { recursive: true });
  fs.mkdirSync(path.join(m, 'opq'));
  fs.writeFileSync(path.join(m, 'opq', 'fresh'), 'fresh');
  fs.rmSync(path.join(m, 'keep'), { recursive: true });
  await snaps.unmount(m);
  // What dockerd 20.10 (overlay2) answers for the same commands on this kernel.
  assert.deepEqual(await snaps.changes('c1'), [
    { Path: '/keep', Kind: 2 },
    { Path: '/opq', Kind: 0 },
    { Path: '/opq/fresh', Kind: 1 },
    { Path: '/opq/old', Kind: 2 },
  ]);
  const diff = await collect(snaps.diffTar('c1'));
  const l2 = await snaps.applyLayer(l1.chainId, streamOf(diff));
  snaps.prepare('c2', l2.chainId);
  const m2 = mountDir('c2');
  await snaps.mount('c2', m2);
  assert.deepEqual(ls(path.join(m2, 'opq')), ['fresh']);
  assert.deepEqual(ls(m2), ['bin', 'etc', 'opq']);
  const listing = sh(`printf '%s' '${diff.toString('base64')}' | base64 -d | tar -tf -`).split('\n');
  assert.ok(listing.includes('opq/.wh..wh..opq'), listing.join(' '));
  assert.ok(listing.includes('.wh.keep'), listing.join(' '));
});

test('layerTar gives back the uncompressed tar, so its diffID is the same', async (t) => {
  const { snaps } = setup(t);
  const base = await baseLayer();
  const l1 = await snaps.applyLayer(null, streamOf(zlib.gzipSync(base)), sha256(base));
  const again = await collect(snaps.layerTar(l1.chainId));
  assert.equal(sha256(again), l1.diffId);
  assert.deepEqual(again, base);
});

test('a wrong diffID or a hostile entry keeps nothing; the same layer twice is stored once', async (t) => {
  const { root, snaps } = setup(t);
  const base = await baseLayer();
  const snapDir = path.join(root, 'snapshots');
  const entriesBefore = ls(snapDir);
  await assert.rejects(
    snaps.applyLayer(null, streamOf(base), sha256(Buffer.from('other'))),
    (e) =>
      e instanceof EngineError && e.status === 400 && /^invalid diffID: expected sha256:/.test(e.message),
  );
  const hostile = await makeTar([
    { name: 'ok', content: 'fine' },
    { name: 'a', type: 'symlink', linkname: '/tmp' },
    { name: 'a/planted', content: 'x' },
  ]);
  await assert.rejects(
    snaps.applyLayer(null, streamOf(hostile)),
    /invalid tar entry "a\/planted": path escapes/,
  );
  assert.equal(fs.existsSync('/tmp/planted'), false);
  assert.deepEqual(ls(snapDir), entriesBefore);
  assert.deepEqual(ls(path.join(snapDir, 'tmp')), []);
  assert.deepEqual(snaps.listLayers(), []);

  const [a, b] = await Promise.all([
    snaps.applyLayer(null, streamOf(base), sha256(base)),
    snaps.applyLayer(null, streamOf(base), sha256(base)),
  ]);
  const c = await snaps.applyLayer(null, streamOf(base));
  assert.deepEqual(a, b);
  assert.deepEqual(a, c);
  assert.equal(snaps.listLayers().length, 1);
  assert.equal(ls(snapDir).length, entriesBefore.length + 1);
});

test('a 120-layer chain mounts', async (t) => {
  const { snaps, mountDir } = setup(t);
  let parent: string | null = null;
  for (let i = 0; i < 120; i++) {
    const tar = await makeTar([
      { name: `layer-${i}`, content: String(i) },
      ...(i > 0 ? [{ name: `.wh.layer-${i - 1}`, content: '' }] : []),
    ]);
    parent = (await snaps.applyLayer(parent, streamOf(tar))).chainId;
  }
  assert.equal(snaps.lowerDirs(parent!).length, 120);
  snaps.prepare('big', parent);
  const m = mountDir('big');
  await snaps.mount('big', m);
  assert.deepEqual(ls(m), ['layer-119']);
  assert.equal(fs.readFileSync(path.join(m, 'layer-119'), 'utf8'), '119');
});

test('an empty writable layer mounts; remove unmounts and deletes; removeLayer refuses parents', async (t) => {
  const { root, snaps, mountDir } = setup(t);
  snaps.prepare('scratch', null);
  assert.throws(
    () => snaps.prepare('scratch', null),
    (e) => e instanceof EngineError && e.status === 409,
  );
  const m = mountDir('scratch');
  await snaps.mount('scratch', m);
  fs.writeFileSync(path.join(m, 'hello'), 'hi');
  assert.deepEqual(await snaps.changes('scratch'), [{ Path: '/hello', Kind: 1 }]);
  await snaps.remove('scratch');
  assert.equal(mountPoints().has(fs.realpathSync(m)), false);
  assert.equal(fs.existsSync(path.join(root, 'snapshots', 'rw', 'scratch')), false);
  assert.throws(
    () => snaps.upperDir('scratch'),
    (e) => e instanceof EngineError && e.status === 404,
  );

  const l1 = await snaps.applyLayer(null, streamOf(await baseLayer()));
  const l2 = await snaps.applyLayer(l1.chainId, streamOf(await topLayer()));
  snaps.prepare('c', l2.chainId);
  assert.throws(
    () => snaps.removeLayer(l1.chainId),
    (e) => e instanceof EngineError && e.status === 409,
  );
  assert.throws(
    () => snaps.removeLayer(l2.chainId),
    (e) => e instanceof EngineError && e.status === 409,
  );
  await snaps.remove('c');
  snaps.removeLayer(l2.chainId);
  snaps.removeLayer(l1.chainId);
  assert.deepEqual(snaps.listLayers(), []);
  assert.deepEqual(ls(path.join(root, 'snapshots')), ['empty', 'rw', 'tmp']);
});

test('reopening keeps layers and sweeps what a crash left', async (t) => {
  const { root, snaps, reopen } = setup(t);
  const l1 = await snaps.applyLayer(null, streamOf(await baseLayer()));
  snaps.prepare('c', l1.chainId);
  const snapDir = path.join(root, 'snapshots');
  fs.mkdirSync(path.join(snapDir, 'tmp', 'l-half', 'fs'), { recursive: true });
  fs.mkdirSync(path.join(snapDir, 'deadbeef00', 'fs'), { recursive: true });
  fs.mkdirSync(path.join(snapDir, 'rw', 'gone', 'upper'), { recursive: true });
  const again = reopen();
  assert.deepEqual(again.layer(l1.chainId), l1);
  assert.ok(fs.existsSync(again.upperDir('c')));
  assert.deepEqual(ls(path.join(snapDir, 'tmp')), []);
  assert.equal(fs.existsSync(path.join(snapDir, 'deadbeef00')), false);
  assert.deepEqual(ls(path.join(snapDir, 'rw')), ['c']);
});
