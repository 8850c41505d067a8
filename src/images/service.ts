/** The ImageService: lookups, listing, tagging and dockerd's removal rules. */
import os from 'node:os';
import type { Readable } from 'node:stream';
import { checkFilterNames } from '../api/query.js';
import type { Filters } from '../api/types.js';
import { badRequest, conflict, EngineError } from '../util/errors.js';
import { shortId } from '../util/ids.js';
import { logger } from '../util/log.js';
import { canonicalContainerConfig, goTime, unixSeconds } from './config.js';
import {
  type Ctx,
  configOf,
  familiarOfKey,
  parseKey,
  publish,
  recordOf,
  refKey,
  resolveRow,
} from './context.js';
import { createFromLayer, importImage } from './create.js';
import { ImageDb, type ImageRow, type RefRow } from './image-db.js';
import type {
  DeleteItem,
  DiskUsage,
  HistoryItem,
  ImageInspect,
  ImageInUse,
  ImageService,
  ImageServiceDeps,
  ImageSummary,
  ListOptions,
  PruneReport,
} from './images.js';
import { releaseUnused } from './layers.js';
import { loadImages } from './load.js';
import {
  familiarMatch,
  familiarName,
  familiarString,
  isImageIdPrefix,
  parseNormalizedNamed,
  tagNameOnly,
  withTag,
} from './reference.js';
import { saveImages } from './save.js';

const log = logger('images');

const noUse: ImageInUse = () => ({ running: [], stopped: [] });

// dockerd's conflict classes (daemon/images/image_delete.go).
const DEPENDENT_CHILD = 1;
const RUNNING_CONTAINER = 2;
const ACTIVE_REFERENCE = 4;
const STOPPED_CONTAINER = 8;
const HARD = DEPENDENT_CHILD | RUNNING_CONTAINER;
const SOFT = ACTIVE_REFERENCE | STOPPED_CONTAINER;

interface DeleteConflict {
  hard: boolean;
  used: boolean;
  error: EngineError;
}

