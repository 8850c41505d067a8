/**
 * `npm run bench`: berth vs dockerd, side by side, driven by the same docker CLI.
 *
 * Life cycle: build the cached test images (.bench/) → start an isolated berthd (test harness)
 * and, when /usr/sbin/dockerd exists, a dockerd in its own network namespace (test/dockerd.ts)
 * → load the same docker-archives into both → probe `docker run` on berthd → run each scenario
 * on each side with hyperfine (or the smaps sampler for memory) → print a markdown table with
 * medians, berth/dockerd ratios and the issues' targets, write .bench/results.json → stop both
 * daemons and remove everything they made, also on errors and Ctrl-C.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Dockerd, dockerdAvailable, startDockerd } from '../test/dockerd.js';
import { REPO, startDaemon, type TestDaemon } from '../test/harness.js';
import { type BenchImages, BIG_REF, prepareImages } from './fixtures.js';
import { abortHyperfine, HyperfineError, hyperfine } from './hyperfine.js';
import { sampleMemory } from './memory.js';
import { type Options, parseArgs, USAGE } from './options.js';
import {
  judge,
  type Measurement,
  markdownTable,
  notes,
  type Row,
  type RowResult,
  type Side,
  type Target,
} from './report.js';

/** One daemon under test, seen through the docker CLI. */
interface Engine {
  side: Side;
  /** `docker -H unix://...` — the prefix of every command line. */
  docker: string;
  /** The engine's private directory: every daemon/monitor process names it on its command line. */
  dir: string;
  stop(): Promise<void>;
}

function q(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const CACHE = path.join(REPO, '.bench');
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
const ENV: NodeJS.ProcessEnv = (() => {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: path.join(WORK, 'docker-config') };
  // -H on each command line selects the daemon; a context or host from the caller would clash.
  delete env.DOCKER_HOST;
  delete env.DOCKER_CONTEXT;
  return env;
})();

let aborted = false;

class Interrupted extends Error {}

/** Stops the run at the next step once a signal has started the clean-up. */
function checkAborted(): void {
  if (aborted) throw new Interrupted('interrupted');
}

/** Runs a shell command line; resolves with its exit code and output (never rejects on status). */
function sh(command: string, timeoutMs = 300_000): Promise<{ code: number; out: string }> {
  checkAborted();
  return new Promise((resolve, reject) => {
    const c = spawn('sh', ['-c', command], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout?.on('data', (d) => (out += d));
    c.stderr?.on('data', (d) => (out += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('error', reject);
    c.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, out });
    });
  });
}

async function must(command: string, timeoutMs?: number): Promise<string> {
  const r = await sh(command, timeoutMs);
  if (r.code !== 0) throw new Error(`\`${command}\` exited with ${r.code}: ${reasonOf(r.out)}`);
  return r.out;
}

/** The line of a tool's output that says what went wrong: the first error line, else the last line. */
function reasonOf(s: string): string {
  const lines = s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (
    lines.find((l) => /\b(error|failed|cannot|refused|denied|unknown|invalid)\b/i.test(l)) ??
    lines.pop() ??
    ''
  ).slice(0, 300);
}

const rmAll = (e: Engine) => `${e.docker} ps -aq | xargs -r ${e.docker} rm -f >/dev/null 2>&1; true`;

interface Context {
  images: BenchImages;
  runs?: number;
}

interface Scenario {
  id: string;
  title: string;
  issue: number;
  unit: Row['unit'];
  target?: Target;
  /** Needs `docker run` (issue 3): n/a on berth until the probe succeeds. */
  needsRun: boolean;
  measure(e: Engine, ctx: Context): Promise<Measurement>;
}

interface TimedSpec {
  command: string;
  prepare?: string;
  cleanup?: string;
  runs: number;
  warmup?: number;
  timeoutMs?: number;
}

