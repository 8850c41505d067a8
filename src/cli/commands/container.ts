// Container commands other than the stream-joining ones (run.ts), stats (stats.ts) and cp (cp.ts).
import { ApiError } from '../../client/client.js';
import { demux } from '../../client/demux.js';
import { humanSize } from '../../util/units.js';
import {
  CONTAINER_HEADERS,
  ContainerRow,
  type ContainerSummary,
  DEFAULT_CONTAINER_TABLE,
} from '../format/contexts.js';
import { renderRows, resolveFormat } from '../format/format.js';
import { tabwrite } from '../format/tabwriter.js';
import { parseRestart, resources } from './container-config.js';
import { cpCmd } from './cp.js';
import { attachCmd, createCmd, execCmd, runCmd, startCmd } from './run.js';
import { statsCmd } from './stats.js';
import { timestampArg } from './system.js';
import { any, CliError, type CommandDef, type Ctx, exact, min, none, range } from './types.js';
import {
  confirm,
  filtersJson,
  forEachArg,
  InspectMiss,
  inspectArgs,
  pipeToOut,
  tagTarget,
  writeArchive,
} from './util.js';

async function ps(ctx: Ctx): Promise<number> {
  const f = ctx.flags;
  let format = f.string('format');
  const quiet = f.bool('quiet');
  format = resolveFormat(format, DEFAULT_CONTAINER_TABLE + (f.bool('size') ? '\t{{.Size}}' : ''), quiet);
  if (quiet && f.changed('format') && f.string('format') !== 'table') format = '{{.ID}}';
  // like docker, ask for sizes when the template shows them (also through {{json .}})
  const size = f.bool('size') || (!quiet && (format.includes('.Size') || /json\s+\.\s*\}\}/.test(format)));
  let limit = f.int('last');
  if (f.bool('latest')) limit = 1;
  const client = await ctx.client();
  const list = await client.get<ContainerSummary[]>('/containers/json', {
    all: f.bool('all') || limit > 0 ? true : undefined,
    limit: limit > 0 ? limit : undefined,
    size: size ? true : undefined,
    filters: filtersJson(f.list('filter')),
  });
  const rows = (list ?? []).map((c) => new ContainerRow(c, !f.bool('no-trunc')));
  ctx.stdout.write(renderRows(format, rows, CONTAINER_HEADERS));
  return 0;
}

function simple(
  path: (name: string) => string,
  query: (ctx: Ctx) => Record<string, string | number | boolean | undefined> = () => ({}),
) {
  return async (ctx: Ctx): Promise<number> => {
    const client = await ctx.client();
    return forEachArg(ctx, ctx.args, async (name) => {
      await client.request('POST', path(name), { query: query(ctx) });
      ctx.stdout.write(`${name}\n`);
    });
  };
}

function stopQuery(ctx: Ctx) {
  return {
    t: ctx.flags.changed('timeout') ? ctx.flags.int('timeout') : undefined,
    signal: ctx.flags.opt('signal'),
  };
}

async function rm(ctx: Ctx): Promise<number> {
  const client = await ctx.client();
  const f = ctx.flags;
  return forEachArg(ctx, ctx.args, async (name) => {
    const n = name.replace(/^\/+/, '');
    if (!n) throw new CliError('Container name cannot be empty');
    try {
      await client.request('DELETE', `/containers/${n}`, {
        query: {
          v: f.bool('volumes') || undefined,
          link: f.bool('link') || undefined,
          force: f.bool('force') || undefined,
        },
      });
    } catch (e) {
      // `rm -f` of a missing container is not an error for docker
      if (f.bool('force') && e instanceof ApiError && e.status === 404) return;
      throw e;
    }
    ctx.stdout.write(`${name}\n`);
  });
}

async function waitCmd(ctx: Ctx): Promise<number> {
  const client = await ctx.client();
  return forEachArg(ctx, ctx.args, async (name) => {
    const r = await client.json<{ StatusCode: number; Error?: { Message?: string } | null }>(
      'POST',
      `/containers/${name}/wait`,
    );
    if (r?.Error?.Message) throw new CliError(r.Error.Message);
    ctx.stdout.write(`${r?.StatusCode ?? 0}\n`);
  });
}

async function rename(ctx: Ctx): Promise<number> {
  const [oldName, newName] = (ctx.args as [string, string]).map((s) => s.trim()) as [string, string];
  if (!oldName || !newName) throw new CliError('Error: Neither old nor new names may be empty');
  const client = await ctx.client();
  try {
    await client.request('POST', `/containers/${oldName}/rename`, { query: { name: newName } });
  } catch (e) {
    if (e instanceof ApiError)
      throw new CliError(
        `Error response from daemon: ${e.message}\nError: failed to rename container named ${oldName}`,
      );
    throw e;
  }
  return 0;
}

