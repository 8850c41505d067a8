/** What the image part's modules share: the stores, lookups and the events it publishes. */
import type { ContentStore } from '../content/content.js';
import type { SnapshotStore } from '../snapshots/snapshots.js';
import type { Store } from '../store/store.js';
import { notFound } from '../util/errors.js';
import { type ImageConfigJson, parseImageConfig } from './config.js';
import type { ImageDb, ImageRow, RefRow } from './image-db.js';
import type { ImageEvents, ImageInUse, ImageRecord } from './images.js';
import {
  familiarString,
  type NamedRef,
  parseAnyReference,
  parseNormalizedNamed,
  refString,
  tagNameOnly,
} from './reference.js';

export interface Ctx {
  store: Store;
  db: ImageDb;
  content: ContentStore;
  snapshots: SnapshotStore;
  /** Where load spools an archive's files. */
  tmpDir: string;
  events: ImageEvents | undefined;
  inUse: ImageInUse;
}

/** The key a reference is stored under: fully qualified, `:latest` added, tag dropped next to a digest. */
export function refKey(r: NamedRef): string {
  const t = tagNameOnly(r);
  if (t.digest !== undefined) return refString({ domain: t.domain, path: t.path, digest: t.digest });
  return refString(t);
}

/** A stored key back to its parsed form. */
export function parseKey(key: string): NamedRef {
  return parseNormalizedNamed(key);
}

export function familiarOfKey(key: string): string {
  return familiarString(parseKey(key));
}

export function publish(
  ctx: Ctx,
  action: string,
  id: string,
  name: string,
  labels?: Record<string, string> | null,
): void {
  ctx.events?.publish('image', action, id, { ...(labels ?? {}), name });
}

const configCache = new WeakMap<ImageRow, ImageConfigJson>();

export function configOf(row: ImageRow): ImageConfigJson {
  let c = configCache.get(row);
  if (!c) {
    c = parseImageConfig(Buffer.from(row.config));
    configCache.set(row, c);
  }
  return c;
}

export function recordOf(ctx: Ctx, row: ImageRow, refs: RefRow[] = ctx.db.refsOf(row.id)): ImageRecord {
  const layers = ctx.db.layers(row.id);
  const chainIds = layers.map((l) => l.chain_id);
  return {
    id: row.id,
    config: configOf(row),
    chainIds,
    topChainId: chainIds.at(-1) ?? null,
    repoTags: refs.filter((r) => r.kind === 'tag').map((r) => familiarOfKey(r.ref)),
    repoDigests: refs.filter((r) => r.kind === 'digest').map((r) => familiarOfKey(r.ref)),
    parent: row.parent,
    size: row.size,
  };
}

/**
 * dockerd's GetImage: a 64-hex or `sha256:` ID, then the reference store, then an ID
 * prefix. 400 for an invalid reference, 404 `No such image: <familiar:tag>`.
 */
export function resolveRow(ctx: Ctx, refOrId: string): ImageRow {
  const any = parseAnyReference(refOrId);
  if (any.kind === 'id') {
    const row = ctx.db.image(any.id);
    if (row) return row;
    throw notFound(`No such image: ${any.id}`);
  }
  const ref = ctx.db.ref(refKey(any.ref));
  if (ref) {
    const row = ctx.db.image(ref.image_id);
    if (row) return row;
  }
  const hex = refOrId.startsWith('sha256:') ? refOrId.slice(7) : refOrId;
  if (/^[a-f0-9]+$/.test(hex)) {
    const ids = ctx.db.idsWithPrefix(hex);
    if (ids.length === 1) {
      const row = ctx.db.image(ids[0]!);
      if (row) return row;
    }
  }
  throw notFound(`No such image: ${familiarString(tagNameOnly(any.ref))}`);
}

export function layerSize(ctx: Ctx, chainId: string): number {
  return ctx.snapshots.layer(chainId)?.size ?? 0;
}
