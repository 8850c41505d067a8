/**
 * `docker save`: images → a docker-archive in the legacy layout that every `docker load`
 * reads (`<v1id>/{VERSION,json,layer.tar}`, `<config hex>.json`, manifest.json,
 * repositories). Configs are the stored bytes and layer tars the snapshot store's copies of
 * the tars as they arrived, so image IDs and diffIDs survive the trip.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { Header, Pack } from 'tar-stream';
import { logger } from '../util/log.js';
import { canonicalContainerConfig, goJson } from './config.js';
import { type Ctx, parseKey, publish, resolveRow } from './context.js';
import { familiarName, type NamedRef, parseAnyReference, refString } from './reference.js';

// tar-stream (CommonJS) is required at first use: an idle daemon that loads no image never needs it.
const requireCjs = createRequire(import.meta.url);
let tarStream: typeof import('tar-stream') | undefined;
function tarLib(): typeof import('tar-stream') {
  tarStream ??= requireCjs('tar-stream') as typeof import('tar-stream');
  return tarStream;
}

const log = logger('images');

interface SaveImage {
  id: string;
  tags: NamedRef[];
}

/** docker's parseNames: a name alone saves all its tags, name:tag one tag, an ID no tag. */
export function selectImages(ctx: Ctx, names: string[]): SaveImage[] {
  const out = new Map<string, SaveImage>();
  const add = (id: string, tag?: NamedRef) => {
    let img = out.get(id);
    if (!img) {
      img = { id, tags: [] };
      out.set(id, img);
    }
    if (tag && !img.tags.some((t) => refString(t) === refString(tag))) img.tags.push(tag);
  };
  for (const name of names) {
    const any = parseAnyReference(name);
    if (any.kind === 'id' || familiarName(any.ref) === 'sha256') {
      add(resolveRow(ctx, name).id);
      continue;
    }
    const r = any.ref;
    if (r.tag === undefined && r.digest === undefined) {
      const repo = `${r.domain}/${r.path}`;
      const refs = ctx.db
        .allRefs()
        .filter((x) => x.kind === 'tag')
        .map((x) => ({ row: x, ref: parseKey(x.ref) }))
        .filter((x) => `${x.ref.domain}/${x.ref.path}` === repo);
      if (refs.length > 0) for (const x of refs) add(x.row.image_id, x.ref);
      else add(resolveRow(ctx, name).id);
      continue;
    }
    const row = resolveRow(ctx, name);
    add(row.id, r.digest === undefined ? r : undefined);
  }
  return [...out.values()];
}

function v1Id(chainId: string, parent: string): string {
  return createHash('sha256')
    .update(goJson({ layer_id: chainId, parent }))
    .digest('hex');
}

export function saveImages(ctx: Ctx, names: string[]): Readable {
  const images = selectImages(ctx, names);
  const pack = tarLib().pack();
  const write = async () => {
    const manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    const written = new Set<string>();
    for (const img of images) {
      const row = ctx.db.image(img.id);
      if (!row) throw new Error(`image ${img.id} was removed during save`);
      const mtime = row.created ? new Date(row.created) : new Date(0);
      const layerPaths: string[] = [];
      let parent = '';
      for (const l of ctx.db.layers(img.id)) {
        const id = v1Id(l.chain_id, parent);
        if (!written.has(id)) {
          written.add(id);
          const json: Record<string, unknown> = { id };
          if (parent) json.parent = parent;
          json.created = '1970-01-01T00:00:00Z';
          json.container_config = canonicalContainerConfig();
          json.os = 'linux';
          await entry(pack, { name: `${id}/`, type: 'directory', mode: 0o755, mtime });
          await entry(pack, { name: `${id}/VERSION`, mode: 0o644, mtime }, Buffer.from('1.0'));
          await entry(pack, { name: `${id}/json`, mode: 0o644, mtime }, Buffer.from(goJson(json)));
          await entry(
            pack,
            { name: `${id}/layer.tar`, mode: 0o644, mtime, size: ctx.snapshots.layerTarSize(l.chain_id) },
            ctx.snapshots.layerTar(l.chain_id),
          );
        }
        layerPaths.push(`${id}/layer.tar`);
        parent = id;
      }
      const hex = img.id.slice('sha256:'.length);
      await entry(pack, { name: `${hex}.json`, mode: 0o644, mtime }, Buffer.from(row.config, 'utf8'));
      const tags = img.tags.map((t) => `${familiarName(t)}:${t.tag}`);
      manifest.push({ Config: `${hex}.json`, RepoTags: tags.length ? tags : null, Layers: layerPaths });
      for (const t of img.tags) {
        repositories[familiarName(t)] ??= {};
        repositories[familiarName(t)]![t.tag!] = parent;
      }
    }
    const epoch = new Date(0);
    await entry(pack, { name: 'manifest.json', mode: 0o644, mtime: epoch }, Buffer.from(goJson(manifest)));
    if (Object.keys(repositories).length > 0) {
      await entry(
        pack,
        { name: 'repositories', mode: 0o644, mtime: epoch },
        Buffer.from(`${goJson(repositories)}\n`),
      );
    }
    pack.finalize();
    for (const img of images) publish(ctx, 'save', img.id, img.id);
  };
  write().catch((e: Error) => {
    log.warn(`save failed: ${e.message}`);
    pack.destroy(e);
  });
  return Readable.from(pack, { objectMode: false });
}

function entry(
  pack: Pack,
  header: Partial<Header> & { name: string },
  body?: Buffer | Readable,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (body === undefined || Buffer.isBuffer(body)) {
      pack.entry(header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
      return;
    }
    const e = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    body.on('error', (err) => {
      e.destroy(err);
      reject(err);
    });
    body.pipe(e);
  });
}
