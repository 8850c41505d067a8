/**
 * Test harness: an isolated berthd per suite — its own --root, --exec-root, socket,
 * bridge name and cgroup parent under a fresh temp dir — and a teardown that removes
 * everything it made (containers, conmon processes, mounts, cgroups, files), so suites
 * never collide with each other or with a user's engine.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';

export const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const BERTHD = path.join(REPO, 'bin/berthd');
export const BERTH = path.join(REPO, 'bin/berth');

export interface TestDaemon {
  dir: string;
  root: string;
  execRoot: string;
  socket: string;
  /** `unix://<socket>` */
  host: string;
  /** Environment for the docker and berth CLIs: DOCKER_HOST and BERTH_HOST point here. */
  env: NodeJS.ProcessEnv;
  cgroupParent: string;
  /** Everything berthd printed so far (for failure messages). */
  output(): string;
  /** SIGTERM and wait; containers keep running. */
  stop(): Promise<void>;
  /** SIGKILL the daemon at once (crash test); containers keep running. */
  kill9(): Promise<void>;
  /** Starts berthd again on the same roots. */
  restart(): Promise<void>;
  /** Stops the daemon and removes every container, process, mount, cgroup and file it made. */
  cleanup(): Promise<void>;
}

export interface StartOptions {
  extraArgs?: string[];
  /** Mount a tmpfs at the exec root, as /run is on most hosts (this VM's /run is on disk). */
  execRootOnTmpfs?: boolean;
  /** Mount a tmpfs of this size (mount's `size=`, e.g. '64m') at the root: a disk that can fill. */
  rootOnTmpfs?: string;
}

/** Creates `dir` and mounts a small tmpfs on it (removed by `unmountUnder` at teardown). */
export function mountTmpfs(dir: string, size = '512m'): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `mode=0711,size=${size}`, 'tmpfs', dir], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`mounting a tmpfs on ${dir} failed: ${r.stderr || r.error?.message}`);
}

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request({ socketPath: socket, path: '/_ping', method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

/**
 * Polls `socket` with /_ping until a daemon answers; throws, with what it printed, when the
 * process exits first or `timeoutMs` passes. `name` is the daemon's name in those messages.
 */
export async function waitForPing(
  name: string,
  child: ChildProcess,
  socket: string,
  output: () => string,
  opts: { timeoutMs: number; intervalMs: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output()}`);
    if (await ping(socket)) return;
    if (Date.now() > deadline) {
      throw new Error(`${name} did not answer on ${socket} within ${opts.timeoutMs / 1000} s:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs));
  }
}

export async function startDaemon(opts: StartOptions = {}): Promise<TestDaemon> {
  const tag = randomBytes(3).toString('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `berth-t-${tag}-`));
  const root = path.join(dir, 'root');
  const execRoot = path.join(dir, 'run');
  const socket = path.join(dir, 'berth.sock');
  const cgroupParent = `/berth-test-${tag}`;
  if (opts.execRootOnTmpfs) mountTmpfs(execRoot);
  if (opts.rootOnTmpfs) mountTmpfs(root, opts.rootOnTmpfs);
  const args = [
    BERTHD,
    '--root',
    root,
    '--exec-root',
    execRoot,
    '--host',
    `unix://${socket}`,
    '--bridge',
    `bt${tag}`,
    '--cgroup-parent',
    cgroupParent,
    ...(opts.extraArgs ?? []),
  ];
  let log = '';
  let child: ChildProcess | undefined;

  const launch = async () => {
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
    child = c;
    c.stdout?.on('data', (d) => (log += d));
    c.stderr?.on('data', (d) => (log += d));
    await waitForPing('berthd', c, socket, () => log, { timeoutMs: 30_000, intervalMs: 50 });
  };

  /** Signals the running berthd, if any, and waits for it to exit. */
  const halt = async (signal: NodeJS.Signals) => {
    if (!child) return;
    const c = child;
    child = undefined;
    const exited = new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) resolve();
      else c.once('exit', () => resolve());
    });
    c.kill(signal);
    await exited;
  };

  try {
    await launch();
  } catch (e) {
    sweep(dir, execRoot, cgroupParent);
    throw e;
  }

  const daemon: TestDaemon = {
    dir,
    root,
    execRoot,
    socket,
    host: `unix://${socket}`,
    env: {
      ...process.env,
      DOCKER_HOST: `unix://${socket}`,
      BERTH_HOST: `unix://${socket}`,
      DOCKER_CONFIG: path.join(dir, 'docker-config'),
    },
    cgroupParent,
    output: () => log,
    stop: () => halt('SIGTERM'),
    kill9: () => halt('SIGKILL'),
    async restart() {
      await daemon.stop();
      await launch();
    },
    async cleanup() {
      if (child) {
        // Remove containers through the API first so the daemon releases what it holds.
        spawnSync('docker', ['rm', '-f', '-v', ...listContainerIds(daemon.env)], {
          env: daemon.env,
          timeout: 60_000,
        });
      }
      await daemon.stop();
      sweep(dir, execRoot, cgroupParent);
    },
  };
  return daemon;
}

