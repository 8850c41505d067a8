/**
 * Layers go from an archive, or a caller's stream, straight into the snapshot store, which keeps
 * the only copy of each layer tar (`SnapshotStore.layerTar` serves save). Gzip is undone here
 * rather than in the snapshot store, so a wrong diffID is reported with the digest it really
 * has, in Docker's words; other compressions are refused, as they always were for images.
 */
import { createHash } from 'node:crypto';
import { type Duplex, pipeline, type Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { LayerInfo } from '../snapshots/snapshots.js';
import { badRequest, isEngineError } from '../util/errors.js';
import { shortId } from '../util/ids.js';
import { logger } from '../util/log.js';
import { type Archive, type BlobTracker, detectCompression, peek } from './archive.js';
import type { Ctx } from './context.js';
import type { Progress } from './images.js';

const log = logger('images');

/** Undoes what a failed load or import added: new layers (top first), then new blobs. */
export class Undo {
  readonly layers: string[] = [];
  constructor(
    private readonly ctx: Ctx,
    readonly blobs: BlobTracker,
  ) {}
  rollback(): void {
    for (const chain of [...this.layers].reverse()) {
      try {
        this.ctx.snapshots.removeLayer(chain);
      } catch (e) {
        log.warn(`layer ${chain} kept after a failed load: ${(e as Error).message}`);
      }
    }
    this.blobs.discard();
  }
}

interface PlainLayer {
  stream: Readable;
  /** The gzip codec's error, in the words images have always used, if the codec failed. */
  failure(): Error | undefined;
  /** sha256 of the uncompressed bytes, once they have all gone by (when asked to hash). */
  digest(): string | undefined;
}

/**
 * The layer's uncompressed tar: gzip is undone, plain passes through, anything else is refused.
 * `extra` stages (a progress counter) run first, on the bytes as stored. One pipeline, so a
 * consumer that stops early (an unsafe entry) closes the source too.
 */
function plainLayer(
  name: string,
  head: Buffer,
  src: Readable,
  hash: boolean,
  extra: Transform[] = [],
): PlainLayer {
  const comp = detectCompression(head);
  if (comp !== 'none' && comp !== 'gzip') {
    src.destroy();
    throw badRequest(`layer ${name}: ${comp}-compressed layers are not supported`);
  }
  let failure: Error | undefined;
  const stages: Duplex[] = [...extra];
  if (comp === 'gzip') {
    const gunzip = zlib.createGunzip();
    gunzip.on('error', (e: NodeJS.ErrnoException) => {
      // Only the codec's own errors (Z_DATA_ERROR, Z_BUF_ERROR...), not a teardown passed along.
      if (e.code?.startsWith('Z_')) failure ??= badRequest(`layer ${name}: ${e.message}`);
    });
    stages.push(gunzip);
  }
  let digest: string | undefined;
  if (hash) {
    const h = createHash('sha256');
    stages.push(
      new Transform({
        transform(chunk: Buffer, _enc, cb) {
          h.update(chunk);
          cb(null, chunk);
        },
        flush(cb) {
          digest = `sha256:${h.digest('hex')}`;
          cb();
        },
      }),
    );
  }
  const stream = stages.length === 0 ? src : (pipeline([src, ...stages], () => {}) as unknown as Readable);
  return { stream, failure: () => failure, digest: () => digest };
}

function diffIdMismatch(index: number, expected: string, got: string) {
  return badRequest(`invalid diffID for layer ${index}: expected "${expected}", got "${got}"`);
}

/** Counts bytes read from the archive for `Loading layer` progress messages. */
function progressCounter(chainId: string, total: number, progress: Progress): Transform {
  const id = shortId(chainId);
  let current = 0;
  let last = 0;
  progress({ status: 'Loading layer', progressDetail: { current: 0, total }, id });
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      current += chunk.length;
      if (current - last >= 512 * 1024 || current === total) {
        last = current;
        progress({ status: 'Loading layer', progressDetail: { current, total }, id });
      }
      cb(null, chunk);
    },
  });
}

