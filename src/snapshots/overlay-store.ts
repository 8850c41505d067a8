/**
 * The overlayfs snapshot store. On disk, under `<root>/snapshots/`:
 *   `<dir>/fs`        a layer's unpacked files (an overlay lowerdir; whiteouts as 0:0 char devices)
 *   `<dir>/layer.tar` the layer's uncompressed tar exactly as received, so `layerTar` reproduces
 *                     its diffID byte for byte; the only copy of it on the host (images and the
 *                     content store keep none)
 *   `rw/<key>/upper`, `rw/<key>/work`  a writable layer
 *   `tmp/`            unpacking in progress (swept at open)
 *   `empty/`          the lowerdir of a writable layer with no image below it
 * `<dir>` is 10 hex digits: overlay's mount options are limited to one page, so the mount runs
 * with `<root>/snapshots` as working directory and names lowerdirs `<dir>/fs` (14 bytes a layer).
 * Rows in SQLite (snapshot_layers, snapshot_writable) make a directory valid; a directory
 * without a row is the leftover of a crash and is removed at open.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Store } from '../store/store.js';
import { badRequest, conflict, internal, notFound } from '../util/errors.js';
import { runTool } from '../util/exec.js';
import { diskUsage, mkdirp, removeAll } from '../util/fsutil.js';
import { logger } from '../util/log.js';
import { mountPoints, unmount } from '../util/mounts.js';
import { mountOverlay } from './mount.js';
import type { ChainId, LayerInfo, SnapshotStore } from './snapshots.js';
import { extractTar } from './tar-extract.js';
import { tarStream } from './tar-write.js';
import { diffEntries, upperChanges } from './upper-diff.js';

const log = logger('snapshots');

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** One page, the most mount(2) passes to the filesystem. */
const MAX_MOUNT_DATA = 4095;

const MIGRATIONS = [
  `CREATE TABLE snapshot_layers (
     chain_id TEXT PRIMARY KEY,
     parent TEXT REFERENCES snapshot_layers(chain_id),
     diff_id TEXT NOT NULL,
     size INTEGER NOT NULL,
     dir TEXT NOT NULL UNIQUE,
     created TEXT NOT NULL
   );
   CREATE INDEX snapshot_layers_parent ON snapshot_layers(parent);
   CREATE TABLE snapshot_writable (
     key TEXT PRIMARY KEY,
     chain_id TEXT REFERENCES snapshot_layers(chain_id),
     mount_target TEXT,
     created TEXT NOT NULL
   );`,
];

interface LayerRow {
  chain_id: string;
  parent: string | null;
  diff_id: string;
  size: number;
  dir: string;
}

interface WritableRow {
  key: string;
  chain_id: string | null;
  mount_target: string | null;
}

/** chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)) (OCI image spec). */
export function chainIdOf(parent: ChainId | null, diffId: string): ChainId {
  if (parent === null) return diffId;
  return `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}`;
}

const toInfo = (r: LayerRow): LayerInfo => ({
  chainId: r.chain_id,
  parent: r.parent,
  diffId: r.diff_id,
  size: r.size,
});

