/**
 * New images made here rather than loaded: `docker import` (a rootfs tar → one layer) and
 * the layer-on-a-parent form behind `docker commit` and builds.
 */
import type { Readable } from 'node:stream';
import { badRequest } from '../util/errors.js';
import { BlobTracker } from './archive.js';
import { applyChanges } from './changes.js';
import { goTime, type HistoryJson, type ImageConfigJson, serializeImageConfig, sha256 } from './config.js';
import { type Ctx, configOf, publish, refKey, resolveRow } from './context.js';
import type { ImportOptions, LayerImageOptions } from './images.js';
import { addLayer, Undo } from './layers.js';
import { familiarString, type NamedRef, parseNormalizedNamed, withTag } from './reference.js';

const goArch = () => (process.arch === 'x64' ? 'amd64' : process.arch);

/** `repo` (which may carry a tag) + `tag` → the reference to tag the new image with. */
export function targetRef(repo: string | undefined, tag: string | undefined): NamedRef | undefined {
  if (!repo) return undefined;
  let ref = parseNormalizedNamed(repo);
  if (ref.digest !== undefined) throw badRequest('cannot import digest reference');
  if (tag) ref = withTag(ref, tag);
  return ref;
}

function checkPlatform(platform: string | undefined): void {
  if (!platform) return;
  const [os, arch] = platform.split('/');
  if (os !== 'linux' || (arch !== undefined && arch !== goArch())) {
    throw badRequest(`image platform "${platform}" is not supported on this ${goArch()} linux host`);
  }
}

interface NewImageSpec {
  parentId: string;
  parentChain: string[];
  parentDiffIds: string[];
  layer?: { name: string; stream: Readable };
  build(diffIds: string[], created: string, emptyLayer: boolean): ImageConfigJson;
  ref: NamedRef | undefined;
  /** The image event to publish (commit publishes a container event instead, in containers/). */
  action?: 'import';
}

async function createImage(ctx: Ctx, spec: NewImageSpec): Promise<string> {
  const blobs = new BlobTracker(ctx.content);
  const undo = new Undo(ctx, blobs);
  let id: string;
  let diffIds = spec.parentDiffIds;
  let chains = spec.parentChain;
  let config: ImageConfigJson;
  try {
    if (spec.layer) {
      const info = await addLayer(ctx, undo, chains.at(-1) ?? null, spec.layer.name, spec.layer.stream);
      diffIds = [...diffIds, info.diffId];
      chains = [...chains, info.chainId];
    }
    config = spec.build(diffIds, goTime(), !spec.layer);
    const bytes = serializeImageConfig(config);
    id = sha256(bytes);
    await blobs.ingest(bytes, id);
    const size = chains.reduce((n, c) => n + (ctx.snapshots.layer(c)?.size ?? 0), 0);
    ctx.store.tx(() => {
      ctx.db.addImage({
        id,
        created: config.created ?? '',
        size,
        parent: spec.parentId,
        config: bytes.toString('utf8'),
        chainIds: chains,
        diffIds,
      });
      if (spec.ref) {
        ctx.db.setRef(refKey(spec.ref), id, 'tag');
        ctx.db.setLastTagTime(id, goTime());
      }
    });
  } catch (e) {
    undo.rollback();
    throw e;
  }
  if (spec.action) publish(ctx, spec.action, id, id, config.config?.Labels);
  if (spec.ref) publish(ctx, 'tag', id, familiarString(spec.ref), config.config?.Labels);
  return id;
}

export async function importImage(ctx: Ctx, input: Readable, opts: ImportOptions): Promise<string> {
  const ref = targetRef(opts.repo, opts.tag);
  checkPlatform(opts.platform);
  const containerConfig = applyChanges({}, opts.changes ?? []);
  return createImage(ctx, {
    parentId: '',
    parentChain: [],
    parentDiffIds: [],
    layer: { name: 'import', stream: input },
    ref,
    action: 'import',
    build: (diffIds, created) => {
      const history: HistoryJson = { created };
      if (opts.message) history.comment = opts.message;
      return {
        comment: opts.message,
        created,
        container_config: {},
        config: containerConfig,
        architecture: goArch(),
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: [history],
      };
    },
  });
}

export async function createFromLayer(ctx: Ctx, opts: LayerImageOptions): Promise<string> {
  const ref = targetRef(opts.repo, opts.tag);
  const parentRow = opts.parentImageId ? resolveRow(ctx, opts.parentImageId) : undefined;
  const parentConfig = parentRow ? configOf(parentRow) : undefined;
  const parentLayers = parentRow ? ctx.db.layers(parentRow.id) : [];
  const config = applyChanges(opts.config ?? parentConfig?.config ?? {}, opts.changes ?? []);
  const containerConfig = opts.containerConfig ?? {};
  return createImage(ctx, {
    parentId: parentRow?.id ?? '',
    parentChain: parentLayers.map((l) => l.chain_id),
    parentDiffIds: parentLayers.map((l) => l.diff_id),
    ...(opts.layerTar ? { layer: { name: 'layer', stream: opts.layerTar } } : {}),
    ref,
    build: (diffIds, created, emptyLayer) => {
      const h: HistoryJson = {
        created,
        author: opts.author,
        created_by: opts.createdBy ?? (containerConfig.Cmd ?? []).join(' '),
        comment: opts.comment,
        empty_layer: emptyLayer,
      };
      return {
        parent: parentRow?.id,
        comment: opts.comment,
        created,
        container: opts.containerId,
        container_config: containerConfig,
        author: opts.author,
        config,
        architecture: parentConfig?.architecture ?? goArch(),
        ...(parentConfig?.variant ? { variant: parentConfig.variant } : {}),
        os: parentConfig?.os ?? 'linux',
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: [...(parentConfig?.history ?? []), h],
      };
    },
  });
}