async function timed(e: Engine, ctx: Context, spec: TimedSpec): Promise<Measurement> {
  try {
    const t = await hyperfine({
      name: e.side,
      command: spec.command,
      prepare: spec.prepare,
      cleanup: spec.cleanup,
      runs: ctx.runs ?? spec.runs,
      warmup: spec.warmup ?? 1,
      env: ENV,
      workDir: WORK,
      timeoutMs: spec.timeoutMs ?? 240_000,
    });
    return { status: 'ok', value: t.median, detail: { ...t } };
  } catch (err) {
    checkAborted();
    if (!(err instanceof HyperfineError)) return { status: 'failed', reason: String(err) };
    const code = /non-zero exit code: (\d+)/.exec(err.output)?.[1];
    if (!code) return { status: 'failed', reason: `${err.message} — ${reasonOf(err.output)}` };
    // hyperfine hides the command's output; one more run outside it shows what went wrong.
    const again = await sh(`${spec.prepare ? `${spec.prepare}; ` : ''}${spec.command}`, 120_000);
    return { status: 'failed', reason: `exit code ${code}: ${reasonOf(again.out)}` };
  }
}

/**
 * Gives each side the same start: the page cache is dropped, and with it the memory cgroups of
 * removed containers that their cached pages keep alive (hundreds after a batch scenario). Left in
 * place they slow every cgroup operation of whichever side runs next (measured: 244 such cgroups,
 * 22 after a drop; a berth batch drifted 10 % slower over a few runs).
 */
async function settle(): Promise<void> {
  await sh('sync; echo 3 > /proc/sys/vm/drop_caches');
}

async function ensureBig(e: Engine, ctx: Context): Promise<void> {
  const r = await sh(`${e.docker} image inspect ${BIG_REF}`);
  if (r.code !== 0) await must(`${e.docker} load -i ${q(ctx.images.bigTar)}`);
}

/** Runs `body`; a throw becomes a failed measurement, and `cleanup` runs afterwards in any case. */
async function guarded(cleanup: string, body: () => Promise<Measurement>): Promise<Measurement> {
  try {
    return await body();
  } catch (err) {
    return { status: 'failed', reason: (err as Error).message };
  } finally {
    await sh(cleanup);
  }
}

/** Runs `body` while a busybox container `name` runs `cmd` (detached, no network); removes it after. */
function withContainer(
  e: Engine,
  name: string,
  cmd: string,
  body: () => Promise<Measurement>,
): Promise<Measurement> {
  return guarded(`${e.docker} rm -f ${name}`, async () => {
    await must(`${e.docker} run -d --name ${name} --network none busybox ${cmd}`);
    return body();
  });
}

const CONTAINERS = 20;
const BATCH = 50;

/**
 * How long the memory row waits after the engine's last request before it samples: what is
 * measured is what the engine holds while its containers run, not the garbage of the burst of
 * starts just before. V8's memory reducer collects that about 8 s after the last allocations
 * (berthd: 90 MiB at 3 s, 73 MiB from 13 s on, unchanged at 23 s); shims and conmons free their
 * start buffers sooner, and Go's scavenger returns dockerd's freed heap in the background.
 */
const MEMORY_SETTLE_MS = 15_000;

const settleMemory = () => new Promise((r) => setTimeout(r, MEMORY_SETTLE_MS));

const MEMORY_METHOD =
  'per engine: private pages (USS) in full + each shared file once, at the largest amount one of ' +
  "the engine's processes has resident (as if the engine ran alone); PSS for reference";

/** The memory row's detail in results.json; KiB. */
interface MemoryDetail {
  method: string;
  totalKiB: number;
  idleTotalKiB: number;
  marginalPerContainerKiB: number;
  privateKiB: number;
  sharedOnceKiB: number;
  byNameKiB: Record<string, number>;
  largestSharedKiB: { name: string; kib: number }[];
  totalPssKiB: number;
  idleTotalPssKiB: number;
  marginalPssPerContainerKiB: number;
  pssByNameKiB: Record<string, number>;
  processes: number;
  idleProcesses: number;
}

