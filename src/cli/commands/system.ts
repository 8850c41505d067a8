// System commands: version, info, system df, events (system events).
import { ApiError, CLIENT_API_VERSION, ConnectError } from '../../client/client.js';
import { bytesSize, humanDuration, humanSize, parseGoDuration } from '../../util/units.js';
import {
  CONTAINER_HEADERS,
  ContainerRow,
  type ContainerSummary,
  IMAGE_HEADERS,
  ImageRow,
  type ImageSummary,
} from '../format/contexts.js';
import { renderOne, renderRows } from '../format/format.js';
import { tabwrite } from '../format/tabwriter.js';
import { Template } from '../format/template.js';
import { familiarName, parseNormalizedNamed } from '../reference.js';
import { type CommandDef, type Ctx, none } from './types.js';
import { filtersJson } from './util.js';

const CLIENT_VERSION = '0.1.0';

interface VersionComponent {
  Name: string;
  Version: string;
  Details?: Record<string, string>;
}

interface ServerVersion {
  Platform?: { Name?: string };
  Components?: VersionComponent[] | null;
  Version?: string;
  ApiVersion?: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
}

const VERSION_TEMPLATE = `{{with .Client -}}
Client:
 Version:\t{{.Version}}
 API version:\t{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Node version:\t{{.NodeVersion}}
 Git commit:\t{{.GitCommit}}
 Built:\t{{.BuildTime}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
 Context:\t{{.Context}}
{{- end}}

{{- if .ServerOK}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:\t{{.Version}}
  API version:\t{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Go version:\t{{index .Details "GoVersion"}}
  Git commit:\t{{index .Details "GitCommit"}}
  Built:\t{{index .Details "BuildTime"}}
  OS/Arch:\t{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:\t{{index .Details "Experimental"}}
  {{- else }}
  Version:\t{{$component.Version}}
  {{- range $key, $value := $component.Details}}
  {{$key}}:\t{{$value}}
  {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}`;

async function version(ctx: Ctx): Promise<number> {
  const data: { Client: Record<string, unknown>; Server: ServerVersion | null; ServerOK: boolean } = {
    Client: {
      Platform: { Name: 'Berth' },
      Version: CLIENT_VERSION,
      APIVersion: CLIENT_API_VERSION,
      DefaultAPIVersion: CLIENT_API_VERSION,
      NodeVersion: process.version,
      GitCommit: '-',
      BuildTime: '-',
      Os: 'linux',
      Arch: process.arch === 'x64' ? 'amd64' : process.arch,
      Context: 'default',
    },
    Server: null,
    ServerOK: false,
  };
  let failure: unknown;
  try {
    const client = await ctx.client();
    data.Client.APIVersion = client.apiVersion;
    const server = await client.get<ServerVersion>('/version');
    if (server) {
      if (!server.Components?.some((c) => c.Name === 'Engine')) {
        server.Components = [
          {
            Name: 'Engine',
            Version: server.Version ?? '',
            Details: {
              ApiVersion: server.ApiVersion ?? '',
              MinAPIVersion: server.MinAPIVersion ?? '',
              GitCommit: server.GitCommit ?? '',
              GoVersion: server.GoVersion ?? '',
              Os: server.Os ?? '',
              Arch: server.Arch ?? '',
              BuildTime: server.BuildTime ?? '',
              Experimental: String(server.Experimental ?? false),
            },
          },
          ...(server.Components ?? []),
        ];
      }
      server.Platform ??= { Name: '' };
      server.Platform.Name ??= '';
      data.Server = server;
      data.ServerOK = true;
    }
  } catch (e) {
    if (!(e instanceof ConnectError) && !(e instanceof ApiError)) throw e;
    failure = e;
  }
  const format = ctx.flags.string('format');
  if (format) ctx.stdout.write(renderOne(format, data));
  else {
    const text = new Template(VERSION_TEMPLATE).execute(data);
    ctx.stdout.write(tabwrite(`${text}\n`, { minwidth: 20, padding: 1 }));
  }
  if (failure) throw failure;
  return 0;
}

type Info = Record<string, unknown> & {
  Containers?: number;
  ContainersRunning?: number;
  ContainersPaused?: number;
  ContainersStopped?: number;
  Images?: number;
  Warnings?: string[] | null;
};

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