/** Every container id the daemon that `env` points the docker CLI at knows; none when it fails. */
export function listContainerIds(env: NodeJS.ProcessEnv): string[] {
  const r = spawnSync('docker', ['ps', '-aq', '--no-trunc'], { env, encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

/** Kills what a daemon left behind under `dir`: conmon and container processes, mounts, cgroups. */
export function sweep(dir: string, execRoot: string, cgroupParent: string): void {
  const runcRoot = path.join(execRoot, 'runc');
  if (fs.existsSync(runcRoot)) {
    for (const id of fs.readdirSync(runcRoot)) {
      spawnSync('runc', ['--root', runcRoot, 'delete', '-f', id], { timeout: 30_000 });
    }
  }
  // conmon processes whose command line names our directories.
  killProcessesNaming(dir, (_pid, cmd) => cmd.includes('berthd'));
  unmountUnder(dir);
  removeCgroups(cgroupParent);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** SIGKILLs every process whose command line contains `marker`, except those `spare` names. */
export function killProcessesNaming(marker: string, spare: (pid: number, cmdline: string) => boolean): void {
  for (const p of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.includes(marker) && !spare(Number(p), cmd)) process.kill(Number(p), 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** Lazily unmounts every mount at or below `dir`, deepest first. */
export function unmountUnder(dir: string): void {
  const mounts = fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(dir))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
}

/** rmdir a cgroup subtree (deepest first) in every v1 hierarchy and in the v2/unified tree. */
export function removeCgroups(parent: string): void {
  const base = '/sys/fs/cgroup';
  const roots = fs.existsSync(path.join(base, 'cgroup.controllers'))
    ? [base]
    : fs
        .readdirSync(base)
        .map((d) => path.join(base, d))
        .filter((d) => fs.statSync(d).isDirectory());
  for (const r of roots) {
    const top = path.join(r, parent);
    if (!fs.existsSync(top)) continue;
    const dirs: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true }))
        if (e.isDirectory()) walk(path.join(d, e.name));
      dirs.push(d);
    };
    walk(top);
    for (const d of dirs) {
      try {
        fs.rmdirSync(d);
      } catch {
        // busy: a process is still inside; the sweep above killed it, the kernel lags a little
      }
    }
  }
}

/**
 * The daemon of the calling test file: started in a `before` hook (then `setup` runs on it) and
 * cleaned up in an `after` hook, also when start-up or setup failed. The handle stands for that
 * daemon inside tests; touching it before the hook has run throws. More set-up belongs in
 * `setup`, not in another top-level `before`: Node 20 starts those without waiting for this one.
 */
export function useDaemon(setup?: (d: TestDaemon) => unknown, opts: StartOptions = {}): TestDaemon {
  let daemon: TestDaemon | undefined;
  before(async () => {
    daemon = await startDaemon(opts);
    await setup?.(daemon);
  });
  after(async () => {
    await daemon?.cleanup();
  });
  return new Proxy({} as TestDaemon, {
    get(_target, key) {
      if (!daemon) throw new Error('the test daemon is used before its before() hook started it');
      return Reflect.get(daemon, key);
    },
  });
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request straight to the daemon's socket, for what the CLIs do not expose. */
export function request(
  d: TestDaemon,
  method: string,
  urlPath: string,
  opts: { body?: string | Buffer; headers?: http.OutgoingHttpHeaders } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: d.socket, method, path: urlPath, headers: opts.headers ?? {} },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real docker CLI against a daemon. */
export function docker(
  d: TestDaemon,
  args: string[],
  opts: { input?: string | Buffer; timeoutMs?: number } = {},
): CliResult {
  return runCli('docker', args, d.env, opts);
}

/** Runs our berth CLI against a daemon. */
export function berth(
  d: TestDaemon,
  args: string[],
  opts: { input?: string | Buffer; timeoutMs?: number } = {},
): CliResult {
  return runCli(process.execPath, [BERTH, ...args], d.env, opts);
}

function runCli(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { input?: string | Buffer; timeoutMs?: number },
): CliResult {
  const r = spawnSync(cmd, args, {
    env,
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? (r.signal ? 128 : -1), stdout: r.stdout, stderr: r.stderr };
}