/** dockerd's isSingleReference: one tag, plus any digests of that same repository. */
function isSingleReference(refs: RefRow[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: RefRow | undefined;
  const canonical = new Set<string>();
  const nameOf = (r: RefRow) => {
    const p = parseKey(r.ref);
    return `${p.domain}/${p.path}`;
  };
  for (const r of refs) {
    if (r.kind === 'digest') canonical.add(nameOf(r));
    else if (!single) single = r;
    else return false;
  }
  single ??= refs[0]!;
  return canonical.size === 1 && canonical.has(nameOf(single));
}

function boolFilter(filters: Filters, name: string): boolean | undefined {
  const values = filters.get(name);
  if (!values || values.length === 0) return undefined;
  let out: boolean | undefined;
  for (const v of values) {
    if (v === 'true' || v === '1') out = true;
    else if (v === 'false' || v === '0') out = false;
    else throw badRequest(`Invalid filter '${name}=${v}'`);
  }
  return out;
}

function matchLabels(
  wanted: string[] | undefined,
  labels: Record<string, string> | null | undefined,
): boolean {
  if (!wanted || wanted.length === 0) return true;
  return wanted.every((w) => {
    const i = w.indexOf('=');
    if (i < 0) return labels != null && w in labels;
    return labels != null && labels[w.slice(0, i)] === w.slice(i + 1);
  });
}

function matchNegLabels(
  unwanted: string[] | undefined,
  labels: Record<string, string> | null | undefined,
): boolean {
  if (!unwanted || unwanted.length === 0) return true;
  return !unwanted.some((w) => matchLabels([w], labels));
}

/** Created time in ms, keeping order for sub-ms differences good enough for before/since. */
function createdMs(row: ImageRow): number {
  const t = Date.parse((row.created || '0001-01-01T00:00:00Z').replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(t) ? 0 : t;
}

function parseUntil(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const d = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$/.exec(v);
  if (d) {
    const mult: Record<string, number> = {
      ns: 1e-6,
      us: 1e-3,
      µs: 1e-3,
      ms: 1,
      s: 1000,
      m: 60_000,
      h: 3_600_000,
    };
    return Date.now() - Number(d[1]) * mult[d[2]!]!;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw badRequest(`invalid filter 'until=${v}'`);
  return t;
}

class Service implements ImageService {
  private readonly ctx: Ctx;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(deps: ImageServiceDeps) {
    this.ctx = {
      store: deps.store,
      db: new ImageDb(deps.store),
      content: deps.content,
      snapshots: deps.snapshots,
      tmpDir: deps.tmpDir ?? os.tmpdir(),
      events: deps.events,
      inUse: deps.isImageInUse ?? noUse,
    };
  }

  /** Changes that add or remove layers run one at a time, so a rollback never races a user. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  setImageInUse(fn: ImageInUse): void {
    this.ctx.inUse = fn;
  }

  resolve(refOrId: string) {
    return recordOf(this.ctx, resolveRow(this.ctx, refOrId));
  }

  get(id: string) {
    const row = this.ctx.db.image(id);
    return row ? recordOf(this.ctx, row) : undefined;
  }

  count(): number {
    return this.ctx.db.count();
  }

  private summary(row: ImageRow): ImageSummary {
    return {
      Containers: -1,
      Created: unixSeconds(row.created),
      Id: row.id,
      Labels: configOf(row).config?.Labels ?? null,
      ParentId: row.parent,
      RepoDigests: [],
      RepoTags: [],
      SharedSize: -1,
      Size: row.size,
      VirtualSize: row.size,
    };
  }

  list(opts: ListOptions = {}): ImageSummary[] {
    const ctx = this.ctx;
    const filters = opts.filters ?? new Map<string, string[]>();
    checkFilterNames(filters, ['dangling', 'label', 'before', 'since', 'reference', 'until']);
    const dangling = boolFilter(filters, 'dangling');
    const danglingOnly = dangling === true;
    let before: number | undefined;
    let since: number | undefined;
    for (const v of filters.get('before') ?? []) before = createdMs(resolveRow(ctx, v));
    for (const v of filters.get('since') ?? []) since = createdMs(resolveRow(ctx, v));
    let until: number | undefined;
    for (const v of filters.get('until') ?? []) until = parseUntil(v);
    const refPatterns = filters.get('reference') ?? [];
    const labels = filters.get('label');

    const rows = ctx.db.images();
    const hasChildren = new Set(rows.map((r) => r.parent).filter(Boolean));
    const refsByImage = new Map<string, RefRow[]>();
    for (const r of ctx.db.allRefs()) {
      const list = refsByImage.get(r.image_id) ?? [];
      list.push(r);
      refsByImage.set(r.image_id, list);
    }
    const out: { s: ImageSummary; ms: number }[] = [];
    for (const row of rows) {
      if (danglingOnly && hasChildren.has(row.id)) continue;
      const ms = createdMs(row);
      if (before !== undefined && !(ms < before)) continue;
      if (since !== undefined && !(ms > since)) continue;
      if (until !== undefined && !(ms < until)) continue;
      const cfg = configOf(row);
      if (labels && labels.length > 0 && (!cfg.config || !matchLabels(labels, cfg.config.Labels))) continue;
      const s = this.summary(row);
      for (const r of refsByImage.get(row.id) ?? []) {
        const ref = parseKey(r.ref);
        if (refPatterns.length > 0 && !refPatterns.some((p) => familiarMatch(p, ref))) continue;
        if (r.kind === 'digest') s.RepoDigests.push(familiarString(ref));
        else s.RepoTags.push(familiarString(ref));
      }
      if (s.RepoDigests.length === 0 && s.RepoTags.length === 0) {
        if (!(opts.all || !hasChildren.has(row.id))) continue;
        if (dangling === false) continue;
        if (refPatterns.length > 0) continue;
        s.RepoDigests = ['<none>@<none>'];
        s.RepoTags = ['<none>:<none>'];
      } else if (danglingOnly && s.RepoTags.length > 0) continue;
      out.push({ s, ms });
    }
    if (opts.extraAttributes) this.addExtraAttributes(out.map((o) => o.s));
    out.sort((a, b) => b.ms - a.ms || (a.s.Id < b.s.Id ? -1 : 1));
    return out.map((o) => o.s);
  }

  /** Containers and SharedSize for system df, as dockerd computes them. */
  private addExtraAttributes(images: ImageSummary[]): void {
    const layerRefs = new Map<string, number>();
    const layersOf = new Map<string, string[]>();
    for (const img of images) {
      const chains = this.ctx.db.layers(img.Id).map((l) => l.chain_id);
      layersOf.set(img.Id, chains);
      for (const c of chains) layerRefs.set(c, (layerRefs.get(c) ?? 0) + 1);
      const use = this.ctx.inUse(img.Id);
      img.Containers = use.running.length + use.stopped.length;
    }
    for (const img of images) {
      img.SharedSize = 0;
      for (const c of layersOf.get(img.Id) ?? []) {
        if ((layerRefs.get(c) ?? 0) > 1) img.SharedSize += this.ctx.snapshots.layer(c)?.size ?? 0;
      }
    }
  }

  usage(): DiskUsage {
    const images = this.list({ extraAttributes: true });
    const chains = new Set(this.ctx.db.allLayers().map((l) => l.chain_id));
    let size = 0;
    for (const c of chains) size += this.ctx.snapshots.layer(c)?.size ?? 0;
    return { LayersSize: size, Images: images };
  }

  inspect(refOrId: string): ImageInspect {
    const row = resolveRow(this.ctx, refOrId);
    const rec = recordOf(this.ctx, row);
    const cfg = rec.config;
    let graph: Record<string, string> | null = null;
    if (rec.topChainId) {
      const dirs = this.ctx.snapshots.lowerDirs(rec.topChainId);
      const upper = dirs[0]!;
      const base = upper.replace(/\/[^/]+$/, '');
      graph = {};
      if (dirs.length > 1) graph.LowerDir = dirs.slice(1).join(':');
      graph.MergedDir = `${base}/merged`;
      graph.UpperDir = upper;
      graph.WorkDir = `${base}/work`;
    }
    const out: ImageInspect = {
      Id: row.id,
      RepoTags: rec.repoTags,
      RepoDigests: rec.repoDigests,
      Parent: row.parent,
      Comment: cfg.comment ?? '',
      Created: cfg.created ?? '0001-01-01T00:00:00Z',
      Container: cfg.container ?? '',
      ContainerConfig: canonicalContainerConfig(cfg.container_config),
      DockerVersion: cfg.docker_version ?? '',
      Author: cfg.author ?? '',
      Config: cfg.config ? canonicalContainerConfig(cfg.config) : null,
      Architecture: cfg.architecture ?? '',
      Os: cfg.os ?? '',
      Size: row.size,
      VirtualSize: row.size,
      GraphDriver: { Data: graph, Name: 'overlay2' },
      RootFS: { Type: 'layers', Layers: cfg.rootfs.diff_ids },
      Metadata: { LastTagTime: row.last_tag_time },
    };
    if (cfg.variant) {
      // dockerd places Variant right after Architecture.
      const { Os, Size, VirtualSize, GraphDriver, RootFS, Metadata, ...head } = out;
      return { ...head, Variant: cfg.variant, Os, Size, VirtualSize, GraphDriver, RootFS, Metadata };
    }
    return out;
  }

  history(refOrId: string): HistoryItem[] {
    const ctx = this.ctx;
    let row: ImageRow | undefined = resolveRow(ctx, refOrId);
    const cfg = configOf(row);
    const layers = ctx.db.layers(row.id);
    const items: HistoryItem[] = [];
    let n = 0;
    for (const h of cfg.history ?? []) {
      let size = 0;
      if (!h.empty_layer) {
        const l = layers[n];
        if (!l) throw badRequest('too many non-empty layers in History section');
        size = ctx.snapshots.layer(l.chain_id)?.size ?? 0;
        n++;
      }
      items.unshift({
        Comment: h.comment ?? '',
        Created: unixSeconds(h.created),
        CreatedBy: h.created_by ?? '',
        Id: '<missing>',
        Size: size,
        Tags: null,
      });
    }
    for (const item of items) {
      if (!row) break;
      item.Id = row.id;
      const tags = ctx.db
        .refsOf(row.id)
        .filter((r) => r.kind === 'tag')
        .map((r) => familiarOfKey(r.ref));
      item.Tags = tags.length ? tags : null;
      row = row.parent ? ctx.db.image(row.parent) : undefined;
    }
    return items;
  }

  tag(source: string, repo: string, tag?: string): string {
    const ctx = this.ctx;
    const row = resolveRow(ctx, source);
    let ref = parseNormalizedNamed(repo);
    if (tag) ref = withTag(ref, tag);
    else if (ref.digest !== undefined) throw badRequest('refusing to create a tag with a digest reference');
    ref = tagNameOnly(ref);
    if (familiarName(ref) === 'sha256') {
      throw badRequest('refusing to create an ambiguous tag using digest algorithm as name');
    }
    ctx.store.tx(() => {
      ctx.db.setRef(refKey(ref), row.id, 'tag');
      ctx.db.setLastTagTime(row.id, goTime());
    });
    const name = familiarString(ref);
    publish(ctx, 'tag', row.id, name, configOf(row).config?.Labels);
    return name;
  }

  remove(refOrId: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<DeleteItem[]> {
    return this.serial(async () => this.removeNow(refOrId, !!opts.force, !opts.noprune));
  }

  /** dockerd's ImageDelete. */
  private removeNow(refOrId: string, force: boolean, prune: boolean): DeleteItem[] {
    const ctx = this.ctx;
    const row = resolveRow(ctx, refOrId);
    const id = row.id;
    const records: DeleteItem[] = [];
    let repoRefs = ctx.db.refsOf(id);
    let removedRepositoryRef = false;
    const untag = (key: string) => {
      ctx.db.deleteRef(key);
      records.push({ Untagged: familiarOfKey(key) });
      publish(ctx, 'untag', id, id);
    };
    if (!isImageIdPrefix(id, refOrId)) {
      if (!force && isSingleReference(repoRefs)) {
        const use = ctx.inUse(id);
        const c = use.running[0] ?? use.stopped[0];
        if (c) {
          throw conflict(
            `conflict: unable to remove repository reference "${refOrId}" (must force) - container ${shortId(c)} is using its referenced image ${shortId(id)}`,
          );
        }
      }
      const parsed = tagNameOnly(parseNormalizedNamed(refOrId));
      const key = refKey(parsed);
      ctx.db.deleteRef(key);
      records.push({ Untagged: familiarString(parsed) });
      publish(ctx, 'untag', id, id);
      repoRefs = ctx.db.refsOf(id);
      if (parsed.digest === undefined) {
        const name = `${parsed.domain}/${parsed.path}`;
        const sameRepo = (r: RefRow) => {
          const p = parseKey(r.ref);
          return `${p.domain}/${p.path}` === name;
        };
        if (!repoRefs.some((r) => r.kind === 'tag' && sameRepo(r))) {
          for (const r of repoRefs.filter((x) => x.kind === 'digest' && sameRepo(x))) untag(r.ref);
          repoRefs = ctx.db.refsOf(id);
        }
      }
      if (repoRefs.length > 0) return records;
      removedRepositoryRef = true;
    } else if (isSingleReference(repoRefs)) {
      const mask = HARD | (force ? 0 : SOFT & ~ACTIVE_REFERENCE);
      const c = this.deleteConflict(id, mask);
      if (c) throw c.error;
      for (const r of repoRefs) untag(r.ref);
    }
    this.deleteHelper(id, records, force, prune, removedRepositoryRef);
    return records;
  }

  private deleteConflict(id: string, mask: number): DeleteConflict | undefined {
    const ctx = this.ctx;
    const make = (hard: boolean, used: boolean, message: string): DeleteConflict => ({
      hard,
      used,
      error: conflict(
        `conflict: unable to delete ${shortId(id)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${message}`,
      ),
    });
    if (mask & DEPENDENT_CHILD && ctx.db.children(id).length > 0)
      return make(true, false, 'image has dependent child images');
    const use = mask & (RUNNING_CONTAINER | STOPPED_CONTAINER) ? ctx.inUse(id) : { running: [], stopped: [] };
    if (mask & RUNNING_CONTAINER && use.running.length > 0) {
      return make(true, true, `image is being used by running container ${shortId(use.running[0]!)}`);
    }
    if (mask & ACTIVE_REFERENCE && ctx.db.refsOf(id).length > 0) {
      return make(false, false, 'image is referenced in multiple repositories');
    }
    if (mask & STOPPED_CONTAINER && use.stopped.length > 0) {
      return make(false, true, `image is being used by stopped container ${shortId(use.stopped[0]!)}`);
    }
    return undefined;
  }

  private deleteHelper(
    id: string,
    records: DeleteItem[],
    force: boolean,
    prune: boolean,
    quiet: boolean,
  ): void {
    const ctx = this.ctx;
    const c = this.deleteConflict(id, HARD | (force ? 0 : SOFT));
    if (c) {
      const dangling = ctx.db.refsOf(id).length === 0 && ctx.db.children(id).length === 0;
      if (quiet && (!dangling || c.used)) return;
      throw c.error;
    }
    const row = ctx.db.image(id);
    if (!row) return;
    for (const r of ctx.db.refsOf(id)) {
      ctx.db.deleteRef(r.ref);
      records.push({ Untagged: familiarOfKey(r.ref) });
      publish(ctx, 'untag', id, id);
    }
    const removed = this.deleteImage(row);
    publish(ctx, 'delete', id, id);
    records.push({ Deleted: id });
    for (const l of removed) records.push({ Deleted: l });
    if (prune && row.parent) this.deleteHelper(row.parent, records, false, true, true);
  }

  /**
   * Deletes an image's row and config blob, then its layers that no other image lists, top
   * down. A layer a container stands on (rmi -f of an image a container uses) is refused by
   * the snapshot store (409) and stays, with the layers below it, until `releaseUnusedLayers`
   * after that container's removal. Returns the removed chain IDs.
   */
  private deleteImage(row: ImageRow): string[] {
    const ctx = this.ctx;
    const layers = ctx.db.layers(row.id);
    ctx.store.tx(() => ctx.db.deleteImage(row.id));
    try {
      ctx.content.delete(row.id);
    } catch {
      // the config blob may be gone already
    }
    const removed: string[] = [];
    for (const l of [...layers].reverse()) {
      // Another image's chain includes this layer, hence every layer below it too.
      if (ctx.db.chainUsers(l.chain_id) > 0) break;
      try {
        if (ctx.snapshots.hasLayer(l.chain_id)) ctx.snapshots.removeLayer(l.chain_id);
      } catch (e) {
        if (!(e instanceof EngineError && e.status === 409)) throw e;
        log.debug(`layer ${l.chain_id} kept: ${e.message}`);
        break;
      }
      removed.push(l.chain_id);
    }
    return removed;
  }

  releaseUnusedLayers(): Promise<string[]> {
    return this.serial(async () => releaseUnused(this.ctx));
  }

  prune(opts: { filters?: Filters } = {}): Promise<PruneReport> {
    return this.serial(async () => {
      const ctx = this.ctx;
      const filters = opts.filters ?? new Map<string, string[]>();
      checkFilterNames(filters, ['dangling', 'label', 'label!', 'until']);
      const dangling = boolFilter(filters, 'dangling');
      const danglingOnly = dangling !== false;
      let until: number | undefined;
      for (const v of filters.get('until') ?? []) until = parseUntil(v);
      const sizes = new Map<string, number>();
      for (const l of ctx.snapshots.listLayers()) sizes.set(l.chainId, l.size);
      const rows = ctx.db.images();
      const hasChildren = new Set(rows.map((r) => r.parent).filter(Boolean));
      const report: PruneReport = { ImagesDeleted: null, SpaceReclaimed: 0 };
      const deleted: DeleteItem[] = [];
      for (const row of rows) {
        if (danglingOnly && hasChildren.has(row.id)) continue;
        if (!ctx.db.image(row.id)) continue;
        const refs = ctx.db.refsOf(row.id);
        if (refs.length === 0 && hasChildren.has(row.id)) continue;
        if (until !== undefined && !(createdMs(row) < until)) continue;
        const labels = configOf(row).config?.Labels;
        if (!matchLabels(filters.get('label'), labels) || !matchNegLabels(filters.get('label!'), labels))
          continue;
        const attempt = (target: string) => {
          try {
            deleted.push(...this.removeNow(target, false, true));
          } catch (e) {
            if (!(e instanceof EngineError && (e.status === 409 || e.status === 404))) throw e;
          }
        };
        if (refs.length > 0) {
          const shouldDelete = !danglingOnly || !refs.some((r) => r.kind === 'tag');
          if (shouldDelete) for (const r of refs) attempt(familiarOfKey(r.ref));
        } else attempt(row.id.slice('sha256:'.length));
      }
      for (const d of deleted) {
        if ('Deleted' in d) report.SpaceReclaimed += sizes.get(d.Deleted) ?? 0;
      }
      // Layers left by an earlier rmi -f whose container is gone now; no image to report them under.
      for (const c of releaseUnused(ctx)) report.SpaceReclaimed += sizes.get(c) ?? 0;
      if (deleted.length > 0) report.ImagesDeleted = deleted;
      return report;
    });
  }

  load(tar: Readable, opts: { quiet?: boolean; progress?: (m: object) => void } = {}): Promise<void> {
    return this.serial(() => loadImages(this.ctx, tar, !!opts.quiet, opts.progress ?? (() => {})));
  }

  save(refs: string[]): Readable {
    if (refs.length === 0) throw badRequest('no image names given');
    return saveImages(this.ctx, refs);
  }

  import(tar: Readable, opts = {}): Promise<string> {
    return this.serial(() => importImage(this.ctx, tar, opts));
  }

  createImageFromLayer(opts: Parameters<ImageService['createImageFromLayer']>[0]): Promise<string> {
    return this.serial(() => createFromLayer(this.ctx, opts));
  }
}

export function openImageService(deps: ImageServiceDeps): ImageService {
  return new Service(deps);
}