export interface ArchiveLayer {
  /** Position in the image's rootfs, for messages. */
  index: number;
  /** The layer's file in the archive. */
  name: string;
  parent: string | null;
  chainId: string;
  diffId: string;
}

/**
 * Unpacks a layer of an archive unless its chain exists (then its bytes are not even read).
 * The snapshot store checks the diffID while unpacking; a plain layer's digest is known from
 * spooling, so a wrong one fails before anything is unpacked.
 */
export async function loadLayer(
  ctx: Ctx,
  undo: Undo,
  archive: Archive,
  layer: ArchiveLayer,
  progress?: Progress,
): Promise<void> {
  const { index, name, parent, chainId, diffId } = layer;
  const head = archive.head(name);
  const plain = detectCompression(head) === 'none';
  if (plain && archive.digest(name) !== diffId) throw diffIdMismatch(index, diffId, archive.digest(name));
  if (ctx.snapshots.hasLayer(chainId)) return;
  const counter = progress ? [progressCounter(chainId, archive.size(name), progress)] : [];
  const tar = plainLayer(name, head, archive.open(name), !plain, counter);
  let info: LayerInfo;
  try {
    info = await ctx.snapshots.applyLayer(parent, tar.stream, diffId);
  } catch (e) {
    const failure = tar.failure();
    if (failure) throw failure;
    const got = tar.digest();
    if (got !== undefined && got !== diffId) throw diffIdMismatch(index, diffId, got);
    throw e;
  }
  undo.layers.push(info.chainId);
}

/**
 * Unpacks a new layer (import, commit, build) on `parent`; its diffID is whatever the bytes
 * hash to. Resolves with the layer, which may have existed already (then undo leaves it).
 */
export async function addLayer(
  ctx: Ctx,
  undo: Undo,
  parent: string | null,
  name: string,
  input: Readable,
): Promise<LayerInfo> {
  const { head, stream } = await peek(input, 8);
  if (head.length === 0) throw badRequest(`${name}: the tar is empty`);
  const tar = plainLayer(name, head, stream, false);
  // Images are the only makers of layers and change them one at a time, so this stays true.
  const existing = new Set(ctx.snapshots.listLayers().map((l) => l.chainId));
  let info: LayerInfo;
  try {
    info = await ctx.snapshots.applyLayer(parent, tar.stream);
  } catch (e) {
    throw tar.failure() ?? e;
  }
  if (!existing.has(info.chainId)) undo.layers.push(info.chainId);
  return info;
}

/**
 * Deletes every snapshot layer that no image lists, children before parents. A layer that a
 * container's writable layer stands on (or that is the parent of such a one) is refused by the
 * snapshot store with 409 and stays until that container is gone. Returns the removed chain IDs.
 */
export function releaseUnused(ctx: Ctx): string[] {
  const listed = new Set(ctx.db.allLayers().map((l) => l.chain_id));
  const all = ctx.snapshots.listLayers();
  const parentOf = new Map(all.map((l) => [l.chainId, l.parent]));
  const depth = (c: string): number => {
    let n = 0;
    for (let p = parentOf.get(c); p; p = parentOf.get(p)) n++;
    return n;
  };
  const unused = all
    .filter((l) => !listed.has(l.chainId))
    .map((l) => ({ chainId: l.chainId, depth: depth(l.chainId) }))
    .sort((a, b) => b.depth - a.depth);
  const removed: string[] = [];
  for (const { chainId } of unused) {
    try {
      ctx.snapshots.removeLayer(chainId);
      removed.push(chainId);
    } catch (e) {
      if (isEngineError(e) && (e.status === 409 || e.status === 404)) continue;
      throw e;
    }
  }
  if (removed.length > 0) log.debug('released unused layers', { removed });
  return removed;
}
