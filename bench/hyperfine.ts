/**
 * Runs one command under hyperfine and reads its JSON export. Commands run through hyperfine's
 * default shell (sh), whose start-up time hyperfine measures and subtracts.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Timing {
  /** Seconds. */
  median: number;
  mean: number;
  stddev: number;
  min: number;
  max: number;
  times: number[];
}

export interface HyperfineJob {
  name: string;
  command: string;
  /** Run before every timing run (warm-up runs included): resets state. */
  prepare?: string;
  /** Run once after the last run. */
  cleanup?: string;
  runs: number;
  warmup: number;
  env: NodeJS.ProcessEnv;
  /** Where the JSON export goes. */
  workDir: string;
  /** hyperfine is stopped after this long and the job fails. */
  timeoutMs: number;
}

export class HyperfineError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

let current: ReturnType<typeof spawn> | undefined;

/** Stops a running hyperfine (Ctrl-C handling). */
export function abortHyperfine(): void {
  if (current) killGroup(current);
}

// hyperfine runs in its own process group so that a stop also reaches the docker CLI it started.
function killGroup(c: ReturnType<typeof spawn>): void {
  try {
    if (c.pid) process.kill(-c.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

export function hyperfine(job: HyperfineJob): Promise<Timing> {
  const exportFile = path.join(job.workDir, `hf-${process.pid}-${Date.now()}.json`);
  const args = [
    '--style',
    'basic',
    '--warmup',
    String(job.warmup),
    '--runs',
    String(job.runs),
    '--export-json',
    exportFile,
    '-n',
    job.name,
  ];
  if (job.prepare) args.push('--prepare', job.prepare);
  if (job.cleanup) args.push('--cleanup', job.cleanup);
  args.push(job.command);
  return new Promise((resolve, reject) => {
    const c = spawn('hyperfine', args, { env: job.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    current = c;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(c);
    }, job.timeoutMs);
    let out = '';
    c.stdout?.on('data', (d) => (out += d));
    c.stderr?.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('close', (code) => {
      current = undefined;
      clearTimeout(timer);
      try {
        if (timedOut) {
          reject(new HyperfineError(`timed out after ${Math.round(job.timeoutMs / 1000)} s`, out));
          return;
        }
        if (code !== 0) {
          const why = out.split('\n').find((l) => /error|fail/i.test(l)) ?? `exit code ${code}`;
          reject(new HyperfineError(`hyperfine: ${why.trim()}`, out));
          return;
        }
        resolve(parseExport(fs.readFileSync(exportFile, 'utf8')));
      } catch (e) {
        reject(e);
      } finally {
        fs.rmSync(exportFile, { force: true });
      }
    });
  });
}

function num(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new Error(`hyperfine export: bad ${field}: ${String(v)}`);
  return v;
}

export function parseExport(text: string): Timing {
  const doc = JSON.parse(text) as { results?: unknown };
  const r = Array.isArray(doc.results) ? (doc.results[0] as Record<string, unknown> | undefined) : undefined;
  if (!r) throw new Error('hyperfine export: no results');
  const times = Array.isArray(r.times) ? r.times.map((t, i) => num(t, `times[${i}]`)) : [];
  return {
    median: num(r.median, 'median'),
    mean: num(r.mean, 'mean'),
    stddev: typeof r.stddev === 'number' ? r.stddev : 0,
    min: num(r.min, 'min'),
    max: num(r.max, 'max'),
    times,
  };
}