const mib = (kib: number) => (kib / 1024).toFixed(1);

/** The memory row's note under the table: the method once, then totals and split per side. */
function memoryLines(mem: RowResult): string[] {
  const out = [`Memory (${MEMORY_METHOD}), in MiB:`];
  const marginal: Partial<Record<Side, number>> = {};
  for (const side of ['berth', 'dockerd'] as const) {
    const m = mem[side];
    if (m.status !== 'ok' || !m.detail) continue;
    const d = m.detail as unknown as MemoryDetail;
    marginal[side] = d.marginalPerContainerKiB;
    const parts = Object.entries(d.byNameKiB)
      .sort((a, b) => b[1] - a[1])
      .map(([n, kib]) => `${n} ${mib(kib)}`)
      .join(', ');
    out.push(
      `- ${side}: ${mib(d.totalKiB)} with ${CONTAINERS} containers (${parts}; ${mib(d.privateKiB)} private + ` +
        `${mib(d.sharedOnceKiB)} shared), ${mib(d.idleTotalKiB)} with none, ` +
        `${mib(d.marginalPerContainerKiB)} more per container; PSS ${mib(d.totalPssKiB)} and ` +
        `${mib(d.idleTotalPssKiB)}, ${mib(d.marginalPssPerContainerKiB)} per container`,
    );
  }
  if (marginal.berth !== undefined && marginal.dockerd !== undefined && marginal.dockerd > 0) {
    out.push(`- more per container, berth/dockerd: ${(marginal.berth / marginal.dockerd).toFixed(2)}`);
  }
  return out;
}