async function update(ctx: Ctx): Promise<number> {
  const f = ctx.flags;
  const body: Record<string, unknown> = {};
  const r = resources(f);
  const changedMap: Record<string, string> = {
    CpuShares: 'cpu-shares',
    Memory: 'memory',
    NanoCpus: 'cpus',
    CpuPeriod: 'cpu-period',
    CpuQuota: 'cpu-quota',
    CpuRealtimePeriod: 'cpu-rt-period',
    CpuRealtimeRuntime: 'cpu-rt-runtime',
    CpusetCpus: 'cpuset-cpus',
    CpusetMems: 'cpuset-mems',
    BlkioWeight: 'blkio-weight',
    MemoryReservation: 'memory-reservation',
    MemorySwap: 'memory-swap',
    KernelMemory: 'kernel-memory',
    PidsLimit: 'pids-limit',
  };
  let any = false;
  for (const [k, flag] of Object.entries(changedMap)) {
    if (f.changed(flag)) {
      body[k] = r[k];
      any = true;
    }
  }
  if (f.changed('restart')) {
    body.RestartPolicy = parseRestart(f.string('restart'));
    any = true;
  }
  if (!any) throw new CliError('you must provide one or more flags when using this command');
  const client = await ctx.client();
  return forEachArg(ctx, ctx.args, async (name) => {
    const res = await client.json<{ Warnings?: string[] | null }>('POST', `/containers/${name}/update`, {
      body,
    });
    for (const w of res?.Warnings ?? []) ctx.stderr.write(`${w}\n`);
    ctx.stdout.write(`${name}\n`);
  });
}

async function containerPrune(ctx: Ctx): Promise<number> {
  if (!ctx.flags.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.')))
    return 0;
  const client = await ctx.client();
  const report = await client.json<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>(
    'POST',
    '/containers/prune',
    {
      query: { filters: filtersJson(ctx.flags.list('filter')) },
    },
  );
  const deleted = report?.ContainersDeleted ?? [];
  if (deleted.length) ctx.stdout.write(`Deleted Containers:\n${deleted.map((d) => `${d}\n`).join('')}\n`);
  ctx.stdout.write(`Total reclaimed space: ${humanSize(report?.SpaceReclaimed ?? 0)}\n`);
  return 0;
}

type PortMap = Record<string, { HostIp: string; HostPort: string }[] | null>;

function hostPort(b: { HostIp: string; HostPort: string }): string {
  const ip = b.HostIp || '0.0.0.0';
  return ip.includes(':') ? `[${ip}]:${b.HostPort}` : `${ip}:${b.HostPort}`;
}

async function port(ctx: Ctx): Promise<number> {
  const [name, want] = ctx.args as [string, string | undefined];
  const client = await ctx.client();
  const c = await client.get<{ NetworkSettings?: { Ports?: PortMap | null } }>(`/containers/${name}/json`);
  const ports = c.NetworkSettings?.Ports ?? {};
  if (want) {
    const [p, proto = 'tcp'] = want.split('/') as [string, string?];
    if (!/^\d+$/.test(p))
      throw new CliError(`Error: invalid port (${p}): strconv.ParseUint: parsing "${p}": invalid syntax`);
    const key = `${p}/${proto}`;
    const list = ports[key];
    if (list?.length) {
      ctx.stdout.write(list.map((b) => `${hostPort(b)}\n`).join(''));
      return 0;
    }
    throw new CliError(`Error: No public port '${want}' published for ${name}`);
  }
  const lines: string[] = [];
  for (const [key, list] of Object.entries(ports))
    for (const b of list ?? []) lines.push(`${key} -> ${hostPort(b)}`);
  lines.sort((a, b) => {
    const pa = Number.parseInt(a, 10);
    const pb = Number.parseInt(b, 10);
    return pa !== pb ? pa - pb : a < b ? -1 : a > b ? 1 : 0;
  });
  ctx.stdout.write(lines.map((l) => `${l}\n`).join(''));
  return 0;
}

async function diff(ctx: Ctx): Promise<number> {
  const client = await ctx.client();
  const changes = await client.get<{ Path: string; Kind: number }[] | null>(
    `/containers/${ctx.args[0]}/changes`,
  );
  const kinds = ['C', 'A', 'D'];
  ctx.stdout.write(
    (Array.isArray(changes) ? changes : []).map((c) => `${kinds[c.Kind] ?? '?'} ${c.Path}\n`).join(''),
  );
  return 0;
}

function exportCmd(ctx: Ctx): Promise<number> {
  return writeArchive(ctx, async () => {
    const client = await ctx.client();
    return client.stream('GET', `/containers/${ctx.args[0]}/export`);
  });
}

async function commit(ctx: Ctx): Promise<number> {
  const [name, repoTag] = ctx.args as [string, string | undefined];
  const f = ctx.flags;
  const { repo, tag } = repoTag ? tagTarget(repoTag) : { repo: undefined, tag: undefined };
  const client = await ctx.client();
  const res = await client.json<{ Id: string }>('POST', '/commit', {
    query: {
      container: name,
      repo,
      tag,
      comment: f.opt('message'),
      author: f.opt('author'),
      changes: f.list('change'),
      pause: f.bool('pause') ? undefined : false,
    },
  });
  ctx.stdout.write(`${res.Id}\n`);
  return 0;
}

async function logs(ctx: Ctx): Promise<number> {
  const f = ctx.flags;
  const client = await ctx.client();
  const info = await client.get<{ Id: string; Config: { Tty: boolean } }>(`/containers/${ctx.args[0]}/json`);
  const res = await client.stream('GET', `/containers/${info.Id}/logs`, {
    query: {
      stdout: true,
      stderr: true,
      since: f.opt('since') !== undefined ? timestampArg(f.string('since')) : undefined,
      until: f.opt('until') !== undefined ? timestampArg(f.string('until')) : undefined,
      timestamps: f.bool('timestamps') || undefined,
      follow: f.bool('follow') || undefined,
      tail: f.string('tail') || 'all',
      details: f.bool('details') || undefined,
    },
  });
  if (info.Config.Tty) await pipeToOut(res, ctx.stdout);
  else await demux(res, ctx.stdout, ctx.stderr);
  return 0;
}

async function top(ctx: Ctx): Promise<number> {
  const [name, ...psArgs] = ctx.args as [string, ...string[]];
  const client = await ctx.client();
  const res = await client.get<{ Titles: string[]; Processes: string[][] | null }>(
    `/containers/${name}/top`,
    {
      ps_args: psArgs.length ? psArgs.join(' ') : undefined,
    },
  );
  let text = `${res.Titles.join('\t')}\n`;
  for (const p of res.Processes ?? []) text += `${p.join('\t')}\n`;
  ctx.stdout.write(tabwrite(text, { minwidth: 20, padding: 3 }));
  return 0;
}

async function containerInspect(ctx: Ctx): Promise<number> {
  const client = await ctx.client();
  return inspectArgs(ctx, (name) =>
    client.get(`/containers/${name}/json`, { size: ctx.flags.bool('size') || undefined }),
  );
}

/** `inspect` walks containers → images like docker (networks and volumes when they exist). */
async function inspect(ctx: Ctx): Promise<number> {
  const client = await ctx.client();
  const type = ctx.flags.string('type');
  const valid = ['', 'container', 'image', 'network', 'volume'];
  if (!valid.includes(type)) throw new CliError(`"${type}" is not a valid value for --type`);
  const tries: { kind: string; path: (n: string) => string; query?: Record<string, boolean | undefined> }[] =
    [
      {
        kind: 'container',
        path: (n) => `/containers/${n}/json`,
        query: { size: ctx.flags.bool('size') || undefined },
      },
      { kind: 'image', path: (n) => `/images/${n}/json` },
      { kind: 'network', path: (n) => `/networks/${n}` },
      { kind: 'volume', path: (n) => `/volumes/${n}` },
    ];
  return inspectArgs(ctx, async (name) => {
    let lastError = '';
    for (const t of tries) {
      if (type && t.kind !== type) continue;
      try {
        return await client.get(t.path(name), t.query);
      } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 400)) {
          lastError = e.message;
          continue;
        }
        throw e;
      }
    }
    throw new InspectMiss(
      type ? `Error response from daemon: ${lastError}` : `Error: No such object: ${name}`,
    );
  });
}

