/**
 * Health checks (HEALTHCHECK, `docker run --health-*`), as dockerd runs them.
 *
 * Life cycle: the container starts → State.Health is `starting` and a HealthMonitor probes
 * every Interval (StartInterval while the StartPeriod lasts) by running the test as an exec →
 * exit 0 makes it `healthy` and clears the failing streak; a failure adds to the streak
 * (except inside the start period while still `starting`) and `Retries` of them in a row make
 * it `unhealthy` → each change of status is a `health_status: …` event → the monitor stops
 * when the task exits or is paused, and starts again with the task.
 */
import { badRequest } from '../util/errors.js';
import type { Doc } from './config.js';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One probe in State.Health.Log. */
export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** Docker's State.Health. */
export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthLogEntry[];
}

/** A container's health check with Docker's defaults applied; times in ms. */
export interface HealthConfig {
  /** The probe's argv: CMD's arguments, or CMD-SHELL's command under /bin/sh -c. */
  args: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

/** What a probe returns: the exit code (-1: it timed out or could not run) and its output. */
export interface ProbeResult {
  exitCode: number;
  output: string;
}

const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_START_INTERVAL_MS = 5_000;
const DEFAULT_RETRIES = 3;
/** dockerd keeps the last five probes and the first 4 KiB of each one's output. */
export const MAX_LOG_ENTRIES = 5;
export const MAX_OUTPUT = 4096;

const DURATIONS = ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const;

function healthcheckOf(config: Doc): Doc | undefined {
  const h = config.Healthcheck;
  return h && typeof h === 'object' && !Array.isArray(h) ? (h as Doc) : undefined;
}

/** Rejects what dockerd rejects in Config.Healthcheck, with its messages. */
export function validateHealthcheck(config: Doc): void {
  const h = config.Healthcheck;
  if (h === undefined || h === null) return;
  if (typeof h !== 'object' || Array.isArray(h))
    throw badRequest('invalid value for Healthcheck: expected an object');
  const doc = h as Doc;
  if (doc.Test !== undefined && doc.Test !== null) {
    if (!Array.isArray(doc.Test) || doc.Test.some((t) => typeof t !== 'string')) {
      throw badRequest(
        `invalid value for Healthcheck.Test: ${JSON.stringify(doc.Test)} (expected a list of strings)`,
      );
    }
  }
  for (const key of DURATIONS) {
    const v = doc[key] ?? 0;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw badRequest(`invalid value for Healthcheck.${key}: ${JSON.stringify(v)} (expected nanoseconds)`);
    }
    if (v !== 0 && v < 1_000_000) throw badRequest(`${key} in Healthcheck cannot be less than 1ms`);
  }
  const retries = doc.Retries ?? 0;
  if (typeof retries !== 'number' || !Number.isInteger(retries)) {
    throw badRequest(
      `invalid value for Healthcheck.Retries: ${JSON.stringify(retries)} (expected an integer)`,
    );
  }
  if (retries < 0) throw badRequest('Retries in Healthcheck cannot be negative');
}

/**
 * The container's Healthcheck over the image's, as dockerd merges them: an empty Test and zero
 * durations or retries come from the image.
 */
export function mergeHealthcheck(container: Doc, image: Doc | undefined): Doc | undefined {
  const mine = healthcheckOf(container);
  if (!image) return mine;
  if (!mine) return { ...image };
  const out: Doc = { ...mine };
  if (!Array.isArray(out.Test) || out.Test.length === 0) out.Test = image.Test;
  for (const key of [...DURATIONS, 'Retries']) if (!out[key]) out[key] = image[key];
  return out;
}

/** The health check to run, or undefined for none (no Test, or `NONE`). */
export function healthConfigOf(config: Doc): HealthConfig | undefined {
  const h = healthcheckOf(config);
  const test = Array.isArray(h?.Test) ? (h.Test as string[]) : [];
  let args: string[];
  if (test[0] === 'CMD') args = test.slice(1);
  else if (test[0] === 'CMD-SHELL') args = ['/bin/sh', '-c', test.slice(1).join(' ')];
  else return undefined;
  if (args.length === 0) return undefined;
  const ms = (key: string, dflt: number) => {
    const ns = typeof h?.[key] === 'number' ? (h[key] as number) : 0;
    return ns > 0 ? Math.max(1, Math.round(ns / 1e6)) : dflt;
  };
  const retries = typeof h?.Retries === 'number' && h.Retries > 0 ? h.Retries : DEFAULT_RETRIES;
  return {
    args,
    intervalMs: ms('Interval', DEFAULT_INTERVAL_MS),
    timeoutMs: ms('Timeout', DEFAULT_TIMEOUT_MS),
    startPeriodMs: ms('StartPeriod', 0),
    startIntervalMs: ms('StartInterval', DEFAULT_START_INTERVAL_MS),
    retries,
  };
}

/** The next health state after a probe (dockerd's handleProbeResult). */
export function nextHealth(
  prev: HealthState,
  cfg: HealthConfig,
  entry: HealthLogEntry,
  startedMs: number,
): HealthState {
  const log = [...prev.Log, entry].slice(-MAX_LOG_ENTRIES);
  if (entry.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  // While still starting, failures inside the start period do not count.
  const inStartPeriod = Date.parse(entry.Start) - startedMs < cfg.startPeriodMs;
  if (prev.Status === 'starting' && inStartPeriod) return { ...prev, Log: log };
  const streak = prev.FailingStreak + 1;
  return { Status: streak >= cfg.retries ? 'unhealthy' : prev.Status, FailingStreak: streak, Log: log };
}

export interface HealthMonitorDeps {
  probe(args: string[], timeoutMs: number): Promise<ProbeResult>;
  /** Called after every probe with the new state; `changed` when Status changed. */
  update(state: HealthState, changed: boolean): void;
}

/** Probes one running task until stopped. */
export class HealthMonitor {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly cfg: HealthConfig,
    private readonly startedMs: number,
    private state: HealthState,
    private readonly deps: HealthMonitorDeps,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    const starting = this.state.Status === 'starting' && Date.now() - this.startedMs < this.cfg.startPeriodMs;
    const delay = starting ? Math.min(this.cfg.startIntervalMs, this.cfg.intervalMs) : this.cfg.intervalMs;
    this.timer = setTimeout(() => void this.probeOnce(), delay);
    this.timer.unref();
  }

  private async probeOnce(): Promise<void> {
    const start = new Date();
    let result: ProbeResult;
    try {
      result = await this.deps.probe(this.cfg.args, this.cfg.timeoutMs);
    } catch (e) {
      result = { exitCode: -1, output: (e as Error).message };
    }
    if (this.stopped) return;
    const entry: HealthLogEntry = {
      Start: start.toISOString(),
      End: new Date().toISOString(),
      ExitCode: result.exitCode,
      Output: result.output.slice(0, MAX_OUTPUT),
    };
    const next = nextHealth(this.state, this.cfg, entry, this.startedMs);
    const changed = next.Status !== this.state.Status;
    this.state = next;
    this.deps.update(next, changed);
    this.schedule();
  }
}
