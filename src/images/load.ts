/**
 * `docker load`: an archive → images, all or nothing. The archive is spooled, each layer is
 * unpacked from the spool into the snapshot store (the one copy of its tar), configs become
 * blobs; layers and blobs this load adds are taken back out if anything fails, rows are
 * written in one transaction at the end, and the spool is removed either way.
 */
import type { Readable } from 'node:stream';
import { badRequest } from '../util/errors.js';
import { type Archive, BlobTracker, readArchive } from './archive.js';
import { chainIds, type ImageConfigJson, parseImageConfig, sha256 } from './config.js';
import { type Ctx, publish, refKey } from './context.js';
import { describeArchive } from './formats.js';
import type { Progress } from './images.js';
import { loadLayer, Undo } from './layers.js';
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
  await undo.blobs.ingest(configBytes, id);
  const chains = chainIds(diffIds);
  let size = 0;
  for (let i = 0; i < item.layers.length; i++) {
    const layer = {
      index: i,
      name: item.layers[i]!,
      parent: i === 0 ? null : chains[i - 1]!,
      chainId: chains[i]!,
      diffId: diffIds[i]!,
    };
    await loadLayer(ctx, undo, archive, layer, progress);
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
  let archive: Archive | undefined;
  try {
    archive = await readArchive(input, ctx.tmpDir);
    const items = await describeArchive(archive);
    prepared = [];
    for (const item of items)
      prepared.push(await prepareItem(ctx, archive, undo, item, quiet ? undefined : progress));
  } catch (e) {
    undo.rollback();
    throw e;
  } finally {
    archive?.dispose();
  }

  const messages: string[] = [];
  const known = new Set(prepared.map((p) => p.id));
  try {
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
  } catch (e) {
    undo.rollback();
    throw e;
  }
  for (const p of prepared) publish(ctx, 'load', p.id, p.id, p.config.config?.Labels);
  for (const m of messages) progress({ stream: m });
}
