/**
 * Memory of an engine's own processes: every process whose command line names the engine's
 * private directory (berth: berthd and its conmons; dockerd: dockerd, its containerd and the
 * containerd-shim-runc-v2 processes). Container processes (`sleep 3600`) do not name the
 * directory and are not counted.
 *
 * The charge is what the engine would occupy if it ran alone on the machine, read from
 * /proc/PID/smaps:
 * - private pages (Private_Clean + Private_Dirty, the USS) count fully;
 * - shared pages of one file (by device and inode, all of its mappings in a process together)
 *   count once per engine, at the largest amount any one of its processes has resident.
 *   Pages the engine's processes share among themselves (20 shims or 20 conmons mapping one
 *   binary) count once; pages shared with processes outside the engine (the node binary with
 *   the bench runner and npm) count fully, as if those processes did not exist;
 * - shared pages of anonymous mappings (left by fork) count fully in each process: they
 *   cannot be matched across processes by name.
 * PSS (which splits each shared page among every process on the machine that maps it, so it
 * moves with whatever else runs) is summed as well, for reference only.
 */
import fs from 'node:fs';

/** One mapping of /proc/PID/smaps; sizes in KiB. */
export interface Mapping {
  /** `file:DEV:INODE` for a file, the name for kernel pages every process shares ([vdso]),
   *  else `anon:PID:START`: anonymous memory is never the same pages in two processes by name. */
  key: string;
  /** The path, `[heap]`, or '' for an unnamed anonymous mapping. */
  name: string;
  rss: number;
  pss: number;
  private: number;
  shared: number;
}

export interface ProcSmaps {
  pid: number;
  /** What the process is: berthd, conmon, dockerd, containerd-shim-runc-v2… */
  name: string;
  mappings: Mapping[];
}

/** KiB. `total` = `private` + `sharedOnce`; `byName` adds up to `total`. */
export interface Footprint {
  total: number;
  private: number;
  sharedOnce: number;
  pss: number;
  processes: number;
  /** Each process's private pages go to its name; each shared file to the name of the
   *  process that has the most of it resident. */
  byName: Record<string, number>;
  pssByName: Record<string, number>;
  /** The largest shared files charged, largest first (at most 5). */
  largestShared: { name: string; kib: number }[];
}

const HEADER = /^([0-9a-f]+)-[0-9a-f]+\s+\S+\s+[0-9a-f]+\s+([0-9a-f]+:[0-9a-f]+)\s+(\d+)\s*(.*)$/;
const FIELD = /^(\w+):\s+(\d+) kB$/;
/** Kernel-provided pages that are the same in every process. */
const KERNEL_SHARED = new Set(['[vdso]', '[vvar]', '[vsyscall]']);

/** Parses the text of /proc/PID/smaps; throws on text that is not smaps, naming the line. */
export function parseSmaps(text: string, pid: number): Mapping[] {
  const out: Mapping[] = [];
  let cur: (Mapping & { seen: Set<string> }) | undefined;
  const finish = () => {
    if (!cur) return;
    for (const f of ['Rss', 'Pss', 'Shared_Clean', 'Shared_Dirty', 'Private_Clean', 'Private_Dirty']) {
      if (!cur.seen.has(f)) throw new Error(`smaps of ${pid}: mapping "${cur.name}" has no ${f} field`);
    }
    const { seen: _, ...m } = cur;
    out.push(m);
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const h = HEADER.exec(line);
    if (h) {
      finish();
      const [, start, dev, inode, rawName] = h as unknown as [string, string, string, string, string];
      const name = rawName.trim();
      const key =
        inode !== '0' ? `file:${dev}:${inode}` : KERNEL_SHARED.has(name) ? name : `anon:${pid}:${start}`;
      cur = { key, name, rss: 0, pss: 0, private: 0, shared: 0, seen: new Set() };
      continue;
    }
    const f = FIELD.exec(line);
    if (f) {
      if (!cur) throw new Error(`smaps of ${pid}: field before any mapping: "${line}"`);
      const kib = Number(f[2]);
      cur.seen.add(f[1]!);
      if (f[1] === 'Rss') cur.rss = kib;
      else if (f[1] === 'Pss') cur.pss = kib;
      else if (f[1] === 'Private_Clean' || f[1] === 'Private_Dirty') cur.private += kib;
      else if (f[1] === 'Shared_Clean' || f[1] === 'Shared_Dirty') cur.shared += kib;
      continue;
    }
    // VmFlags, THPeligible, ProtectionKey: not sizes.
    if (!cur || !/^\w+:/.test(line)) throw new Error(`smaps of ${pid}: unexpected line "${line}"`);
  }
  finish();
  return out;
}

/** The engine's charge for a set of its processes (see the top of this file). */
export function footprint(procs: ProcSmaps[]): Footprint {
  const byName: Record<string, number> = {};
  const pssByName: Record<string, number> = {};
  const add = (rec: Record<string, number>, name: string, kib: number) => {
    rec[name] = (rec[name] ?? 0) + kib;
  };
  let priv = 0;
  let pss = 0;
  let anonShared = 0;
  // File key → the most of it any one process has resident, whose name, and the file's path.
  const files = new Map<string, { kib: number; owner: string; path: string }>();
  for (const p of procs) {
    const perFile = new Map<string, { kib: number; path: string }>();
    for (const m of p.mappings) {
      priv += m.private;
      pss += m.pss;
      add(byName, p.name, m.private);
      add(pssByName, p.name, m.pss);
      if (m.key.startsWith('anon:')) {
        anonShared += m.shared;
        add(byName, p.name, m.shared);
        continue;
      }
      const f = perFile.get(m.key);
      if (f) f.kib += m.shared;
      else perFile.set(m.key, { kib: m.shared, path: m.name });
    }
    for (const [key, f] of perFile) {
      const best = files.get(key);
      if (!best || f.kib > best.kib) files.set(key, { kib: f.kib, owner: p.name, path: f.path });
    }
  }
  let sharedOnce = anonShared;
  for (const f of files.values()) {
    sharedOnce += f.kib;
    add(byName, f.owner, f.kib);
  }
  const largestShared = [...files.values()]
    .filter((f) => f.kib > 0)
    .sort((a, b) => b.kib - a.kib)
    .slice(0, 5)
    .map((f) => ({ name: f.path, kib: f.kib }));
  return {
    total: priv + sharedOnce,
    private: priv,
    sharedOnce,
    pss,
    processes: procs.length,
    byName,
    pssByName,
    largestShared,
  };
}

/** Processes (other than this one) whose command line contains `marker`. */
export function processesNaming(marker: string): number[] {
  const pids: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker)) pids.push(Number(p));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** The process's name, with node processes named by the script they run (berthd). */
export function nameOf(pid: number): string {
  const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  if (comm === 'node' || comm === 'MainThread') {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmd.includes('berthd')) return 'berthd';
  }
  return comm;
}

/** Reads one process's smaps; undefined when it has exited meanwhile. */
export function readProc(pid: number): ProcSmaps | undefined {
  let text: string;
  let name: string;
  try {
    name = nameOf(pid);
    text = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  return { pid, name, mappings: parseSmaps(text, pid) };
}

/** The footprint of every process whose command line names `marker`. */
export function sampleMemory(marker: string): Footprint {
  const procs: ProcSmaps[] = [];
  for (const pid of processesNaming(marker)) {
    const p = readProc(pid);
    if (p) procs.push(p);
  }
  return footprint(procs);
}
