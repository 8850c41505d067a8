// stats: one-shot (--no-stream) or live tables of CPU, memory, network, block IO and pids,
// computed from the daemon's samples exactly as docker's stats_helpers do.
import type { IncomingMessage } from 'node:http';
import type { DockerClient } from '../../client/client.js';
import { jsonLines } from '../../client/json-lines.js';
import { bytesSize, humanSizeWithPrecision } from '../../util/units.js';
import { truncateId } from '../format/contexts.js';
import { renderRows, resolveFormat } from '../format/format.js';
import type { Ctx } from './types.js';

interface StatsJson {
  id?: string;
  name?: string;
  read?: string;
  cpu_stats?: {
    cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
    system_cpu_usage?: number;
    online_cpus?: number;
  };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }> | null;
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
  pids_stats?: { current?: number };
}

export interface StatsEntry {
  container: string;
  id: string;
  name: string;
  cpu: number;
  mem: number;
  limit: number;
  memPerc: number;
  netRx: number;
  netTx: number;
  blkRead: number;
  blkWrite: number;
  pids: number;
  invalid: boolean;
}

export const STATS_HEADERS: Record<string, string> = {
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

const DEFAULT_STATS_TABLE =
  'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

/** Turns one daemon sample into docker's numbers. */
export function computeStats(container: string, s: StatsJson): StatsEntry {
  const cpuNow = s.cpu_stats?.cpu_usage?.total_usage ?? 0;
  const cpuPrev = s.precpu_stats?.cpu_usage?.total_usage ?? 0;
  const sysNow = s.cpu_stats?.system_cpu_usage ?? 0;
  const sysPrev = s.precpu_stats?.system_cpu_usage ?? 0;
  let online = s.cpu_stats?.online_cpus ?? 0;
  if (!online) online = s.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 0;
  const cpuDelta = cpuNow - cpuPrev;
  const sysDelta = sysNow - sysPrev;
  const cpu = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
  const usage = s.memory_stats?.usage ?? 0;
  const st = s.memory_stats?.stats ?? {};
  const inactive = st.total_inactive_file ?? st.inactive_file;
  const mem = inactive !== undefined && inactive < usage ? usage - inactive : usage;
  const limit = s.memory_stats?.limit ?? 0;
  let netRx = 0;
  let netTx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    netRx += n.rx_bytes ?? 0;
    netTx += n.tx_bytes ?? 0;
  }
  let blkRead = 0;
  let blkWrite = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = e.op[0]?.toLowerCase();
    if (op === 'r') blkRead += e.value;
    else if (op === 'w') blkWrite += e.value;
  }
  return {
    container,
    id: s.id ?? '',
    name: (s.name ?? '').replace(/^\//, ''),
    cpu,
    mem,
    limit,
    memPerc: limit ? (mem / limit) * 100 : 0,
    netRx,
    netTx,
    blkRead,
    blkWrite,
    pids: s.pids_stats?.current ?? 0,
    invalid: false,
  };
}

class StatsRow {
  constructor(
    private readonly e: StatsEntry,
    private readonly trunc: boolean,
  ) {}
  get Container(): string {
    return this.e.container;
  }
  get ID(): string {
    return this.trunc ? truncateId(this.e.id) : this.e.id;
  }
  get Name(): string {
    return this.e.invalid ? '--' : this.e.name || '--';
  }
  get CPUPerc(): string {
    return this.e.invalid ? '--' : `${this.e.cpu.toFixed(2)}%`;
  }
  get MemUsage(): string {
    return this.e.invalid ? '-- / --' : `${bytesSize(this.e.mem)} / ${bytesSize(this.e.limit)}`;
  }
  get MemPerc(): string {
    return this.e.invalid ? '--' : `${this.e.memPerc.toFixed(2)}%`;
  }
  get NetIO(): string {
    return this.e.invalid
      ? '--'
      : `${humanSizeWithPrecision(this.e.netRx, 3)} / ${humanSizeWithPrecision(this.e.netTx, 3)}`;
  }
  get BlockIO(): string {
    return this.e.invalid
      ? '--'
      : `${humanSizeWithPrecision(this.e.blkRead, 3)} / ${humanSizeWithPrecision(this.e.blkWrite, 3)}`;
  }
  get PIDs(): string {
    return this.e.invalid ? '--' : String(this.e.pids);
  }
  toJSON(): Record<string, string> {
    return {
      BlockIO: this.BlockIO,
      CPUPerc: this.CPUPerc,
      Container: this.Container,
      ID: this.ID,
      MemPerc: this.MemPerc,
      MemUsage: this.MemUsage,
      Name: this.Name,
      NetIO: this.NetIO,
      PIDs: this.PIDs,
    };
  }
}

async function listContainers(client: DockerClient, all: boolean): Promise<string[]> {
  const list = await client.get<{ Id: string }[]>('/containers/json', { all: all || undefined });
  return (list ?? []).map((c) => truncateId(c.Id));
}

export async function statsCmd(ctx: Ctx): Promise<number> {
  const f = ctx.flags;
  const client = await ctx.client();
  const names = ctx.args.length ? ctx.args : await listContainers(client, f.bool('all'));
  const format = resolveFormat(f.string('format'), DEFAULT_STATS_TABLE);
  const trunc = !f.bool('no-trunc');
  const render = (entries: StatsEntry[]) =>
    renderRows(
      format,
      entries.map((e) => new StatsRow(e, trunc)),
      STATS_HEADERS,
    );

  if (f.bool('no-stream')) {
    const results = await Promise.all(
      names.map(async (n) => {
        try {
          return computeStats(n, await client.get<StatsJson>(`/containers/${n}/stats`, { stream: false }));
        } catch (e) {
          return e as Error;
        }
      }),
    );
    const errors = results.filter((r): r is Error => r instanceof Error);
    if (errors.length && ctx.args.length) {
      ctx.stderr.write(`${errors.map((e) => `Error response from daemon: ${e.message}`).join('\n')}\n`);
      return 1;
    }
    ctx.stdout.write(render(results.filter((r): r is StatsEntry => !(r instanceof Error))));
    return 0;
  }

  const latest = new Map<string, StatsEntry>();
  for (const n of names) latest.set(n, { ...computeStats(n, {}), invalid: true, id: n });
  const streams: IncomingMessage[] = [];
  const readers = names.map(async (n) => {
    try {
      const res = await client.stream('GET', `/containers/${n}/stats`, { query: { stream: true } });
      streams.push(res);
      for await (const s of jsonLines<StatsJson>(res)) latest.set(n, computeStats(n, s));
    } catch {
      // the container went away: keep its row as "--" like docker
    }
    const e = latest.get(n);
    if (e) latest.set(n, { ...e, invalid: true });
  });
  const tty = Boolean(ctx.stdout.isTTY);
  let stopped = false;
  const stop = () => {
    stopped = true;
    for (const s of streams) s.destroy();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, 1000));
      const text = render([...latest.values()]);
      ctx.stdout.write(tty ? `\x1b[2J\x1b[H${text}` : text);
      if ([...latest.values()].every((e) => e.invalid) && streams.length === names.length) {
        const done = await Promise.race([Promise.all(readers).then(() => true), Promise.resolve(false)]);
        if (done) break;
      }
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    stop();
  }
  return 0;
}
