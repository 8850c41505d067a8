/**
 * What an image archive describes: docker-archive (manifest.json, both the legacy layout of
 * `docker save` ≤ 24 and the OCI-based one of Docker 25+) and the OCI image layout
 * (index.json; manifest lists and indexes pick linux/amd64).
 */
import { badRequest } from '../util/errors.js';
import type { Archive } from './archive.js';

/** One image to load: its config file and layer files inside the archive. */
export interface LoadItem {
  config: string;
  /** The config's digest when the archive names it (OCI descriptors); verified on load. */
  configDigest?: string;
  layers: string[];
  repoTags: string[];
  parent?: string;
}

const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);
const MANIFEST_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
]);

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

function descriptor(v: unknown, where: string): Descriptor {
  if (!isObject(v) || typeof v.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(v.digest)) {
    throw badRequest(`invalid image archive: ${where} is not a valid descriptor`);
  }
  return v as unknown as Descriptor;
}

const blobPath = (digest: string) => `blobs/${digest.replace(':', '/')}`;

export async function describeArchive(
  archive: Archive,
  platform = { os: 'linux', architecture: 'amd64' },
): Promise<LoadItem[]> {
  if (archive.has('manifest.json')) return dockerArchive(archive);
  if (archive.has('index.json')) return ociLayout(archive, platform);
  if (archive.has('repositories')) {
    throw badRequest('invalid image archive: legacy v1 archives without manifest.json are not supported');
  }
  throw badRequest('invalid image archive: neither manifest.json nor index.json found');
}

async function dockerArchive(archive: Archive): Promise<LoadItem[]> {
  const m = await archive.readJson('manifest.json');
  if (!Array.isArray(m)) throw badRequest('invalid image archive: manifest.json is not a list');
  return m.map((item, i) => {
    const where = `manifest.json entry ${i}`;
    if (!isObject(item)) throw badRequest(`invalid image archive: ${where} is not an object`);
    if (typeof item.Config !== 'string') throw badRequest(`invalid image archive: ${where} has no Config`);
    const layers = item.Layers ?? [];
    if (!Array.isArray(layers) || !layers.every((l) => typeof l === 'string')) {
      throw badRequest(`invalid image archive: ${where}: Layers is not a list of paths`);
    }
    const tags = item.RepoTags ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) {
      throw badRequest(`invalid image archive: ${where}: RepoTags is not a list of names`);
    }
    const out: LoadItem = { config: item.Config, layers: layers as string[], repoTags: tags as string[] };
    const cm = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(item.Config);
    if (cm) out.configDigest = `sha256:${cm[1]}`;
    if (typeof item.Parent === 'string' && item.Parent) out.parent = item.Parent;
    return out;
  });
}

async function ociLayout(
  archive: Archive,
  platform: { os: string; architecture: string },
): Promise<LoadItem[]> {
  const index = await archive.readJson('index.json');
  if (!isObject(index) || !Array.isArray(index.manifests)) {
    throw badRequest('invalid image archive: index.json has no manifests list');
  }
  const items: LoadItem[] = [];
  const byConfig = new Map<string, LoadItem>();
  for (const [i, raw] of index.manifests.entries()) {
    const top = descriptor(raw, `index.json manifests[${i}]`);
    const manifest = await resolveManifest(archive, top, platform, 0);
    const name =
      top.annotations?.['io.containerd.image.name'] ??
      refName(top.annotations?.['org.opencontainers.image.ref.name']);
    const existing = byConfig.get(manifest.config);
    if (existing) {
      if (name) existing.repoTags.push(name);
      continue;
    }
    const item: LoadItem = { ...manifest, repoTags: name ? [name] : [] };
    byConfig.set(manifest.config, item);
    items.push(item);
  }
  return items;
}

/** `org.opencontainers.image.ref.name` may be a full name or just a tag; only a name can tag. */
function refName(v: string | undefined): string | undefined {
  if (!v) return undefined;
  return /[:/]/.test(v) ? v : undefined;
}

async function resolveManifest(
  archive: Archive,
  d: Descriptor,
  platform: { os: string; architecture: string },
  depth: number,
): Promise<Omit<LoadItem, 'repoTags'>> {
  if (depth > 4) throw badRequest('invalid image archive: indexes nested too deeply');
  const body = await archive.readJson(blobPath(d.digest));
  if (!isObject(body)) throw badRequest(`invalid image archive: ${d.digest} is not a JSON object`);
  const type = (body.mediaType as string | undefined) ?? d.mediaType;
  if ((type && INDEX_TYPES.has(type)) || (Array.isArray(body.manifests) && !body.config)) {
    const list = (body.manifests as unknown[]).map((m, i) => descriptor(m, `${d.digest} manifests[${i}]`));
    const match =
      list.find(
        (m) => m.platform?.os === platform.os && m.platform?.architecture === platform.architecture,
      ) ?? (list.length === 1 && !list[0]!.platform ? list[0] : undefined);
    if (!match) {
      throw badRequest(
        `no matching manifest for ${platform.os}/${platform.architecture} in the manifest list entries`,
      );
    }
    return resolveManifest(archive, match, platform, depth + 1);
  }
  if (type && !MANIFEST_TYPES.has(type))
    throw badRequest(`invalid image archive: unsupported manifest type ${type}`);
  const config = descriptor(body.config, `${d.digest} config`);
  if (!Array.isArray(body.layers)) throw badRequest(`invalid image archive: ${d.digest} has no layers list`);
  const layers = body.layers.map((l, i) => blobPath(descriptor(l, `${d.digest} layers[${i}]`).digest));
  return { config: blobPath(config.digest), configDigest: config.digest, layers };
}