function prettyInfo(info: Info, debug: boolean): string {
  const lines: string[] = [];
  const p = (s: string) => lines.push(s);
  p('Client:');
  p(` Version:    ${CLIENT_VERSION}`);
  p(' Context:    default');
  p(` Debug Mode: ${debug}`);
  p('');
  p('Server:');
  p(` Containers: ${str(info.Containers)}`);
  p(`  Running: ${str(info.ContainersRunning)}`);
  p(`  Paused: ${str(info.ContainersPaused)}`);
  p(`  Stopped: ${str(info.ContainersStopped)}`);
  p(` Images: ${str(info.Images)}`);
  p(` Server Version: ${str(info.ServerVersion)}`);
  p(` Storage Driver: ${str(info.Driver)}`);
  for (const pair of (info.DriverStatus as string[][] | null) ?? []) p(`  ${pair[0]}: ${pair[1]}`);
  p(` Logging Driver: ${str(info.LoggingDriver)}`);
  p(` Cgroup Driver: ${str(info.CgroupDriver)}`);
  p(` Cgroup Version: ${str(info.CgroupVersion)}`);
  const plugins = (info.Plugins as Record<string, string[] | null> | undefined) ?? {};
  p(' Plugins:');
  p(`  Volume: ${(plugins.Volume ?? []).join(' ')}`);
  p(`  Network: ${(plugins.Network ?? []).join(' ')}`);
  p(`  Log: ${(plugins.Log ?? []).join(' ')}`);
  const swarm = info.Swarm as { LocalNodeState?: string } | undefined;
  p(` Swarm: ${swarm?.LocalNodeState ?? 'inactive'}`);
  const runtimes = Object.keys((info.Runtimes as Record<string, unknown> | undefined) ?? {}).sort();
  p(` Runtimes: ${runtimes.join(' ')}`);
  p(` Default Runtime: ${str(info.DefaultRuntime)}`);
  p(` Init Binary: ${str(info.InitBinary)}`);
  p(` containerd version: ${str((info.ContainerdCommit as { ID?: string } | undefined)?.ID)}`);
  p(` runc version: ${str((info.RuncCommit as { ID?: string } | undefined)?.ID)}`);
  p(` init version: ${str((info.InitCommit as { ID?: string } | undefined)?.ID)}`);
  const sec = (info.SecurityOptions as string[] | null) ?? [];
  if (sec.length) {
    p(' Security Options:');
    for (const o of sec) {
      const kv = Object.fromEntries(o.split(',').map((x) => x.split('=') as [string, string]));
      p(`  ${kv.name ?? o}`);
      for (const [k, v] of Object.entries(kv))
        if (k !== 'name') p(`   ${k[0]?.toUpperCase()}${k.slice(1)}: ${v}`);
    }
  }
  p(` Kernel Version: ${str(info.KernelVersion)}`);
  p(` Operating System: ${str(info.OperatingSystem)}`);
  p(` OSType: ${str(info.OSType)}`);
  p(` Architecture: ${str(info.Architecture)}`);
  p(` CPUs: ${str(info.NCPU)}`);
  p(` Total Memory: ${bytesSize(Number(info.MemTotal ?? 0))}`);
  p(` Name: ${str(info.Name)}`);
  p(` ID: ${str(info.ID)}`);
  p(` Docker Root Dir: ${str(info.DockerRootDir)}`);
  p(` Debug Mode: ${str(info.Debug)}`);
  p(` Experimental: ${str(info.ExperimentalBuild)}`);
  const reg = info.RegistryConfig as { InsecureRegistryCIDRs?: string[] | null } | undefined;
  const insecure = reg?.InsecureRegistryCIDRs ?? [];
  if (insecure.length) {
    p(' Insecure Registries:');
    for (const c of insecure) p(`  ${c}`);
  }
  p(` Live Restore Enabled: ${str(info.LiveRestoreEnabled)}`);
  return `${lines.join('\n')}\n\n`;
}

async function info(ctx: Ctx): Promise<number> {
  const client = await ctx.client();
  const data = await client.get<Info>('/info');
  const format = ctx.flags.string('format');
  if (format) {
    ctx.stdout.write(
      renderOne(format, format === 'json' ? data : { ...data, ClientInfo: { Version: CLIENT_VERSION } }),
    );
    return 0;
  }
  ctx.stdout.write(prettyInfo(data, false));
  for (const w of data.Warnings ?? []) ctx.stderr.write(`${w}\n`);
  return 0;
}

interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: ContainerSummary[] | null;
  Volumes?:
    | {
        Name: string;
        UsageData?: { Size: number; RefCount: number } | null;
        Labels?: Record<string, string> | null;
      }[]
    | null;
  BuildCache?:
    | {
        ID: string;
        Type?: string;
        Size: number;
        InUse: boolean;
        Shared: boolean;
        CreatedAt?: string;
        LastUsedAt?: string;
        UsageCount?: number;
      }[]
    | null;
}

function pct(reclaimable: number, total: number): string {
  if (total > 0) return `${humanSize(reclaimable)} (${Math.trunc((reclaimable * 100) / total)}%)`;
  return humanSize(reclaimable);
}

const DF_HEADERS = {
  Type: 'TYPE',
  TotalCount: 'TOTAL',
  Active: 'ACTIVE',
  Size: 'SIZE',
  Reclaimable: 'RECLAIMABLE',
};

function dfRows(du: DiskUsage): object[] {
  const images = du.Images ?? [];
  const layers = du.LayersSize ?? 0;
  let used = 0;
  for (const i of images)
    if (i.Containers > 0 && i.Size !== -1 && i.SharedSize !== -1) used += i.Size - i.SharedSize;
  const containers = du.Containers ?? [];
  const active = (c: ContainerSummary) => ['running', 'paused', 'restarting'].includes(c.State);
  const cSize = containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const cRecl = containers.filter((c) => !active(c)).reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const vols = du.Volumes ?? [];
  const vSize = vols.reduce((a, v) => a + (v.UsageData && v.UsageData.Size !== -1 ? v.UsageData.Size : 0), 0);
  const vRecl = vols
    .filter((v) => (v.UsageData?.RefCount ?? 0) === 0)
    .reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const bc = du.BuildCache ?? [];
  const bSize = bc.filter((b) => !b.Shared).reduce((a, b) => a + b.Size, 0);
  const bRecl = bc.filter((b) => !b.InUse && !b.Shared).reduce((a, b) => a + b.Size, 0);
  const row = (Type: string, total: number, act: number, size: number, recl: string) => ({
    Type,
    TotalCount: String(total),
    Active: String(act),
    Size: humanSize(size),
    Reclaimable: recl,
    toJSON() {
      return {
        Active: this.Active,
        Reclaimable: this.Reclaimable,
        Size: this.Size,
        TotalCount: this.TotalCount,
        Type: this.Type,
      };
    },
  });
  return [
    row(
      'Images',
      images.length,
      images.filter((i) => i.Containers > 0).length,
      layers,
      pct(layers - used, layers),
    ),
    row('Containers', containers.length, containers.filter(active).length, cSize, pct(cRecl, cSize)),
    row(
      'Local Volumes',
      vols.length,
      vols.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length,
      vSize,
      pct(vRecl, vSize),
    ),
    row('Build Cache', bc.length, bc.filter((b) => b.InUse).length, bSize, humanSize(bRecl)),
  ];
}

async function systemDf(ctx: Ctx): Promise<number> {
  const client = await ctx.client();
  const du = await client.get<DiskUsage>('/system/df');
  const format = ctx.flags.string('format');
  if (!ctx.flags.bool('verbose')) {
    const f =
      format === '' || format === 'table'
        ? 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}'
        : format === 'json'
          ? '{{json .}}'
          : format;
    ctx.stdout.write(renderRows(f, dfRows(du), DF_HEADERS));
    return 0;
  }
  let out = 'Images space usage:\n\n';
  const imgRows = (du.Images ?? []).map((i) => {
    let repo = '<none>';
    let tag = '<none>';
    const first = i.RepoTags?.[0];
    if (first && first !== '<none>:<none>') {
      const ref = parseNormalizedNamed(first);
      if (ref?.tag) {
        repo = familiarName(ref);
        tag = ref.tag;
      }
    }
    return new ImageRow(i, true, repo, tag, '<none>');
  });
  out += renderRows(
    'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}',
    imgRows,
    IMAGE_HEADERS,
  );
  out += '\nContainers space usage:\n\n';
  out += renderRows(
    'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}',
    (du.Containers ?? []).map((c) => new ContainerRow({ ...c, SizeRootFs: 0 }, true)),
    CONTAINER_HEADERS,
  );
  out += '\nLocal Volumes space usage:\n\n';
  out += renderRows(
    'table {{.Name}}\t{{.Links}}\t{{.Size}}',
    (du.Volumes ?? []).map((v) => ({
      Name: v.Name,
      Links: String(v.UsageData?.RefCount ?? 0),
      Size: v.UsageData && v.UsageData.Size !== -1 ? humanSize(v.UsageData.Size) : 'N/A',
    })),
    { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' },
  );
  const bc = du.BuildCache ?? [];
  out += `\nBuild cache usage: ${humanSize(bc.filter((b) => !b.Shared).reduce((a, b) => a + b.Size, 0))}\n\n`;
  out += renderRows(
    'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}',
    bc.map((b) => ({
      ID: b.ID.slice(0, 12),
      CacheType: b.Type ?? '',
      Size: humanSize(b.Size),
      CreatedSince: b.CreatedAt ? `${humanDuration(Date.now() - Date.parse(b.CreatedAt))} ago` : '',
      LastUsedSince: b.LastUsedAt ? `${humanDuration(Date.now() - Date.parse(b.LastUsedAt))} ago` : '',
      UsageCount: String(b.UsageCount ?? 0),
      Shared: String(b.Shared),
    })),
    {
      ID: 'CACHE ID',
      CacheType: 'CACHE TYPE',
      Size: 'SIZE',
      CreatedSince: 'CREATED',
      LastUsedSince: 'LAST USED',
      UsageCount: 'USAGE',
      Shared: 'SHARED',
    },
  );
  ctx.stdout.write(out);
  return 0;
}

