/**
 * Image config JSON (Docker's image.Image / OCI image config): parsing what arrives, and
 * writing new configs with the field order dockerd's encoding/json produces, since the
 * image ID is the sha256 of these exact bytes.
 */
import { createHash } from 'node:crypto';
import { badRequest } from '../util/errors.js';

/** Docker's container.Config as it appears in image configs (all fields optional). */
export interface ContainerConfigJson {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, Record<string, never>> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: Record<string, unknown> | null;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, Record<string, never>> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number;
  Shell?: string[] | null;
}

export interface HistoryJson {
  created?: string;
  author?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfigJson {
  id?: string;
  parent?: string;
  comment?: string;
  created?: string;
  container?: string;
  container_config?: ContainerConfigJson;
  docker_version?: string;
  author?: string;
  config?: ContainerConfigJson | null;
  architecture?: string;
  variant?: string;
  os?: string;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryJson[];
}

const digestRe = /^sha256:[a-f0-9]{64}$/;

/** Parses and checks an image config blob; 400 naming the field when it is not one. */
export function parseImageConfig(bytes: Buffer, what = 'image config'): ImageConfigJson {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw badRequest(`invalid ${what}: ${(e as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`invalid ${what}: not a JSON object`);
  const c = v as Record<string, unknown>;
  const rootfs = c.rootfs as Record<string, unknown> | undefined;
  if (!rootfs || typeof rootfs !== 'object') throw badRequest(`invalid ${what}: rootfs is missing`);
  if (rootfs.type !== 'layers')
    throw badRequest(`invalid ${what}: rootfs.type is '${String(rootfs.type)}', not 'layers'`);
  const ids = rootfs.diff_ids ?? [];
  if (!Array.isArray(ids)) throw badRequest(`invalid ${what}: rootfs.diff_ids is not a list`);
  for (const d of ids) {
    if (typeof d !== 'string' || !digestRe.test(d))
      throw badRequest(`invalid ${what}: rootfs.diff_ids entry '${String(d)}'`);
  }
  for (const f of ['created', 'os', 'architecture', 'author', 'comment', 'parent', 'container'] as const) {
    if (c[f] !== undefined && typeof c[f] !== 'string')
      throw badRequest(`invalid ${what}: ${f} is not a string`);
  }
  if (c.history !== undefined && c.history !== null && !Array.isArray(c.history)) {
    throw badRequest(`invalid ${what}: history is not a list`);
  }
  if (
    c.config !== undefined &&
    c.config !== null &&
    (typeof c.config !== 'object' || Array.isArray(c.config))
  ) {
    throw badRequest(`invalid ${what}: config is not an object`);
  }
  const out = c as unknown as ImageConfigJson;
  out.rootfs = { ...(rootfs as { type: string }), diff_ids: ids as string[] };
  return out;
}

/** chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let prev: string | undefined;
  for (const d of diffIds) {
    prev = prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`;
    out.push(prev);
  }
  return out;
}

export function sha256(data: string | Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Go's time.Time JSON form (RFC3339Nano: fraction without trailing zeros). */
export function goTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));
}

/** Unix seconds of an RFC3339 string (0 for none), like Go's time.Unix(). */
export function unixSeconds(created: string | undefined): number {
  if (!created) return 0;
  const t = Date.parse(created.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/** container.Config with docker's field order and zero values (what `json.Marshal` writes). */
export function canonicalContainerConfig(c: ContainerConfigJson = {}): ContainerConfigJson {
  const out: Record<string, unknown> = {
    Hostname: c.Hostname ?? '',
    Domainname: c.Domainname ?? '',
    User: c.User ?? '',
    AttachStdin: c.AttachStdin ?? false,
    AttachStdout: c.AttachStdout ?? false,
    AttachStderr: c.AttachStderr ?? false,
  };
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length > 0) out.ExposedPorts = sortKeys(c.ExposedPorts);
  out.Tty = c.Tty ?? false;
  out.OpenStdin = c.OpenStdin ?? false;
  out.StdinOnce = c.StdinOnce ?? false;
  out.Env = c.Env ?? null;
  out.Cmd = c.Cmd ?? null;
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  if (c.ArgsEscaped) out.ArgsEscaped = true;
  out.Image = c.Image ?? '';
  out.Volumes = c.Volumes && Object.keys(c.Volumes).length > 0 ? sortKeys(c.Volumes) : null;
  out.WorkingDir = c.WorkingDir ?? '';
  out.Entrypoint = c.Entrypoint ?? null;
  if (c.NetworkDisabled) out.NetworkDisabled = true;
  if (c.MacAddress) out.MacAddress = c.MacAddress;
  out.OnBuild = c.OnBuild ?? null;
  out.Labels = c.Labels ? sortKeys(c.Labels) : null;
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  if (c.StopTimeout !== undefined && c.StopTimeout !== null) out.StopTimeout = c.StopTimeout;
  if (c.Shell && c.Shell.length > 0) out.Shell = c.Shell;
  return out as ContainerConfigJson;
}

/** Go marshals maps with sorted keys. */
function sortKeys<T>(m: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k]!;
  return out;
}

function historyEntry(h: HistoryJson): HistoryJson {
  const out: HistoryJson = { created: h.created ?? '0001-01-01T00:00:00Z' };
  if (h.author) out.author = h.author;
  if (h.created_by) out.created_by = h.created_by;
  if (h.comment) out.comment = h.comment;
  if (h.empty_layer) out.empty_layer = true;
  return out;
}

/** Serialises a new image config in dockerd's field order (image.Image), compact. */
export function serializeImageConfig(c: ImageConfigJson): Buffer {
  const out: Record<string, unknown> = {};
  if (c.parent) out.parent = c.parent;
  if (c.comment) out.comment = c.comment;
  out.created = c.created ?? goTime();
  if (c.container) out.container = c.container;
  out.container_config = canonicalContainerConfig(c.container_config);
  if (c.docker_version) out.docker_version = c.docker_version;
  if (c.author) out.author = c.author;
  if (c.config) out.config = canonicalContainerConfig(c.config);
  if (c.architecture) out.architecture = c.architecture;
  if (c.variant) out.variant = c.variant;
  if (c.os) out.os = c.os;
  out.rootfs = { type: 'layers', diff_ids: c.rootfs.diff_ids };
  if (c.history) out.history = c.history.map(historyEntry);
  return Buffer.from(goJson(out));
}

/** JSON.stringify with Go's HTML-safe escapes (encoding/json escapes <, >, & and U+2028/9). */
export function goJson(v: unknown): string {
  return JSON.stringify(v).replace(
    /[<>&\u2028\u2029]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