const SCENARIOS: Scenario[] = [
  {
    id: 'images',
    title: '`docker images`',
    issue: 2,
    unit: 'seconds',
    needsRun: false,
    measure: async (e, ctx) => {
      await ensureBig(e, ctx);
      return timed(e, ctx, { command: `${e.docker} images`, runs: 10 });
    },
  },
  {
    id: 'load',
    title: '`docker load` 200 MB, 5 layers',
    issue: 2,
    unit: 'seconds',
    needsRun: false,
    measure: async (e, ctx) => {
      const m = await timed(e, ctx, {
        command: `${e.docker} load -i ${q(ctx.images.bigTar)}`,
        prepare: `${e.docker} rmi -f ${BIG_REF} >/dev/null 2>&1; true`,
        runs: 5,
      });
      const present = await sh(`${e.docker} image inspect ${BIG_REF}`);
      if (m.status === 'ok' && present.code !== 0)
        return { status: 'failed', reason: `${BIG_REF} missing after load` };
      return m;
    },
  },
  {
    id: 'save',
    title: '`docker save` 200 MB, 5 layers',
    issue: 2,
    unit: 'seconds',
    needsRun: false,
    measure: async (e, ctx) => {
      await ensureBig(e, ctx);
      // A fast answer that is wrong is no answer: the archive must hold the 200 MB of layers.
      const bytes = Number((await must(`${e.docker} save ${BIG_REF} | wc -c`)).trim());
      if (!(bytes >= ctx.images.bigBytes * 0.95)) {
        return {
          status: 'failed',
          reason: `save wrote ${bytes} bytes, the image has ${ctx.images.bigBytes}`,
        };
      }
      // To stdout, which hyperfine sends to /dev/null: `-o /dev/null` would make the CLI
      // rename a temp file over /dev/null.
      return timed(e, ctx, { command: `${e.docker} save ${BIG_REF}`, runs: 5 });
    },
  },
  {
    id: 'run-rm',
    title: '`docker run --rm busybox true`',
    issue: 3,
    unit: 'seconds',
    target: { op: '<=', ratio: 1 / 3, text: '≤ 0.33' },
    needsRun: true,
    measure: (e, ctx) =>
      timed(e, ctx, { command: `${e.docker} run --rm --network none busybox true`, runs: 10 }),
  },
  {
    id: 'run-batch',
    title: `${BATCH} × \`docker run -d … sleep\`, 10 at a time`,
    issue: 3,
    unit: 'seconds',
    target: { op: '<=', ratio: 1 / 3, text: '≤ 0.33' },
    needsRun: true,
    measure: (e, ctx) =>
      timed(e, ctx, {
        command: `seq ${BATCH} | xargs -P 10 -I{} ${e.docker} run -d --network none busybox sleep 3600`,
        prepare: rmAll(e),
        cleanup: rmAll(e),
        runs: 5,
        timeoutMs: 360_000,
      }),
  },
  {
    id: 'memory',
    title: `memory per running container (${CONTAINERS} running)`,
    issue: 3,
    unit: 'KiB',
    target: { op: '<=', ratio: 1 / 4, text: '≤ 0.25' },
    needsRun: true,
    measure: (e) =>
      guarded(rmAll(e), async () => {
        await must(rmAll(e));
        await settleMemory();
        const idle = sampleMemory(e.dir);
        await must(
          `seq ${CONTAINERS} | xargs -P 10 -I{} ${e.docker} run -d --network none busybox sleep 3600 >/dev/null`,
        );
        const running = (await must(`${e.docker} ps -q`)).split('\n').filter(Boolean).length;
        if (running !== CONTAINERS) throw new Error(`${running} containers running, wanted ${CONTAINERS}`);
        await settleMemory();
        const s = sampleMemory(e.dir);
        const detail: MemoryDetail = {
          method: MEMORY_METHOD,
          totalKiB: s.total,
          idleTotalKiB: idle.total,
          marginalPerContainerKiB: (s.total - idle.total) / CONTAINERS,
          privateKiB: s.private,
          sharedOnceKiB: s.sharedOnce,
          byNameKiB: s.byName,
          largestSharedKiB: s.largestShared,
          totalPssKiB: s.pss,
          idleTotalPssKiB: idle.pss,
          marginalPssPerContainerKiB: (s.pss - idle.pss) / CONTAINERS,
          pssByNameKiB: s.pssByName,
          processes: s.processes,
          idleProcesses: idle.processes,
        };
        return { status: 'ok', value: s.total / CONTAINERS, detail: { ...detail } };
      }),
  },
  {
    id: 'exec',
    title: '`docker exec C true`',
    issue: 3,
    unit: 'seconds',
    target: { op: '<', ratio: 1, text: '< 1' },
    needsRun: true,
    measure: (e, ctx) =>
      withContainer(e, 'bench-exec', 'sleep 3600', () =>
        timed(e, ctx, { command: `${e.docker} exec bench-exec true`, runs: 10 }),
      ),
  },
  {
    id: 'logs',
    title: '`docker logs C` (100k lines)',
    issue: 3,
    unit: 'seconds',
    target: { op: '<', ratio: 1, text: '< 1' },
    needsRun: true,
    measure: (e, ctx) =>
      withContainer(e, 'bench-logs', 'seq 100000', async () => {
        await must(`${e.docker} wait bench-logs`, 120_000);
        // A fast answer that is wrong is no answer: check every line is there first.
        const lines = (await must(`${e.docker} logs bench-logs | wc -l`)).trim();
        if (lines !== '100000') throw new Error(`docker logs returned ${lines} lines, wanted 100000`);
        return timed(e, ctx, { command: `${e.docker} logs bench-logs`, runs: 10 });
      }),
  },
];

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function show(m: Measurement, unit: Row['unit']): string {
  if (m.status !== 'ok') return `${m.status}: ${m.reason}`;
  return unit === 'KiB' ? `${(m.value / 1024).toFixed(1)} MiB` : `${(m.value * 1000).toFixed(1)} ms`;
}

async function startBerth(): Promise<Engine> {
  const d: TestDaemon = await startDaemon({ execRootOnTmpfs: true });
  return { side: 'berth', docker: `docker -H ${q(d.host)}`, dir: d.dir, stop: () => d.cleanup() };
}

