/**
 * Memory of an engine's own processes: the sum of PSS (proportional set size, so shared pages
 * such as one binary mapped by many shims are counted once in total) over every process whose
 * command line names the engine's private directory. For berth that is berthd and its conmons;
 * for dockerd it is dockerd, its containerd and the containerd-shim-runc-v2 processes.
 * Container processes themselves (`sleep 3600`) do not name the directory and are not counted.
 */
import fs from 'node:fs';

export interface ProcMem {
  pid: number;
  comm: string;
  /** KiB. */
  pss: number;
}

export interface MemSample {
  /** KiB. */
  totalPss: number;
  procs: ProcMem[];
  /** KiB by process name, e.g. { berthd: 61234, conmon: 12000 }. */
  byName: Record<string, number>;
}

function readPss(pid: number): number | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const m = /^Pss:\s+(\d+) kB/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
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

function commOf(pid: number): string {
  try {
    const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    // berthd runs as `node bin/berthd`; name it by what it is.
    if (comm === 'node' || comm === 'MainThread') {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('berthd')) return 'berthd';
    }
    return comm;
  } catch {
    return '?';
  }
}

export function sampleMemory(marker: string): MemSample {
  const procs: ProcMem[] = [];
  for (const pid of processesNaming(marker)) {
    const pss = readPss(pid);
    if (pss !== undefined) procs.push({ pid, comm: commOf(pid), pss });
  }
  const byName: Record<string, number> = {};
  for (const p of procs) byName[p.comm] = (byName[p.comm] ?? 0) + p.pss;
  return { totalPss: procs.reduce((s, p) => s + p.pss, 0), procs, byName };
}
