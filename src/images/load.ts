/**
 * `docker load`: an archive → images, all or nothing. Blobs and layers this load adds are
 * taken back out if anything fails; rows are written in one transaction at the end.
 */
import { type Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';
import { badRequest } from '../util/errors.js';
import { shortId } from '../util/ids.js';
import { type Archive, BlobTracker, detectCompression, readArchive } from './archive.js';
import { chainIds, type ImageConfigJson, parseImageConfig, sha256 } from './config.js';
import { type Ctx, publish, refKey } from './context.js';
import { describeArchive } from './formats.js';
import type { Progress } from './images.js';
import { familiarString, type NamedRef, parseNormalizedNamed } from './reference.js';

interface Prepared {
  id: string;
  configBytes: Buffer;
  config: ImageConfigJson;
  chainIds: string[];
  diffIds: string[];
  tags: NamedRef[];
  parent: string;
  size: number;
}

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
      } catch {
        // held by something else now; GC will see it
      }
    }
    this.blobs.discard();
  }
}

/** Ingests a layer (plain or gzip) as its uncompressed tar; resolves with the diffID. */
export async function ingestUncompressed(
  blobs: BlobTracker,
  name: string,
  head: Buffer,
  open: () => Readable,
  plainDigest?: string,
): Promise<string> {
  const comp = detectCompression(head);
  if (comp === 'none') {
    if (plainDigest) return plainDigest;
    return (await blobs.ingest(open())).digest;
  }
  if (comp !== 'gzip') throw badRequest(`layer ${name}: ${comp}-compressed layers are not supported`);
  const src = open();
  const gunzip = zlib.createGunzip();
  src.on('error', (e) => gunzip.destroy(e));
  try {
    return (await blobs.ingest(src.pipe(gunzip))).digest;
  } catch (e) {
    throw badRequest(`layer ${name}: ${(e as Error).message}`);
  }
}

/** Unpacks a layer tar (a diffID blob) unless its chain exists; reports progress. */
export async function unpackLayer(
  ctx: Ctx,
  undo: Undo,
  parent: string | null,
  chainId: string,
  diffId: string,
  progress?: Progress,
): Promise<void> {
  if (ctx.snapshots.hasLayer(chainId)) return;
  let tar: Readable = ctx.content.read(diffId);
  if (progress) {
    const total = ctx.content.info(diffId)?.size ?? 0;
    const id = shortId(chainId);
    let current = 0;
    let last = 0;
    progress({ status: 'Loading layer', progressDetail: { current: 0, total }, id });
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        current += chunk.length;
        if (current - last >= 512 * 1024 || current === total) {
          last = current;
          progress({ status: 'Loading layer', progressDetail: { current, total }, id });
        }
        cb(null, chunk);
      },
    });
    tar.on('error', (e) => counter.destroy(e));
    tar = tar.pipe(counter);
  }
  const info = await ctx.snapshots.applyLayer(parent, tar, diffId);
  undo.layers.push(info.chainId);
  if (info.chainId !== chainId)
    throw badRequest(`layer ${diffId}: unpacked as chain ${info.chainId}, expected ${chainId}`);
}

async function prepareItem(
  ctx: Ctx,
  archive: Archive,
  undo: Undo,
  item: { config: string; configDigest?: string; layers: string[]; repoTags: string[]; parent?: string },
  progress: Progress | undefined,
): Promise<Prepared> {
  const tags = item.repoTags.map((t) => {
    let r: NamedRef;
    try {
      r = parseNormalizedNamed(t);
    } catch (e) {
      throw badRequest(`invalid tag "${t}": ${(e as Error).message}`);
    }
    if (r.tag === undefined || r.digest !== undefined) throw badRequest(`invalid tag "${t}"`);
    return r;
  });
  const configBytes = await archive.readBuffer(item.config);
  const id = sha256(configBytes);
  if (item.configDigest && item.configDigest !== id) {
    throw badRequest(`invalid image archive: config ${item.config} has digest ${id}`);
  }
  const config = parseImageConfig(configBytes, `image config ${item.config}`);
  const diffIds = config.rootfs.diff_ids;
  if (item.layers.length !== diffIds.length) {
    throw badRequest(
      `invalid manifest, layers length mismatch: expected ${diffIds.length}, got ${item.layers.length}`,
    );
  }
  await undo.blobs.ingest(configBytes, { digest: id });
  const chains = chainIds(diffIds);
  let size = 0;
  for (let i = 0; i < item.layers.length; i++) {
    const name = item.layers[i]!;
    const diffId = await ingestUncompressed(
      undo.blobs,
      name,
      archive.head(name),
      () => archive.open(name),
      archive.blobDigest(name),
    );
    if (diffId !== diffIds[i]) {
      throw badRequest(`invalid diffID for layer ${i}: expected "${diffIds[i]}", got "${diffId}"`);
    }
    await unpackLayer(ctx, undo, i === 0 ? null : chains[i - 1]!, chains[i]!, diffId, progress);
    size += ctx.snapshots.layer(chains[i]!)?.size ?? 0;
  }
  return { id, configBytes, config, chainIds: chains, diffIds, tags, parent: item.parent ?? '', size };
}

export async function loadImages(
  ctx: Ctx,
  input: Readable,
  quiet: boolean,
  progress: Progress,
): Promise<void> {
  const blobs = new BlobTracker(ctx.content);
  const undo = new Undo(ctx, blobs);
  let prepared: Prepared[];
  try {
    const archive = await readArchive(input, ctx.content, blobs);
    const items = await describeArchive(archive);
    prepared = [];
    for (const item of items)
      prepared.push(await prepareItem(ctx, archive, undo, item, quiet ? undefined : progress));
  } catch (e) {
    undo.rollback();
    throw e;
  }

  const messages: string[] = [];
  const known = new Set(prepared.map((p) => p.id));
  ctx.store.tx(() => {
    let idsText = '';
    let lastTagCount = 0;
    for (const p of prepared) {
      const parent = p.parent && (known.has(p.parent) || ctx.db.image(p.parent)) ? p.parent : '';
      ctx.db.addImage({
        id: p.id,
        created: p.config.created ?? '',
        size: p.size,
        parent,
        config: p.configBytes.toString('utf8'),
        chainIds: p.chainIds,
        diffIds: p.diffIds,
      });
      idsText += `Loaded image ID: ${p.id}\n`;
      lastTagCount = 0;
      for (const t of p.tags) {
        const key = refKey(t);
        const prev = ctx.db.ref(key);
        if (prev && prev.image_id !== p.id) {
          messages.push(
            `The image ${familiarString(t)} already exists, renaming the old one with ID ${prev.image_id} to empty string\n`,
          );
        }
        ctx.db.setRef(key, p.id, 'tag');
        messages.push(`Loaded image: ${familiarString(t)}\n`);
        lastTagCount++;
      }
    }
    // dockerd prints every image ID when the last image had no tag.
    if (lastTagCount === 0) messages.push(idsText);
  });
  // Compressed copies and archive metadata are not kept; configs and diffID blobs are.
  const keep = new Set<string>();
  for (const p of prepared) {
    keep.add(p.id);
    for (const d of p.diffIds) keep.add(d);
  }
  blobs.discard(keep);
  for (const p of prepared) publish(ctx, 'load', p.id, p.id, p.config.config?.Labels);
  for (const m of messages) progress({ stream: m });
}
