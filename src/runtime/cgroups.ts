/**
 * Reading a container's cgroup: layout detection (v1/hybrid vs unified v2), Docker's stats
 * JSON, OOM-kill count, freezer state, member pids, and removal of the empty parent
 * (`/berth`) that runc leaves behind. Every function takes the hierarchy root so tests
 * run against fixture trees.
 *
 * v1: each controller has its own mount, `<root>/<controller><cgroupsPath>`; cpu and
 * cpuacct may be separate mounts or one joined `cpu,cpuacct` mount.
 * v2: one tree, `<root><cgroupsPath>`.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { StatsSample } from './runtime.js';

export type CgroupLayout = 'v1' | 'v2';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** v2 only when the root itself is the unified hierarchy; hybrid hosts count as v1. */
export function detectCgroupLayout(root = CGROUP_ROOT): CgroupLayout {
  return fs.existsSync(path.join(root, 'cgroup.controllers')) ? 'v2' : 'v1';
}

/** The mount directory of a v1 controller, whether mounted alone or joined (`cpu,cpuacct`). */
export function v1ControllerDir(root: string, controller: string): string | undefined {
  const direct = path.join(root, controller);
  if (fs.existsSync(direct)) return direct;
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch {
    return undefined;
  }
  const joined = entries.find((e) => e.split(',').includes(controller));
  return joined ? path.join(root, joined) : undefined;
}

function v1Path(root: string, controller: string, cgroupsPath: string): string | undefined {
  const dir = v1ControllerDir(root, controller);
  return dir ? path.join(dir, cgroupsPath) : undefined;
}

async function readText(file: string | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  try {
    return await fsp.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** A single number; 'max' (or a missing file) gives undefined. */
async function readNumber(file: string | undefined): Promise<number | undefined> {
  const t = (await readText(file))?.trim();
  if (t === undefined || t === '' || t === 'max') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** `key value` lines (memory.stat, cpu.stat, memory.events, memory.oom_control). */
export function parseFlatKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!text) return out;
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (!k || v === undefined) continue;
    const n = Number(v);
    if (Number.isFinite(n)) out[k] = n;
  }
  return out;
}

// ---------------------------------------------------------------- host facts

/** CLK_TCK: 100 on every Linux build Docker targets (Docker hard-codes it too). */
const clockTicks = 100;

/** Docker's system_cpu_usage (ns, from the first `cpu` line of /proc/stat) and online cpus. */
export async function readSystemCpu(
  procStat = '/proc/stat',
): Promise<{ systemUsage: number; onlineCpus: number }> {
  const text = (await readText(procStat)) ?? '';
  let systemUsage = 0;
  let onlineCpus = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'cpu' && f.length >= 8) {
      const ticks = f.slice(1, 8).reduce((sum, v) => sum + Number(v), 0);
      systemUsage = (ticks * 1e9) / clockTicks;
    } else if (f[0] && /^cpu\d+$/.test(f[0])) {
      onlineCpus++;
    }
  }
  return { systemUsage, onlineCpus };
}

/** Host MemTotal in bytes (the limit Docker reports for an unlimited container). */
export async function readMemTotal(meminfo = '/proc/meminfo'): Promise<number> {
  const text = (await readText(meminfo)) ?? '';
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/** /proc/<pid>/net/dev of the container's network namespace, without `lo`. */
export function parseNetDev(text: string): Record<string, NetworkStats> {
  const out: Record<string, NetworkStats> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === '' || name === 'lo' || name.includes('|')) continue;
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    out[name] = {
      rx_bytes: f[0]!,
      rx_packets: f[1]!,
      rx_errors: f[2]!,
      rx_dropped: f[3]!,
      tx_bytes: f[8]!,
      tx_packets: f[9]!,
      tx_errors: f[10]!,
      tx_dropped: f[11]!,
    };
  }
  return out;
}

// ---------------------------------------------------------------- stats

