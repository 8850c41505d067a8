/**
 * What clients read about containers: Docker's inspect document, the `/containers/json`
 * summary with its human Status strings, and the list filters.
 */
import path from 'node:path';
import type { Filters } from '../api/types.js';
import type { SnapshotStore } from '../snapshots/snapshots.js';
import { badRequest } from '../util/errors.js';
import { humanDuration } from '../util/units.js';
import { type Doc, processArgs, str, strMap } from './config.js';
import type { Record as Row } from './records.js';

export interface ViewDeps {
  snapshots: SnapshotStore;
  sizeRw(c: Row): number;
  execIds(c: Row): string[] | null;
}

export interface ListOptions {
  all: boolean;
  limit: number;
  size: boolean;
  filters: Filters;
}

const ZERO = '0001-01-01T00:00:00Z';
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** Docker's State.String(): "Up 2 minutes", "Exited (0) 3 seconds ago", "Created"... */
export function statusString(c: Row, now = Date.now()): string {
  const s = c.state;
  const since = (t: string) => humanDuration(Math.max(0, now - Date.parse(t)));
  if (s.Running || s.Status === 'paused' || s.Status === 'restarting') {
    if (s.Paused) return `Up ${since(s.StartedAt)} (Paused)`;
    if (s.Restarting) return `Restarting (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
    const health = s.Health?.Status;
    if (health) return `Up ${since(s.StartedAt)} (${health === 'starting' ? 'health: starting' : health})`;
    return `Up ${since(s.StartedAt)}`;
  }
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Status === 'dead') return 'Dead';
  if (s.StartedAt === ZERO) return 'Created';
  if (s.FinishedAt === ZERO) return '';
  return `Exited (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
}

function networkName(mode: string): string | undefined {
  if (mode === '' || mode === 'default' || mode === 'bridge') return 'bridge';
  if (mode.startsWith('container:')) return undefined;
  return mode;
}

function endpoint(): Doc {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: '',
    DriverOpts: null,
  };
}

function networks(c: Row): Doc {
  const name = networkName(str(c.hostConfig, 'NetworkMode'));
  return name ? { [name]: endpoint() } : {};
}

function ports(c: Row): Doc {
  const out: Doc = {};
  const exposed = c.config.ExposedPorts;
  if (exposed && typeof exposed === 'object') for (const p of Object.keys(exposed)) out[p] = null;
  return out;
}

function sandboxKey(c: Row): string {
  const mode = str(c.hostConfig, 'NetworkMode');
  if (!c.state.Running || c.state.Pid <= 0) return '';
  if (mode === 'host') return '/proc/1/ns/net';
  return `/proc/${c.state.Pid}/ns/net`;
}

export function inspectView(c: Row, deps: ViewDeps, size: boolean): Record<string, unknown> {
  const args = processArgs(c.config);
  let lower = '';
  let upper = '';
  try {
    lower = c.extra.chainId ? deps.snapshots.lowerDirs(c.extra.chainId).join(':') : '';
    upper = deps.snapshots.upperDir(c.id);
  } catch {
    // layer gone: leave the paths empty
  }
  const out: Record<string, unknown> = {
    Id: c.id,
    Created: c.created,
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: { ...c.state },
    Image: c.imageId,
    ResolvConfPath: path.join(c.dir, 'resolv.conf'),
    HostnamePath: path.join(c.dir, 'hostname'),
    HostsPath: path.join(c.dir, 'hosts'),
    LogPath: c.logPath,
    Name: c.name,
    RestartCount: c.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: deps.execIds(c),
    HostConfig: { ...c.hostConfig },
    GraphDriver: {
      Data: upper
        ? {
            LowerDir: lower,
            MergedDir: c.rootfs,
            UpperDir: upper,
            WorkDir: path.join(path.dirname(upper), 'work'),
          }
        : null,
      Name: 'overlay2',
    },
    Mounts: [],
    Config: { ...c.config },
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: ports(c),
      SandboxKey: sandboxKey(c),
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: '',
      Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: '',
      IPPrefixLen: 0,
      IPv6Gateway: '',
      MacAddress: '',
      Networks: networks(c),
    },
  };
  if (size) {
    const rw = deps.sizeRw(c);
    out.SizeRw = rw;
    out.SizeRootFs = rw + c.extra.imageSize;
  }
  return out;
}

function command(c: Row): string {
  const args = processArgs(c.config);
  if (args.length === 0) return '';
  const rest = args.slice(1).map((a) => (a.includes(' ') ? `'${a}'` : a));
  return rest.length > 0 ? `${args[0]} ${rest.join(' ')}` : (args[0] ?? '');
}

