// Row contexts for --format, one per listing, with the fields and column titles of docker's
// formatter package. `{{json .}}` of a row prints every field, keys sorted like Go's maps.
import { humanDuration, humanSize, humanSizeWithPrecision } from '../../util/units.js';
import { familiarName, familiarString, parseNormalizedNamed } from '../reference.js';

export function truncateId(id: string): string {
  const i = id.indexOf(':');
  const s = i >= 0 ? id.slice(i + 1) : id;
  return s.length > 12 ? s.slice(0, 12) : s;
}

/** docker's formatter.Ellipsis for single-width text. */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  const rs = [...s];
  if (max === 1) return rs[0] ?? '';
  if (rs.length <= max) return s;
  return `${rs.slice(0, max - 1).join('')}…`;
}

/** Go's strconv.Quote. */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Go's time.Time.String() in local time: "2006-01-02 15:04:05 -0700 MST". */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const zone =
    off === 0
      ? 'UTC'
      : (new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
          .formatToParts(d)
          .find((p) => p.type === 'timeZoneName')?.value ?? '');
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ` +
    `${sign}${pad2(Math.trunc(abs / 60))}${pad2(abs % 60)} ${zone}`
  );
}

/** Go's time.RFC3339 in local time ("2006-01-02T15:04:05Z07:00"). */
export function goRfc3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const abs = Math.abs(off);
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${pad2(Math.trunc(abs / 60))}:${pad2(abs % 60)}`;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}${zone}`;
}

function sortedJson(obj: object, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of [...keys].sort()) out[k] = (obj as Record<string, unknown>)[k];
  return out;
}

// ---- images ----------------------------------------------------------------------------------

export interface ImageSummary {
  Id: string;
  ParentId?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels?: Record<string, string> | null;
  Containers: number;
}

export const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

export const DEFAULT_IMAGE_TABLE =
  'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
export const DEFAULT_IMAGE_TABLE_DIGEST =
  'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

export class ImageRow {
  constructor(
    private readonly i: ImageSummary,
    private readonly trunc: boolean,
    readonly Repository: string,
    readonly Tag: string,
    readonly Digest: string,
  ) {}
  get ID(): string {
    return this.trunc ? truncateId(this.i.Id) : this.i.Id;
  }
  get CreatedSince(): string {
    return `${humanDuration(Date.now() - this.i.Created * 1000)} ago`;
  }
  get CreatedAt(): string {
    return goTimeString(this.i.Created);
  }
  get Size(): string {
    return humanSizeWithPrecision(this.i.Size, 3);
  }
  get Containers(): string {
    return this.i.Containers === -1 ? 'N/A' : String(this.i.Containers);
  }
  get VirtualSize(): string {
    return humanSize(this.i.Size);
  }
  get SharedSize(): string {
    return this.i.SharedSize === -1 ? 'N/A' : humanSize(this.i.SharedSize);
  }
  get UniqueSize(): string {
    return this.i.Size === -1 || this.i.SharedSize === -1
      ? 'N/A'
      : humanSize(this.i.Size - this.i.SharedSize);
  }
  toJSON(): Record<string, unknown> {
    return sortedJson(this, Object.keys(IMAGE_HEADERS));
  }
}

function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return (
    tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>'
  );
}

/** One row per repository:tag (and per digest with --digests), like docker's imageFormat. */
export function imageRows(images: ImageSummary[], trunc: boolean, showDigests: boolean): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const img of images) {
    if (isDangling(img)) {
      rows.push(new ImageRow(img, trunc, '<none>', '<none>', '<none>'));
      continue;
    }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const s of img.RepoTags ?? []) {
      const ref = parseNormalizedNamed(s);
      if (!ref?.tag) continue;
      const name = familiarName(ref);
      repoTags.set(name, [...(repoTags.get(name) ?? []), ref.tag]);
    }
    for (const s of img.RepoDigests ?? []) {
      const ref = parseNormalizedNamed(s);
      if (!ref?.digest) continue;
      const name = familiarName(ref);
      repoDigests.set(name, [...(repoDigests.get(name) ?? []), ref.digest]);
    }
    for (const [repo, tags] of repoTags) {
      let digests = repoDigests.get(repo) ?? [];
      repoDigests.delete(repo);
      if (!showDigests) digests = [];
      for (const tag of tags) {
        if (digests.length === 0) rows.push(new ImageRow(img, trunc, repo, tag, '<none>'));
        else for (const d of digests) rows.push(new ImageRow(img, trunc, repo, tag, d));
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (showDigests) for (const d of digests) rows.push(new ImageRow(img, trunc, repo, '<none>', d));
      else rows.push(new ImageRow(img, trunc, repo, '<none>', ''));
    }
  }
  return rows;
}

// ---- containers ------------------------------------------------------------------------------

export interface PortSummary {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export interface MountSummary {
  Name?: string;
  Source?: string;
  Driver?: string;
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports?: PortSummary[] | null;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels?: Record<string, string> | null;
  State: string;
  Status: string;
  Mounts?: MountSummary[] | null;
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
}

export const CONTAINER_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
};

export const DEFAULT_CONTAINER_TABLE =
  'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

function comparePorts(a: PortSummary, b: PortSummary): number {
  if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
  if ((a.IP ?? '') !== (b.IP ?? '')) return (a.IP ?? '') < (b.IP ?? '') ? -1 : 1;
  if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
  return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
}

function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** "0.0.0.0:8080->80/tcp, 9988/tcp" with consecutive ports grouped, like docker ps. */
export function displayablePorts(input: PortSummary[]): string {
  const ports = [...input].sort(comparePorts);
  const groups = new Map<string, { first: number; last: number }>();
  const order: string[] = [];
  const result: string[] = [];
  const hostMappings: string[] = [];
  const formGroup = (key: string, first: number, last: number) => {
    const parts = key.split('/');
    let type = parts[0] ?? '';
    let ip = '';
    if (parts.length > 1) {
      ip = parts[0] ?? '';
      type = parts[1] ?? '';
    }
    let group = String(first);
    if (first !== last) group = `${group}-${last}`;
    if (ip) group = `${joinHostPort(ip, group)}->${group}`;
    return `${group}/${type}`;
  };
  for (const p of ports) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(p.IP, String(p.PublicPort ?? 0))}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
      order.push(key);
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    groups.set(key, { first: current, last: current });
  }
  for (const key of order) {
    const g = groups.get(key);
    if (g) result.push(formGroup(key, g.first, g.last));
  }
  result.push(...hostMappings);
  return result.join(', ');
}

export class ContainerRow {
  constructor(
    private readonly c: ContainerSummary,
    private readonly trunc: boolean,
  ) {}
  get ID(): string {
    return this.trunc ? truncateId(this.c.Id) : this.c.Id;
  }
  get Names(): string {
    const names = this.c.Names.map((n) => (n.startsWith('/') ? n.slice(1) : n));
    if (this.trunc) return names.find((n) => !n.includes('/')) ?? '';
    return names.join(',');
  }
  get Image(): string {
    const image = this.c.Image;
    if (!image) return '<no image>';
    if (!this.trunc) return image;
    const t = truncateId(this.c.ImageID ?? '');
    if (t === truncateId(image)) return t;
    const ref = parseNormalizedNamed(image);
    if (!ref) return image;
    if (ref.digest) return familiarString({ ...ref, digest: undefined });
    return familiarString(ref);
  }
  get Command(): string {
    return goQuote(this.trunc ? ellipsis(this.c.Command, 20) : this.c.Command);
  }
  get CreatedAt(): string {
    return goTimeString(this.c.Created);
  }
  get RunningFor(): string {
    return `${humanDuration(Date.now() - this.c.Created * 1000)} ago`;
  }
  get Ports(): string {
    return displayablePorts(this.c.Ports ?? []);
  }
  get State(): string {
    return this.c.State;
  }
  get Status(): string {
    return this.c.Status;
  }
  get Size(): string {
    const srw = humanSizeWithPrecision(this.c.SizeRw ?? 0, 3);
    const sv = humanSizeWithPrecision(this.c.SizeRootFs ?? 0, 3);
    return (this.c.SizeRootFs ?? 0) > 0 ? `${srw} (virtual ${sv})` : srw;
  }
  get Labels(): string {
    const l = this.c.Labels;
    if (!l) return '';
    return Object.entries(l)
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join(',');
  }
  Label(name: string): string {
    return this.c.Labels?.[name] ?? '';
  }
  get Mounts(): string {
    return (this.c.Mounts ?? [])
      .map((m) => {
        const name = m.Name ? m.Name : (m.Source ?? '');
        return this.trunc ? ellipsis(name, 15) : name;
      })
      .join(',');
  }
  get LocalVolumes(): string {
    return String((this.c.Mounts ?? []).filter((m) => m.Driver === 'local').length);
  }
  get Networks(): string {
    return Object.keys(this.c.NetworkSettings?.Networks ?? {}).join(',');
  }
  /** Set by the daemon only for multi-platform images; docker 28 prints null otherwise. */
  get Platform(): null {
    return null;
  }
  toJSON(): Record<string, unknown> {
    return sortedJson(this, [...Object.keys(CONTAINER_HEADERS), 'Platform']);
  }
}

// ---- history ---------------------------------------------------------------------------------

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags?: string[] | null;
  Size: number;
  Comment: string;
}

export const HISTORY_HEADERS: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

export const DEFAULT_HISTORY_TABLE =
  'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
export const NON_HUMAN_HISTORY_TABLE =
  'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';

const EPOCH_2000 = Date.UTC(2000, 0, 1) / 1000;

export class HistoryRow {
  constructor(
    private readonly h: HistoryItem,
    private readonly trunc: boolean,
    private readonly human: boolean,
  ) {}
  get ID(): string {
    return this.trunc ? truncateId(this.h.Id) : this.h.Id;
  }
  get CreatedAt(): string {
    return goRfc3339(this.h.Created);
  }
  get CreatedSince(): string {
    if (!this.human) return this.CreatedAt;
    if (this.h.Created <= EPOCH_2000) return '';
    return `${humanDuration(Date.now() - this.h.Created * 1000)} ago`;
  }
  get CreatedBy(): string {
    const s = this.h.CreatedBy.replaceAll('\t', ' ');
    return this.trunc ? ellipsis(s, 45) : s;
  }
  get Size(): string {
    return this.human ? humanSizeWithPrecision(this.h.Size, 3) : String(this.h.Size);
  }
  get Comment(): string {
    return this.h.Comment;
  }
  toJSON(): Record<string, unknown> {
    return sortedJson(this, Object.keys(HISTORY_HEADERS));
  }
}