export interface StatsOptions {
  /** A process in the container (its init): its net/dev gives the network counters. */
  pid?: number;
  root?: string;
  /** Docker's name field, with the leading slash ("/web"). */
  name?: string;
  id?: string;
  /** Where /proc is, for tests. */
  proc?: string;
}

interface MemorySample {
  usage: number;
  max_usage?: number;
  failcnt?: number;
  /** undefined = unlimited */
  limit: number | undefined;
  stats: Record<string, number>;
}

interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** What one layout's reader gathers; readCgroupStats shapes it into Docker's JSON. */
interface CgroupSample {
  cpuUsage: Record<string, unknown>;
  throttling: { periods: number; throttled_periods: number; throttled_time: number };
  memory: MemorySample;
  pids: { current: number | undefined; limit: number | undefined };
  blkio: { io_service_bytes_recursive: BlkioEntry[]; io_serviced_recursive: BlkioEntry[] };
}

/** v1 blkio files: `8:0 Read 123` lines and a final `Total N`. */
export function parseBlkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  if (!text) return out;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    const dev = /^(\d+):(\d+)$/.exec(f[0]!);
    if (!dev) continue;
    out.push({ major: Number(dev[1]), minor: Number(dev[2]), op: f[1]!, value: Number(f[2]) });
  }
  return out;
}

/** v2 io.stat: `254:0 rbytes=1 wbytes=2 rios=3 wios=4 ...`; Docker reports lower-case ops here. */
export function parseIoStatV2(text: string | undefined): { bytes: BlkioEntry[]; ios: BlkioEntry[] } {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  if (!text) return { bytes, ios };
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(f[0] ?? '');
    if (!dev) continue;
    const kv: Record<string, number> = {};
    for (const p of f.slice(1)) {
      const [k, v] = p.split('=');
      if (k && v !== undefined) kv[k] = Number(v);
    }
    const major = Number(dev[1]);
    const minor = Number(dev[2]);
    bytes.push(
      { major, minor, op: 'read', value: kv.rbytes ?? 0 },
      { major, minor, op: 'write', value: kv.wbytes ?? 0 },
    );
    ios.push(
      { major, minor, op: 'read', value: kv.rios ?? 0 },
      { major, minor, op: 'write', value: kv.wios ?? 0 },
    );
  }
  return { bytes, ios };
}

async function readNetworks(
  proc: string,
  pid: number | undefined,
): Promise<Record<string, NetworkStats> | undefined> {
  if (!pid) return undefined;
  const text = await readText(path.join(proc, String(pid), 'net', 'dev'));
  return text === undefined ? undefined : parseNetDev(text);
}

async function statsV1(root: string, cg: string): Promise<CgroupSample> {
  const cpuacct = v1Path(root, 'cpuacct', cg);
  const cpu = v1Path(root, 'cpu', cg);
  const mem = v1Path(root, 'memory', cg);
  const pids = v1Path(root, 'pids', cg);
  const blkio = v1Path(root, 'blkio', cg);
  const j = (dir: string | undefined, f: string) => (dir ? path.join(dir, f) : undefined);

  const percpu = ((await readText(j(cpuacct, 'cpuacct.usage_percpu'))) ?? '')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  const acctStat = parseFlatKeyed(await readText(j(cpuacct, 'cpuacct.stat')));
  const cpuStat = parseFlatKeyed(await readText(j(cpu, 'cpu.stat')));
  const usage: Record<string, unknown> = {
    total_usage: (await readNumber(j(cpuacct, 'cpuacct.usage'))) ?? 0,
    usage_in_kernelmode: ((acctStat.system ?? 0) * 1e9) / clockTicks,
    usage_in_usermode: ((acctStat.user ?? 0) * 1e9) / clockTicks,
  };
  if (percpu.length > 0) usage.percpu_usage = percpu;

  const serviceBytes = parseBlkioV1(await readText(j(blkio, 'blkio.io_service_bytes_recursive')));
  const serviced = parseBlkioV1(await readText(j(blkio, 'blkio.io_serviced_recursive')));
  return {
    cpuUsage: usage,
    throttling: {
      periods: cpuStat.nr_periods ?? 0,
      throttled_periods: cpuStat.nr_throttled ?? 0,
      throttled_time: cpuStat.throttled_time ?? 0,
    },
    memory: {
      usage: (await readNumber(j(mem, 'memory.usage_in_bytes'))) ?? 0,
      max_usage: (await readNumber(j(mem, 'memory.max_usage_in_bytes'))) ?? 0,
      failcnt: (await readNumber(j(mem, 'memory.failcnt'))) ?? 0,
      limit: await readNumber(j(mem, 'memory.limit_in_bytes')),
      stats: parseFlatKeyed(await readText(j(mem, 'memory.stat'))),
    },
    pids: {
      current: await readNumber(j(pids, 'pids.current')),
      limit: await readNumber(j(pids, 'pids.max')),
    },
    // Without CFQ/BFQ the recursive files are empty; the throttle files count all IO.
    blkio: {
      io_service_bytes_recursive:
        serviceBytes.length > 0
          ? serviceBytes
          : parseBlkioV1(await readText(j(blkio, 'blkio.throttle.io_service_bytes'))),
      io_serviced_recursive:
        serviced.length > 0 ? serviced : parseBlkioV1(await readText(j(blkio, 'blkio.throttle.io_serviced'))),
    },
  };
}