export function listView(c: Row, deps: ViewDeps, size: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Id: c.id,
    Names: [c.name],
    Image: str(c.config, 'Image') || c.image,
    ImageID: c.imageId,
    Command: command(c),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: [],
    Labels: strMap(c.config, 'Labels') ?? {},
    State: c.state.Status,
    Status: statusString(c),
    HostConfig: { NetworkMode: str(c.hostConfig, 'NetworkMode') || 'default' },
    NetworkSettings: { Networks: networks(c) },
    Mounts: [],
  };
  if (size) {
    const rw = deps.sizeRw(c);
    out.SizeRw = rw;
    out.SizeRootFs = rw + c.extra.imageSize;
  }
  return out;
}

const LIST_FILTERS = [
  'id',
  'name',
  'label',
  'status',
  'exited',
  'ancestor',
  'before',
  'since',
  'health',
  'volume',
  'network',
  'is-task',
  'expose',
  'publish',
  'isolation',
];

function imageMatches(c: Row, v: string): boolean {
  const image = str(c.config, 'Image') || c.image;
  const bare = (s: string) => s.replace(/^docker\.io\/(library\/)?/, '');
  const withTag = (s: string) => (/:[^/]+$/.test(s) || s.includes('@') ? s : `${s}:latest`);
  if (withTag(bare(image)) === withTag(bare(v))) return true;
  if (bare(image).split(':')[0] === bare(v) && !v.includes(':')) return true;
  const id = c.imageId.replace(/^sha256:/, '');
  const want = v.replace(/^sha256:/, '');
  return /^[0-9a-f]{4,64}$/.test(want) && id.startsWith(want);
}

/** Unknown filter names and bad values are 400s, whether or not any container is listed. */
export function validateListFilters(filters: Filters): void {
  for (const key of filters.keys())
    if (!LIST_FILTERS.includes(key)) throw badRequest(`invalid filter '${key}'`);
  for (const s of filters.get('status') ?? []) {
    if (!STATUSES.includes(s)) throw badRequest(`Invalid filter 'status=${s}'`);
  }
  for (const v of filters.get('health') ?? []) {
    if (!['starting', 'healthy', 'unhealthy', 'none'].includes(v)) {
      throw badRequest(`Unrecognised filter value for health: ${v}`);
    }
  }
}

/** Docker's `/containers/json` filters (checked with validateListFilters first). */
export function matchesFilters(c: Row, filters: Filters, find: (ref: string) => Row | undefined): boolean {
  const any = (key: string, pred: (v: string) => boolean) => {
    const vs = filters.get(key);
    return !vs || vs.length === 0 || vs.some(pred);
  };
  const labels = strMap(c.config, 'Labels') ?? {};
  if (!any('id', (v) => c.id.startsWith(v))) return false;
  if (
    !any('name', (v) => {
      try {
        return new RegExp(v).test(c.name) || new RegExp(v).test(c.name.slice(1));
      } catch {
        return c.name.includes(v);
      }
    })
  )
    return false;
  const labelFilters = filters.get('label') ?? [];
  for (const f of labelFilters) {
    const i = f.indexOf('=');
    if (i < 0 ? !(f in labels) : labels[f.slice(0, i)] !== f.slice(i + 1)) return false;
  }
  if (!any('status', (v) => v === c.state.Status)) return false;
  const exited = filters.get('exited') ?? [];
  if (exited.length > 0) {
    for (const e of exited) if (!/^-?\d+$/.test(e)) throw badRequest(`invalid filter 'exited=${e}'`);
    if (c.state.Status !== 'exited' || !exited.some((e) => Number(e) === c.state.ExitCode)) return false;
  }
  if (!any('ancestor', (v) => imageMatches(c, v))) return false;
  for (const key of ['before', 'since'] as const) {
    for (const v of filters.get(key) ?? []) {
      const ref = find(v);
      if (!ref) throw badRequest(`No such container: ${v}`);
      if (key === 'before' && !(c.created < ref.created)) return false;
      if (key === 'since' && !(c.created > ref.created)) return false;
    }
  }
  if (!any('health', (v) => v === (c.state.Health?.Status ?? 'none'))) return false;
  if (!any('network', (v) => networkName(str(c.hostConfig, 'NetworkMode')) === v)) return false;
  if ((filters.get('volume') ?? []).length > 0) return false;
  if (!any('is-task', (v) => v === 'false')) return false;
  return true;
}