async function startDocker(): Promise<Engine> {
  const d: Dockerd = await startDockerd({ execRootOnTmpfs: true });
  return { side: 'dockerd', docker: `docker -H ${q(d.host)}`, dir: d.dir, stop: () => d.stop() };
}

async function serverVersion(e: Engine): Promise<string> {
  const r = await sh(`${e.docker} version --format '{{.Server.Version}}'`, 30_000);
  return r.code === 0 ? r.out.trim() : 'unknown';
}

async function main(argv: string[]): Promise<number> {
  let opts: Options;
  try {
    const parsed = parseArgs(argv);
    if (parsed === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    opts = parsed;
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  for (const tool of ['hyperfine', 'docker']) {
    if ((await sh(`command -v ${tool}`)).code !== 0) {
      process.stderr.write(`bench: ${tool} not found on PATH\n`);
      return 1;
    }
  }
  const selected = SCENARIOS.filter((s) => !opts.only || opts.only.test(s.id) || opts.only.test(s.title));
  if (selected.length === 0) {
    process.stderr.write(
      `bench: no scenario matches ${opts.only}; scenarios: ${SCENARIOS.map((s) => s.id).join(', ')}\n`,
    );
    return 2;
  }

  const engines: Engine[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () => {
    cleaning ??= (async () => {
      abortHyperfine();
      for (const e of engines) {
        try {
          await e.stop();
        } catch (err) {
          log(`bench: stopping ${e.side}: ${(err as Error).message}`);
        }
      }
      fs.rmSync(WORK, { recursive: true, force: true });
    })();
    return cleaning;
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      aborted = true;
      log(`\nbench: ${sig}, stopping the daemons and removing what they made…`);
      cleanup().finally(() => process.exit(130));
    });
  }

  try {
    const started = Date.now();
    log('bench: preparing images in .bench/ (first run only: ~200 MB of seeded random layers)…');
    const images = await prepareImages(CACHE);
    const ctx: Context = { images, runs: opts.runs };

    // A daemon that cannot start fails its column, not the bench: the other side still gets measured.
    const setupErrors: Partial<Record<Side, string>> = {};
    log('bench: starting berthd…');
    try {
      engines.push(await startBerth());
    } catch (err) {
      setupErrors.berth = `berthd did not start: ${reasonOf((err as Error).message)}`;
      log(`bench: ${(err as Error).message}`);
    }
    const withDockerd = opts.dockerd && dockerdAvailable();
    if (opts.dockerd && !withDockerd) log('bench: /usr/sbin/dockerd not installed; measuring berth only');
    if (withDockerd) {
      log('bench: starting dockerd in its own network namespace…');
      try {
        engines.push(await startDocker());
      } catch (err) {
        setupErrors.dockerd = `dockerd did not start: ${reasonOf((err as Error).message)}`;
        log(`bench: ${(err as Error).message}`);
      }
    }
    if (engines.length === 0) throw new Error('no daemon started');
    const versions: Record<string, string> = {};
    for (const e of engines) versions[e.side] = await serverVersion(e);
    versions.dockerCli = (await sh(`docker version --format '{{.Client.Version}}' 2>/dev/null`)).out.trim();

    // The same archives into both: same image IDs on both sides.
    for (const e of engines) {
      try {
        await must(`${e.docker} load -i ${q(images.busyboxTar)}`);
        await must(`${e.docker} load -i ${q(images.bigTar)}`);
      } catch (err) {
        setupErrors[e.side] = `loading the test images failed: ${(err as Error).message}`;
        log(`bench: ${e.side}: ${setupErrors[e.side]}`);
      }
    }

    // Same archives, so the same IDs; different IDs mean one side rewrote the image on load.
    const ids = new Map<Side, string>();
    for (const e of engines) {
      if (setupErrors[e.side]) continue;
      const r = await sh(`${e.docker} image inspect --format '{{.Id}}' busybox ${BIG_REF}`);
      ids.set(e.side, r.code === 0 ? r.out.trim().replace(/\s+/g, ' ') : `error: ${reasonOf(r.out)}`);
    }
    const extraNotes: string[] = [];
    if (ids.size === 2 && ids.get('berth') !== ids.get('dockerd')) {
      extraNotes.push(`- image IDs differ: berth ${ids.get('berth')}, dockerd ${ids.get('dockerd')}`);
    }

    // berth's `docker run` may not exist yet (n/a); dockerd's failing is a real failure.
    const runProblem: Partial<Record<Side, Measurement>> = {};
    if (selected.some((s) => s.needsRun)) {
      for (const e of engines) {
        const r = await sh(`${e.docker} run --rm --network none busybox true`, 60_000);
        if (r.code !== 0) {
          log(`bench: ${e.side}: \`docker run\` does not work (${reasonOf(r.out)})`);
          runProblem[e.side] =
            e.side === 'berth'
              ? { status: 'n/a', reason: 'not implemented' }
              : { status: 'failed', reason: `docker run failed: ${reasonOf(r.out)}` };
        }
        await sh(rmAll(e));
      }
    }

    const rows: Row[] = [];
    for (const s of selected) {
      checkAborted();
      const row: Row = {
        id: s.id,
        title: s.title,
        issue: s.issue,
        unit: s.unit,
        target: s.target,
        berth: { status: 'failed', reason: setupErrors.berth ?? 'not run' },
        dockerd: setupErrors.dockerd
          ? { status: 'failed', reason: setupErrors.dockerd }
          : { status: 'skipped', reason: '--no-dockerd or dockerd not installed' },
      };
      for (const e of engines) {
        let m: Measurement;
        if (setupErrors[e.side]) m = { status: 'failed', reason: setupErrors[e.side]! };
        else if (s.needsRun && runProblem[e.side]) m = runProblem[e.side]!;
        else {
          log(`bench: ${s.id} on ${e.side}…`);
          await settle();
          m = await s.measure(e, ctx);
        }
        checkAborted();
        row[e.side] = m;
        log(`bench:   ${e.side}: ${show(m, s.unit)}`);
      }
      rows.push(row);
    }

    const results = rows.map(judge);
    const table = markdownTable(results, withDockerd);
    const out: string[] = ['', table, ''];
    const mem = results.find((r) => r.id === 'memory');
    if (mem) out.push(...memoryLines(mem));
    out.push(...notes(results), ...extraNotes);
    out.push(
      `berth ${versions.berth ?? '?'}${withDockerd ? `, dockerd ${versions.dockerd ?? '?'}` : ''}, docker CLI ` +
        `${versions.dockerCli}; ${os.cpus().length} CPUs; medians of hyperfine runs; took ` +
        `${Math.round((Date.now() - started) / 1000)} s.`,
    );
    process.stdout.write(`${out.join('\n')}\n`);

    fs.mkdirSync(CACHE, { recursive: true });
    const json = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, memoryBytes: os.totalmem(), kernel: os.release() },
      versions,
      options: { only: opts.only?.source ?? null, runs: opts.runs ?? null, dockerd: withDockerd },
      imageIds: Object.fromEntries(ids),
      rows: results,
      table,
    };
    fs.writeFileSync(path.join(CACHE, 'results.json'), `${JSON.stringify(json, null, 2)}\n`);
    log(`bench: wrote ${path.relative(process.cwd(), path.join(CACHE, 'results.json')) || 'results.json'}`);
    return 0;
  } catch (err) {
    if (err instanceof Interrupted || aborted) return 130;
    log(`bench: ${(err as Error).message}`);
    return 1;
  } finally {
    log('bench: stopping the daemons…');
    await cleanup();
  }
}

main(process.argv.slice(2)).then((code) => {
  fs.rmSync(WORK, { recursive: true, force: true });
  process.exit(code);
});