async function statsV2(root: string, cg: string): Promise<CgroupSample> {
  const dir = path.join(root, cg);
  const f = (name: string) => path.join(dir, name);
  const cpuStat = parseFlatKeyed(await readText(f('cpu.stat')));
  const io = parseIoStatV2(await readText(f('io.stat')));
  const peak = await readNumber(f('memory.peak'));
  const memory: MemorySample = {
    usage: (await readNumber(f('memory.current'))) ?? 0,
    limit: await readNumber(f('memory.max')),
    stats: parseFlatKeyed(await readText(f('memory.stat'))),
  };
  if (peak !== undefined) memory.max_usage = peak;
  return {
    cpuUsage: {
      total_usage: (cpuStat.usage_usec ?? 0) * 1000,
      usage_in_kernelmode: (cpuStat.system_usec ?? 0) * 1000,
      usage_in_usermode: (cpuStat.user_usec ?? 0) * 1000,
    },
    throttling: {
      periods: cpuStat.nr_periods ?? 0,
      throttled_periods: cpuStat.nr_throttled ?? 0,
      throttled_time: (cpuStat.throttled_usec ?? 0) * 1000,
    },
    memory,
    pids: { current: await readNumber(f('pids.current')), limit: await readNumber(f('pids.max')) },
    blkio: { io_service_bytes_recursive: io.bytes, io_serviced_recursive: io.ios },
  };
}

/** One sample of Docker's /containers/{id}/stats JSON (without precpu_stats). */
/** Docker's blkio_stats object; the counters cgroups do not give are null, as dockerd sends them. */
export function blkioStats(
  serviceBytes: BlkioEntry[] | null,
  serviced: BlkioEntry[] | null,
): Record<string, BlkioEntry[] | null> {
  return {
    io_service_bytes_recursive: serviceBytes,
    io_serviced_recursive: serviced,
    io_queue_recursive: null,
    io_service_time_recursive: null,
    io_wait_time_recursive: null,
    io_merged_recursive: null,
    io_time_recursive: null,
    sectors_recursive: null,
  };
}