export function openSnapshotStore(root: string, store: Store): SnapshotStore {
  store.migrate('snapshots', MIGRATIONS);
  const db = store.db;
  const base = mkdirp(path.join(root, 'snapshots'));
  const tmpBase = path.join(base, 'tmp');
  const rwBase = path.join(base, 'rw');
  const emptyDir = path.join(base, 'empty');

  const q = {
    layer: db.prepare('SELECT chain_id, parent, diff_id, size, dir FROM snapshot_layers WHERE chain_id = ?'),
    layers: db.prepare(
      'SELECT chain_id, parent, diff_id, size, dir FROM snapshot_layers ORDER BY created, chain_id',
    ),
    insertLayer: db.prepare(
      'INSERT INTO snapshot_layers (chain_id, parent, diff_id, size, dir, created) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    deleteLayer: db.prepare('DELETE FROM snapshot_layers WHERE chain_id = ?'),
    children: db.prepare('SELECT count(*) AS n FROM snapshot_layers WHERE parent = ?'),
    users: db.prepare('SELECT count(*) AS n FROM snapshot_writable WHERE chain_id = ?'),
    writable: db.prepare('SELECT key, chain_id, mount_target FROM snapshot_writable WHERE key = ?'),
    insertWritable: db.prepare('INSERT INTO snapshot_writable (key, chain_id, created) VALUES (?, ?, ?)'),
    setTarget: db.prepare('UPDATE snapshot_writable SET mount_target = ? WHERE key = ?'),
    clearTarget: db.prepare('UPDATE snapshot_writable SET mount_target = NULL WHERE mount_target = ?'),
    deleteWritable: db.prepare('DELETE FROM snapshot_writable WHERE key = ?'),
    allDirs: db.prepare('SELECT dir FROM snapshot_layers'),
    allKeys: db.prepare('SELECT key FROM snapshot_writable'),
  };

  const getLayer = (chainId: string) => q.layer.get(chainId) as LayerRow | undefined;
  const getWritable = (key: string) => q.writable.get(key) as WritableRow | undefined;

  function mustLayer(chainId: string): LayerRow {
    const row = getLayer(chainId);
    if (!row) throw notFound(`layer ${chainId} not found`);
    return row;
  }

  function mustWritable(key: string): WritableRow {
    const row = getWritable(key);
    if (!row) throw notFound(`writable layer ${key} not found`);
    return row;
  }

  /** The chain's layer dirs, topmost first, relative to `base`. */
  function chainDirs(chainId: ChainId | null): string[] {
    const out: string[] = [];
    for (let id = chainId; id !== null; ) {
      const row = mustLayer(id);
      out.push(`${row.dir}/fs`);
      id = row.parent;
    }
    return out;
  }

  sweep();

  /** Removes what a crash left: unpacking in progress, layer and writable dirs without a row. */
  function sweep(): void {
    removeAll(tmpBase);
    mkdirp(tmpBase);
    mkdirp(rwBase);
    removeAll(emptyDir);
    mkdirp(emptyDir);
    const dirs = new Set((q.allDirs.all() as { dir: string }[]).map((r) => r.dir));
    for (const name of fs.readdirSync(base)) {
      if (name === 'tmp' || name === 'rw' || name === 'empty' || dirs.has(name)) continue;
      log.warn(`removing orphaned layer directory ${name}`);
      removeAll(path.join(base, name));
    }
    const keys = new Set((q.allKeys.all() as { key: string }[]).map((r) => r.key));
    const mounted = mountPoints();
    for (const name of fs.readdirSync(rwBase)) {
      if (keys.has(name)) continue;
      log.warn(`removing orphaned writable layer ${name}`);
      // Never delete below a live mount: its upper would vanish under a running container.
      if ([...mounted].some((m) => m.startsWith(path.join(rwBase, name)))) continue;
      removeAll(path.join(rwBase, name));
    }
  }

  const inFlight = new Map<ChainId, Promise<LayerInfo>>();

  async function drain(tar: Readable): Promise<void> {
    for await (const _ of tar) void _;
  }

  async function applyLayer(
    parent: ChainId | null,
    tar: Readable,
    expectedDiffId?: string,
  ): Promise<LayerInfo> {
    if (parent !== null) mustLayer(parent);
    if (expectedDiffId !== undefined && !DIGEST_RE.test(expectedDiffId)) {
      throw badRequest(`invalid diffID "${expectedDiffId}": expected sha256:<64 hex digits>`);
    }
    if (expectedDiffId !== undefined) {
      const chainId = chainIdOf(parent, expectedDiffId);
      const pending = inFlight.get(chainId);
      if (pending) await pending.catch(() => undefined);
      const existing = getLayer(chainId);
      if (existing) {
        await drain(tar);
        return toInfo(existing);
      }
      const p = unpack(parent, tar, expectedDiffId);
      inFlight.set(chainId, p);
      try {
        return await p;
      } finally {
        inFlight.delete(chainId);
      }
    }
    return unpack(parent, tar, undefined);
  }

  async function unpack(parent: ChainId | null, tar: Readable, expectedDiffId: string | undefined) {
    const tmp = fs.mkdtempSync(path.join(tmpBase, 'l'));
    try {
      const fsDir = mkdirp(path.join(tmp, 'fs'));
      const lowers = chainDirs(parent).map((d) => path.join(base, d));
      const { diffId } = await extractTar(tar, fsDir, {
        whiteouts: true,
        parentLowerDirs: lowers,
        keepTarAt: path.join(tmp, 'layer.tar'),
      });
      if (expectedDiffId !== undefined && diffId !== expectedDiffId) {
        throw badRequest(`invalid diffID: expected ${expectedDiffId}, got ${diffId}`);
      }
      const chainId = chainIdOf(parent, diffId);
      const size = diskUsage(fsDir);
      // The row must never point at files still in the page cache only.
      await runTool('sync', ['-f', tmp]);
      const existing = getLayer(chainId);
      if (existing) return toInfo(existing);
      const dir = randomBytes(5).toString('hex');
      fs.renameSync(tmp, path.join(base, dir));
      try {
        q.insertLayer.run(chainId, parent, diffId, size, dir, new Date().toISOString());
      } catch (e) {
        removeAll(path.join(base, dir));
        throw e;
      }
      log.debug('layer unpacked', { chainId, diffId, size, dir });
      return { chainId, parent, diffId, size };
    } finally {
      removeAll(tmp);
    }
  }

  function upperOf(key: string): string {
    mustWritable(key);
    return path.join(rwBase, key, 'upper');
  }

  async function mount(key: string, target: string, opts: { readonly?: boolean } = {}): Promise<void> {
    const row = mustWritable(key);
    const lowers = chainDirs(row.chain_id);
    const upper = `rw/${key}/upper`;
    let options: string;
    if (opts.readonly) {
      // Without an upperdir overlay wants two lowers at least.
      const stack = [upper, ...lowers];
      if (stack.length < 2) stack.push('empty');
      options = `ro,lowerdir=${stack.join(':')}`;
    } else {
      const lowerdir = lowers.length ? lowers.join(':') : 'empty';
      // Explicit, so a host whose overlay module defaults differ still writes a plain upper dir that diffs read.
      options = `lowerdir=${lowerdir},upperdir=${upper},workdir=rw/${key}/work,index=off,redirect_dir=off,metacopy=off`;
    }
    if (options.length > MAX_MOUNT_DATA) {
      throw internal(
        `cannot mount ${lowers.length} layers: overlay mount options exceed ${MAX_MOUNT_DATA} bytes`,
      );
    }
    mkdirp(target);
    const real = fs.realpathSync(target);
    await mountOverlay(real, options, base);
    if (!opts.readonly) q.setTarget.run(real, key);
  }

  async function unmountTarget(target: string): Promise<void> {
    await unmount(target);
    try {
      q.clearTarget.run(fs.realpathSync(target));
    } catch {
      q.clearTarget.run(path.resolve(target));
    }
  }

  return {
    applyLayer,
    hasLayer: (chainId) => getLayer(chainId) !== undefined,
    layer: (chainId) => {
      const row = getLayer(chainId);
      return row && toInfo(row);
    },
    lowerDirs: (chainId) => chainDirs(chainId).map((d) => path.join(base, d)),
    layerTar(chainId) {
      const row = mustLayer(chainId);
      return fs.createReadStream(path.join(base, row.dir, 'layer.tar'));
    },
    layerTarSize(chainId) {
      const row = mustLayer(chainId);
      return fs.statSync(path.join(base, row.dir, 'layer.tar')).size;
    },
    removeLayer(chainId) {
      const row = mustLayer(chainId);
      if ((q.children.get(chainId) as { n: number }).n > 0) {
        throw conflict(`layer ${chainId} is in use: it is the parent of another layer`);
      }
      if ((q.users.get(chainId) as { n: number }).n > 0) {
        throw conflict(`layer ${chainId} is in use by a writable layer`);
      }
      // Row first: a crash in between leaves an orphaned directory, which open sweeps.
      q.deleteLayer.run(chainId);
      removeAll(path.join(base, row.dir));
    },
    listLayers: () => (q.layers.all() as LayerRow[]).map(toInfo),

    prepare(key, chainId) {
      if (!KEY_RE.test(key)) throw badRequest(`invalid writable layer key "${key}"`);
      if (getWritable(key)) throw conflict(`writable layer ${key} already exists`);
      if (chainId !== null) mustLayer(chainId);
      const dir = path.join(rwBase, key);
      removeAll(dir);
      mkdirp(path.join(dir, 'upper'));
      mkdirp(path.join(dir, 'work'));
      q.insertWritable.run(key, chainId, new Date().toISOString());
    },
    mount,
    unmount: unmountTarget,
    upperDir: upperOf,
    changes(key) {
      const row = mustWritable(key);
      return upperChanges(
        upperOf(key),
        chainDirs(row.chain_id).map((d) => path.join(base, d)),
      );
    },
    diffTar(key, skip) {
      const entries = diffEntries(upperOf(key));
      return Readable.from(tarStream(skip ? filtered(entries, skip) : entries));
    },
    writableSize: (key) => diskUsage(upperOf(key)),
    async remove(key) {
      const row = getWritable(key);
      if (!row) return;
      if (row.mount_target) await unmount(row.mount_target);
      // Row first: a crash in between leaves an orphaned directory, which open sweeps.
      q.deleteWritable.run(key);
      // On the thread pool: a container's writable layer can be a big tree, and the event loop
      // has requests to serve meanwhile.
      await fs.promises.rm(path.join(rwBase, key), { recursive: true, force: true });
    },
  };
}

async function* filtered<T>(entries: AsyncIterable<T>, skip: (e: T) => boolean): AsyncGenerator<T> {
  for await (const e of entries) if (!skip(e)) yield e;
}