export const containerCommands: CommandDef[] = [
  { path: 'container create', arity: min(1), stopAtFirstArg: true, run: createCmd },
  { path: 'container run', arity: min(1), stopAtFirstArg: true, run: runCmd },
  { path: 'container start', arity: min(1), run: startCmd },
  { path: 'container attach', arity: exact(1), run: attachCmd },
  { path: 'container exec', arity: min(2), stopAtFirstArg: true, run: execCmd },
  { path: 'container ls', arity: none, run: ps },
  { path: 'container stop', arity: min(1), run: simple((n) => `/containers/${n}/stop`, stopQuery) },
  { path: 'container restart', arity: min(1), run: simple((n) => `/containers/${n}/restart`, stopQuery) },
  {
    path: 'container kill',
    arity: min(1),
    run: simple(
      (n) => `/containers/${n}/kill`,
      (ctx) => ({ signal: ctx.flags.opt('signal') }),
    ),
  },
  { path: 'container pause', arity: min(1), run: simple((n) => `/containers/${n}/pause`) },
  { path: 'container unpause', arity: min(1), run: simple((n) => `/containers/${n}/unpause`) },
  { path: 'container rm', arity: min(1), run: rm },
  { path: 'container wait', arity: min(1), run: waitCmd },
  { path: 'container rename', arity: exact(2), run: rename },
  { path: 'container update', arity: min(1), run: update },
  { path: 'container prune', arity: none, run: containerPrune },
  { path: 'container port', arity: range(1, 2), run: port },
  { path: 'container diff', arity: exact(1), run: diff },
  { path: 'container export', arity: exact(1), run: exportCmd },
  { path: 'container commit', arity: range(1, 2), run: commit },
  { path: 'container logs', arity: exact(1), run: logs },
  { path: 'container top', arity: min(1), stopAtFirstArg: true, run: top },
  { path: 'container inspect', arity: min(1), run: containerInspect },
  { path: 'container stats', arity: any, run: statsCmd },
  { path: 'container cp', arity: exact(2), run: cpCmd },
  { path: 'inspect', arity: min(1), run: inspect },
];