export async function readCgroupStats(cgroupsPath: string, opts: StatsOptions = {}): Promise<StatsSample> {
  const root = opts.root ?? CGROUP_ROOT;
  const proc = opts.proc ?? '/proc';
  const layout = detectCgroupLayout(root);
  const s = layout === 'v2' ? await statsV2(root, cgroupsPath) : await statsV1(root, cgroupsPath);
  const sys = await readSystemCpu(path.join(proc, 'stat'));
  const memTotal = await readMemTotal(path.join(proc, 'meminfo'));

  // Unlimited shows as the host's memory, as in Docker.
  let limit = s.memory.limit;
  if (limit === undefined || (memTotal > 0 && limit > memTotal)) limit = memTotal;

  const pidsStats: Record<string, number> = { current: s.pids.current ?? 0 };
  if (s.pids.limit !== undefined) pidsStats.limit = s.pids.limit;

  const sample: StatsSample = {
    name: opts.name ?? '',
    id: opts.id ?? '',
    read: new Date().toISOString(),
    preread: '0001-01-01T00:00:00Z',
    pids_stats: pidsStats,
    blkio_stats: blkioStats(s.blkio.io_service_bytes_recursive, s.blkio.io_serviced_recursive),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: {
      cpu_usage: s.cpuUsage,
      system_cpu_usage: sys.systemUsage,
      online_cpus: sys.onlineCpus,
      throttling_data: s.throttling,
    },
    memory_stats: { ...s.memory, limit },
  };
  const networks = await readNetworks(proc, opts.pid);
  if (networks) sample.networks = networks;
  return sample;
}

// ---------------------------------------------------------------- state

/** How many processes the kernel OOM-killed in the cgroup (v1 memory.oom_control, v2 memory.events). */
export async function readOomKillCount(cgroupsPath: string, root = CGROUP_ROOT): Promise<number> {
  let file: string | undefined;
  if (detectCgroupLayout(root) === 'v2') file = path.join(root, cgroupsPath, 'memory.events');
  else {
    const dir = v1Path(root, 'memory', cgroupsPath);
    file = dir && path.join(dir, 'memory.oom_control');
  }
  return parseFlatKeyed(await readText(file)).oom_kill ?? 0;
}

export async function readFreezerState(
  cgroupsPath: string,
  root = CGROUP_ROOT,
): Promise<'frozen' | 'thawed'> {
  if (detectCgroupLayout(root) === 'v2') {
    const events = parseFlatKeyed(await readText(path.join(root, cgroupsPath, 'cgroup.events')));
    if (events.frozen !== undefined) return events.frozen === 1 ? 'frozen' : 'thawed';
    return (await readNumber(path.join(root, cgroupsPath, 'cgroup.freeze'))) === 1 ? 'frozen' : 'thawed';
  }
  const dir = v1Path(root, 'freezer', cgroupsPath);
  const state = (await readText(dir && path.join(dir, 'freezer.state')))?.trim();
  return state === 'FROZEN' ? 'frozen' : 'thawed';
}

/** Every process in the container's cgroup. */
export async function cgroupPids(cgroupsPath: string, root = CGROUP_ROOT): Promise<number[]> {
  const dirs =
    detectCgroupLayout(root) === 'v2'
      ? [path.join(root, cgroupsPath)]
      : ['pids', 'memory', 'freezer', 'cpu', 'name=systemd']
          .map((c) =>
            c === 'name=systemd' ? path.join(root, 'systemd', cgroupsPath) : v1Path(root, c, cgroupsPath),
          )
          .filter((d): d is string => d !== undefined);
  for (const dir of dirs) {
    const text = await readText(path.join(dir, 'cgroup.procs'));
    if (text === undefined) continue;
    return text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0);
  }
  return [];
}

/** Every hierarchy directory under root (v1: each mount, skipping alias symlinks; v2: root). */
function hierarchies(root: string): string[] {
  if (detectCgroupLayout(root) === 'v2') return [root];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory()).map((e) => path.join(root, e.name));
}

/**
 * Removes the parent cgroup `prefix` (e.g. `/berth`) from every hierarchy where it is
 * empty; a parent still holding containers stays (rmdir fails with EBUSY/ENOTEMPTY).
 */
export async function removeCgroupParents(prefix: string, root = CGROUP_ROOT): Promise<void> {
  const rel = prefix.replace(/^\/+/, '');
  if (rel === '' || rel.split('/').includes('..'))
    throw new Error(`invalid cgroup prefix: ${JSON.stringify(prefix)}`);
  for (const h of hierarchies(root)) {
    try {
      await fsp.rmdir(path.join(h, rel));
    } catch {
      // Missing, or still in use.
    }
  }
}