/** docker's timetypes.GetTimestamp: unix seconds, a Go duration before now, or a date. */
export function timestampArg(value: string, nowMs = Date.now()): string {
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  try {
    const ms = parseGoDuration(value);
    const t = (nowMs - ms) / 1000;
    return t.toFixed(9);
  } catch {
    // not a duration: try a date
  }
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new Error(`failed to parse value as time or duration: "${value}"`);
  return (parsed / 1000).toFixed(9);
}

function pad2(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** RFC3339 with fixed 9-digit nanoseconds in local time, as `docker events` prints. */
export function rfc3339NanoFixed(timeNano: bigint): string {
  const ms = Number(timeNano / 1000000n);
  const nanos = Number(timeNano % 1000000000n);
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const zone =
    off === 0
      ? 'Z'
      : `${off < 0 ? '-' : '+'}${pad2(Math.trunc(Math.abs(off) / 60))}:${pad2(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${pad2(nanos, 9)}${zone}`;
}

interface EventMessage {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
  status?: string;
  id?: string;
  from?: string;
  scope?: string;
}

export function prettyEvent(e: EventMessage, timeNanoText?: string): string {
  let s = '';
  if (timeNanoText) s += `${rfc3339NanoFixed(BigInt(timeNanoText))} `;
  else if (e.time) s += `${rfc3339NanoFixed(BigInt(e.time) * 1000000000n)} `;
  s += `${e.Type ?? ''} ${e.Action ?? ''} ${e.Actor?.ID ?? ''}`;
  const attrs = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length) s += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return `${s}\n`;
}

async function events(ctx: Ctx): Promise<number> {
  const client = await ctx.client();
  const f = ctx.flags;
  const query = {
    since: f.opt('since') !== undefined ? timestampArg(f.string('since')) : undefined,
    until: f.opt('until') !== undefined ? timestampArg(f.string('until')) : undefined,
    filters: filtersJson(f.list('filter')),
  };
  const res = await client.stream('GET', '/events', { query });
  const format = f.string('format');
  const tmpl = format
    ? new Template(format === 'json' ? '{{json .}}' : format.replaceAll('\\t', '\t').replaceAll('\\n', '\n'))
    : undefined;
  let rest = '';
  for await (const chunk of res) {
    rest += (chunk as Buffer).toString('utf8');
    let nl = rest.indexOf('\n');
    while (nl >= 0) {
      const line = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      nl = rest.indexOf('\n');
      if (!line) continue;
      const e = JSON.parse(line) as EventMessage;
      // timeNano exceeds 2^53: keep its digits exactly from the text
      const nano = /"timeNano":(\d+)/.exec(line)?.[1];
      if (tmpl) ctx.stdout.write(`${tmpl.execute(e)}\n`);
      else ctx.stdout.write(prettyEvent(e, nano));
    }
  }
  return 0;
}

export const systemCommands: CommandDef[] = [
  { path: 'version', arity: none, run: version },
  { path: 'system info', arity: none, run: info },
  { path: 'system df', arity: none, run: systemDf },
  { path: 'system events', arity: none, run: events },
];
