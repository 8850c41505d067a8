/**
 * The runc + conmon driver behind `Runtime` (research/conmon.md, conmon-node.md).
 *
 * Layout: `<execRoot>/runc` (runc --root), `<execRoot>/exits/<id>` (conmon's exit files),
 * `<execRoot>/persist/<id>/` (exit, oom), `<execRoot>/tmp` (conmon's TMPDIR), and the bundle
 * `<stateRoot>/<id>/` (the daemon uses `<execRoot>/tasks`; the directory is the driver's alone:
 * config.json, berth-io.json, conmon.pid, pidfile, oci-log, ctl, winsz,
 * attach, execs/). Everything needed to find a task again lives in files, so a new runtime
 * object on the same dirs (a restarted daemon) recovers it.
 *
 * Exits: one fs.watch on the exit dir for the whole runtime, plus a 1 s poll of live tasks
 * (missed events, dead conmons, log rotation).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { badRequest, conflict, EngineError, internal } from '../util/errors.js';
import { runTool, ToolError } from '../util/exec.js';
import { mkdirp, removeAll, writeFileAtomic } from '../util/fsutil.js';
import { logger } from '../util/log.js';
import { connectAttach } from './attach.js';
import { type CgroupWarmer, cgroupWarmer } from './cgroup-warmer.js';
import { cgroupPids, readCgroupStats } from './cgroups.js';
import { spawnConmon } from './conmon-process.js';
import { lastOciError, runtimeErrorStatus, startExec } from './exec.js';
import { startDirectExec } from './exec-direct.js';
import { readLogs, rotateIfNeeded, writeCtl } from './logs.js';
import type {
  AttachConnection,
  AttachOptions,
  ExecOptions,
  ExecSession,
  ExitStatus,
  IoOptions,
  LogOptions,
  LogRecord,
  OciSpec,
  Recovered,
  Resources,
  Runtime,
  StatsSample,
  TaskStatus,
} from './runtime.js';
import { top } from './top.js';

const log = logger('runtime');

export interface RuncConmonOptions {
  execRoot: string;
  stateRoot: string;
  runc?: string;
  conmon?: string;
}

/** The driver plus `close()`, which stops its watcher and timer (daemon shutdown, tests). */
export interface RuncConmonRuntime extends Runtime {
  close(): void;
}

/** No '.': conmon's temporary exit files are `<id>.XXXXXX` in the same directory. */
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
/** Docker reports 255 when the exit code of a task was lost. */
const LOST_EXIT_CODE = 255;

export function openRuntime(opts: RuncConmonOptions): RuncConmonRuntime {
  return new RuncConmon(opts);
}

/** A signal name (with or without SIG, any case) or number → its number; invalid → 400. */
export function parseSignal(signal: string | number): number {
  const raw = String(signal).trim();
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n >= 1 && n <= 64) return n;
    throw badRequest(`Invalid signal: ${raw}`);
  }
  let name = raw.toUpperCase();
  if (!name.startsWith('SIG')) name = `SIG${name}`;
  const m = /^SIGRTMIN(?:\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(?:-(\d+))?$/.exec(name);
  if (m) {
    const off = Number(m[1] ?? 0);
    const n = name.startsWith('SIGRTMIN') ? 34 + off : 64 - off;
    if (n >= 34 && n <= 64) return n;
  }
  const n = (os.constants.signals as Record<string, number | undefined>)[name];
  if (n === undefined) throw badRequest(`Invalid signal: ${raw}`);
  return n;
}

/** runc's own error text from its stderr (`time=… level=error msg="…"`). */
export function runcMessage(e: unknown): string {
  const text = e instanceof ToolError ? e.stderr : e instanceof Error ? e.message : String(e);
  const msgs: string[] = [];
  for (const m of text.matchAll(/msg="((?:[^"\\]|\\.)*)"/g)) {
    try {
      msgs.push(JSON.parse(`"${m[1]}"`) as string);
    } catch {
      msgs.push(m[1]!);
    }
  }
  return msgs.length ? msgs[msgs.length - 1]! : text.trim();
}

/** An absolute path for a binary name, searched in PATH like a shell does. */
function lookPath(bin: string): string {
  if (bin.includes('/')) return path.resolve(bin);
  const dirs = (process.env.PATH ?? '')
    .split(':')
    .concat(['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']);
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // next
    }
  }
  throw internal(`${bin}: executable file not found in $PATH`);
}

interface Waiter {
  resolve: (e: ExitStatus) => void;
}

class RuncConmon implements RuncConmonRuntime {
  private readonly runcPath: string;
  private readonly conmonPath: string;
  private readonly runcRoot: string;
  private readonly exitDir: string;
  private readonly persistRoot: string;
  private readonly tmpDir: string;
  private readonly stateRoot: string;
  private readonly listeners: ((id: string, exit: ExitStatus) => void)[] = [];
  private readonly waiters = new Map<string, Waiter[]>();
  /** Exits already seen (each is reported once); cleared by create/delete. */
  private readonly reported = new Map<string, ExitStatus>();
  /** Live tasks this object watches, with their io settings (for log rotation). */
  private readonly tracked = new Map<string, IoOptions | undefined>();
  /** Tracked tasks whose conmon was found dead once without an exit file. */
  private readonly suspects = new Set<string>();
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Held while runc attaches a new process to a cgroup (create, exec): see cgroup-warmer.ts. */
  private readonly warmer: CgroupWarmer = cgroupWarmer();

  constructor(opts: RuncConmonOptions) {
    // conmon wants an absolute runtime path.
    this.runcPath = lookPath(opts.runc ?? 'runc');
    this.conmonPath = lookPath(opts.conmon ?? 'conmon');
    this.runcRoot = path.join(opts.execRoot, 'runc');
    this.exitDir = path.join(opts.execRoot, 'exits');
    this.persistRoot = path.join(opts.execRoot, 'persist');
    this.tmpDir = path.join(opts.execRoot, 'tmp');
    this.stateRoot = opts.stateRoot;
    for (const d of [this.runcRoot, this.exitDir, this.persistRoot, this.tmpDir, this.stateRoot])
      mkdirp(d, 0o711);
    this.watcher = fs.watch(this.exitDir, (_event, name) => {
      // conmon writes `<id>.XXXXXX` and renames it to `<id>`.
      if (typeof name === 'string' && !name.includes('.')) this.checkExit(name);
    });
    this.watcher.on('error', (e) => log.warn(`exit dir watch failed: ${e.message}`));
    this.timer = setInterval(() => this.tick(), 1000);
    this.updateRef();
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  // ------------------------------------------------------------ paths

  private bundle(id: string): string {
    return path.join(this.stateRoot, id);
  }
  private exitFile(id: string): string {
    return path.join(this.exitDir, id);
  }
  private persist(id: string): string {
    return path.join(this.persistRoot, id);
  }

  /** runc keeps a directory per container under its root from create to delete. */
  private hasRuncState(id: string): boolean {
    return fs.existsSync(path.join(this.runcRoot, id));
  }

  private check(id: string): void {
    if (!ID_RE.test(id)) throw badRequest(`invalid container id: ${JSON.stringify(id)}`);
  }

  private runc(args: string[]) {
    return runTool(this.runcPath, ['--root', this.runcRoot, ...args]);
  }

  // ------------------------------------------------------------ create / start

  async create(id: string, spec: OciSpec, io: IoOptions): Promise<{ pid: number }> {
    this.check(id);
    if (io.logPath.includes(':'))
      throw badRequest(`log path must not contain ':': ${JSON.stringify(io.logPath)}`);
    if (!path.isAbsolute(io.logPath))
      throw badRequest(`log path must be absolute: ${JSON.stringify(io.logPath)}`);
    const hostname = spec.hostname;
    if (typeof hostname === 'string' && Buffer.byteLength(hostname) > 64) {
      throw badRequest(`invalid hostname ${JSON.stringify(hostname)}: longer than 64 bytes`);
    }
    // Asking runc costs a process spawn; without its state directory it has nothing to say.
    if (this.hasRuncState(id)) {
      const old = await this.status(id);
      if (old && old !== 'stopped') throw conflict(`container ${id} already has a running task`);
      if (old === 'stopped') await this.runc(['delete', '-f', id]).catch(() => {});
    }
    this.removeTaskFiles(id);
    const release = this.warmer.hold();
    try {
      return await this.createTask(id, spec, io);
    } finally {
      release();
    }
  }

  private async createTask(id: string, spec: OciSpec, io: IoOptions): Promise<{ pid: number }> {
    const bundle = mkdirp(this.bundle(id), 0o711);
    mkdirp(this.persist(id), 0o700);
    mkdirp(path.dirname(io.logPath));
    const process = {
      ...((spec.process as Record<string, unknown> | undefined) ?? {}),
      terminal: io.terminal,
    };
    // Rewritten at every create and useless after an OS crash (the task is gone): renamed into
    // place for readers, never fsynced.
    writeFileAtomic(path.join(bundle, 'config.json'), JSON.stringify({ ...spec, process }), 0o600, {
      durable: false,
    });
    writeFileAtomic(path.join(bundle, 'berth-io.json'), JSON.stringify(io), 0o600, { durable: false });
    const ociLog = path.join(bundle, 'oci-log');
    const cp = spawnConmon({
      conmon: this.conmonPath,
      runc: this.runcPath,
      runcRoot: this.runcRoot,
      cid: id,
      cuuid: id,
      bundle,
      pidFile: path.join(bundle, 'pidfile'),
      exitDir: this.exitDir,
      persistDir: this.persist(id),
      conmonPidFile: path.join(bundle, 'conmon.pid'),
      ociLog,
      logPath: io.logPath,
      terminal: io.terminal,
      stdin: io.stdin,
      leaveStdinOpen: !io.stdinOnce,
      tmpDir: this.tmpDir,
    });
    cp.release(true);
    const msg = await cp.sync.next();
    cp.closeSync();
    if (!msg || msg.data < 0) {
      const { code, stderr } = await cp.firstExit;
      const text = (lastOciError(ociLog) ?? msg?.message ?? '').trim();
      this.removeTaskFiles(id);
      if (!text) throw internal(`conmon failed (exit code ${code}): ${stderr.trim() || 'no message'}`);
      throw new EngineError(runtimeErrorStatus(text), `OCI runtime create failed: ${text}: unknown`);
    }
    this.tracked.set(id, io);
    return { pid: msg.data };
  }

  /**
   * What `runc start` does (runc 1.1, libcontainer `exec()`), without a runc process (a fork of
   * berthd plus Go's start-up, several ms of the critical path): the container's init waits,
   * opening `exec.fifo` for writing, until someone reads it; reading its byte lets it exec the
   * user's process, and removing the fifo is what tells runc the container is running (runc
   * writes no state at start). Opened non-blocking so an init that died never hangs a thread.
   */
  async start(id: string): Promise<void> {
    this.check(id);
    const fifo = path.join(this.runcRoot, id, 'exec.fifo');
    let fd: number;
    try {
      fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw internal(`runc start ${id}: ${(e as Error).message}`);
      // No fifo: not a created container (or a runtime that signals start differently); the
      // runtime's own `start` says which, in its own words.
      return this.runcStart(id);
    }
    try {
      const pid = this.readPid(id);
      const buf = Buffer.alloc(1);
      for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
        let n = 0;
        try {
          n = fs.readSync(fd, buf, 0, 1, null);
        } catch (e) {
          // EAGAIN: init has the fifo open and has not written yet.
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN')
            throw internal(`runc start ${id}: ${(e as Error).message}`);
        }
        if (n > 0) break;
        // Nothing to read: init is between create's return and opening the fifo, another
        // start took the byte (and removes the fifo), or init died.
        if (!fs.existsSync(fifo))
          throw conflict(`cannot start container ${id}: cannot start an already running container`);
        if (!processAlive(pid))
          throw conflict(`cannot start container ${id}: container process is already dead`);
        await new Promise((r) => setTimeout(r, delay));
      }
    } finally {
      fs.closeSync(fd);
    }
    fs.rmSync(fifo, { force: true });
  }

  private async runcStart(id: string): Promise<void> {
    try {
      await this.runc(['start', id]);
    } catch (e) {
      const msg = runcMessage(e);
      if (/does not exist|stopped|already running|not in created/.test(msg))
        throw conflict(`cannot start container ${id}: ${msg}`);
      throw internal(`runc start ${id}: ${msg}`);
    }
  }

  // ------------------------------------------------------------ signals and state

  async kill(id: string, signal: string | number, all = false): Promise<void> {
    this.check(id);
    const n = parseSignal(signal);
    try {
      await this.runc(['kill', ...(all ? ['--all'] : []), id, String(n)]);
    } catch (e) {
      const msg = runcMessage(e);
      if (/not running|does not exist|process already finished|no such process/.test(msg)) {
        throw conflict(`Container ${id} is not running`);
      }
      throw internal(`runc kill ${id}: ${msg}`);
    }
  }

  async pause(id: string): Promise<void> {
    this.check(id);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.runc(['pause', id]);
        return;
      } catch (e) {
        const msg = runcMessage(e);
        // The v1 freezer sometimes fails once (conmon.md §7).
        if (/unable to freeze/.test(msg) && attempt < 2) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        if (/not running|does not exist/.test(msg)) throw conflict(`Container ${id} is not running`);
        if (/already paused/.test(msg)) throw conflict(`Container ${id} is already paused`);
        throw internal(`runc pause ${id}: ${msg}`);
      }
    }
  }

  async resume(id: string): Promise<void> {
    this.check(id);
    try {
      await this.runc(['resume', id]);
    } catch (e) {
      const msg = runcMessage(e);
      if (/not paused|not running|does not exist/.test(msg)) throw internal(`Container ${id} is not paused`);
      throw internal(`runc resume ${id}: ${msg}`);
    }
  }

  async status(id: string): Promise<TaskStatus | undefined> {
    this.check(id);
    let stdout: string;
    try {
      ({ stdout } = await this.runc(['state', id]));
    } catch (e) {
      if (/does not exist/.test(runcMessage(e))) return undefined;
      throw internal(`runc state ${id}: ${runcMessage(e)}`);
    }
    const s = (JSON.parse(stdout) as { status?: unknown }).status;
    if (s === 'running' || s === 'paused' || s === 'stopped') return s;
    return 'created';
  }

  async delete(id: string, force = false): Promise<void> {
    this.check(id);
    if (!this.hasRuncState(id)) {
      this.removeTaskFiles(id);
      return;
    }
    // conmon recorded the exit: the task is stopped, one `runc delete` is all it needs.
    if (this.checkExit(id)) {
      await this.runc(['delete', '-f', id]).catch((e) => {
        if (!/does not exist/.test(runcMessage(e))) throw internal(`runc delete ${id}: ${runcMessage(e)}`);
      });
      this.removeTaskFiles(id);
      return;
    }
    const state = await this.status(id);
    if (state && state !== 'stopped') {
      if (!force) {
        throw conflict(
          `You cannot remove a running container ${id}. Stop the container before attempting removal or force remove`,
        );
      }
      const alive = this.conmonAlive(id);
      await this.runc(['delete', '-f', id]).catch((e) => {
        if (!/does not exist/.test(runcMessage(e))) throw internal(`runc delete -f ${id}: ${runcMessage(e)}`);
      });
      // conmon writes the exit file after the kill; wait for it so it does not outlive the cleanup.
      if (alive) await this.waitTimeout(id, 5000);
    } else if (state === 'stopped') {
      await this.runc(['delete', ...(force ? ['-f'] : []), id]).catch((e) => {
        if (!/does not exist/.test(runcMessage(e))) throw internal(`runc delete ${id}: ${runcMessage(e)}`);
      });
    }
    this.removeTaskFiles(id);
  }

  /** Everything of a task except its log (that belongs to the container). */
  private removeTaskFiles(id: string): void {
    this.tracked.delete(id);
    this.reported.delete(id);
    removeAll(this.exitFile(id));
    removeAll(this.persist(id));
    // The bundle directory is the driver's alone (stateRoot holds nothing else).
    removeAll(this.bundle(id));
  }

  async update(id: string, r: Resources): Promise<void> {
    this.check(id);
    const args: string[] = [];
    const add = (flag: string, v: number | string | undefined) => {
      if (v !== undefined && v !== '') args.push(flag, String(v));
    };
    if (r.memory) add('--memory', r.memory);
    if (r.memorySwap) add('--memory-swap', r.memorySwap);
    if (r.memoryReservation) add('--memory-reservation', r.memoryReservation);
    if (r.cpuShares) add('--cpu-share', r.cpuShares);
    if (r.nanoCpus) {
      add('--cpu-period', 100000);
      add('--cpu-quota', Math.round((r.nanoCpus * 100000) / 1e9));
    } else {
      if (r.cpuPeriod) add('--cpu-period', r.cpuPeriod);
      if (r.cpuQuota) add('--cpu-quota', r.cpuQuota);
    }
    add('--cpuset-cpus', r.cpusetCpus);
    add('--cpuset-mems', r.cpusetMems);
    if (r.blkioWeight) add('--blkio-weight', r.blkioWeight);
    if (r.pidsLimit !== undefined) add('--pids-limit', r.pidsLimit > 0 ? r.pidsLimit : -1);
    if (args.length === 0) return;
    try {
      await this.runc(['update', ...args, id]);
    } catch (e) {
      const msg = runcMessage(e);
      if (/does not exist|not running|stopped/.test(msg)) throw conflict(`Container ${id} is not running`);
      throw new EngineError(
        /invalid|cannot|must/.test(msg) ? 400 : 500,
        `Cannot update container ${id}: ${msg}`,
      );
    }
  }

  // ------------------------------------------------------------ exits

  onExit(listener: (id: string, exit: ExitStatus) => void): void {
    this.listeners.push(listener);
  }

  wait(id: string): Promise<ExitStatus> {
    this.check(id);
    const known = this.reported.get(id);
    if (known) return Promise.resolve(known);
    const p = new Promise<ExitStatus>((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push({ resolve });
      this.waiters.set(id, list);
    });
    this.updateRef();
    if (!this.checkExit(id) && !this.tracked.has(id)) this.tracked.set(id, this.readIo(id));
    return p;
  }

  private waitTimeout(id: string, ms: number): Promise<ExitStatus | undefined> {
    return Promise.race([this.wait(id), new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);
  }

  /** Reports the exit of `id` if its exit file exists; returns whether it has exited. */
  private checkExit(id: string): boolean {
    if (this.reported.has(id)) return true;
    const exit = this.readExit(id);
    if (!exit) return false;
    this.reportExit(id, exit);
    return true;
  }

  private readExit(id: string): ExitStatus | undefined {
    let text: string;
    let mtime: Date;
    try {
      text = fs.readFileSync(this.exitFile(id), 'utf8');
      mtime = fs.statSync(this.exitFile(id)).mtime;
    } catch {
      return undefined;
    }
    const code = Number.parseInt(text.trim(), 10);
    if (!Number.isInteger(code)) return undefined;
    const oomKilled =
      fs.existsSync(path.join(this.persist(id), 'oom')) || fs.existsSync(path.join(this.bundle(id), 'oom'));
    return { exitCode: code < 0 ? LOST_EXIT_CODE : code, oomKilled, finishedAt: mtime };
  }

  private reportExit(id: string, exit: ExitStatus): void {
    if (this.reported.has(id)) return;
    this.reported.set(id, exit);
    this.tracked.delete(id);
    const waiters = this.waiters.get(id) ?? [];
    this.waiters.delete(id);
    this.updateRef();
    for (const w of waiters) w.resolve(exit);
    for (const l of this.listeners) {
      try {
        l(id, exit);
      } catch (e) {
        log.error(`exit listener failed for ${id}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** Records an exit conmon could not write (conmon died), so later waits agree. */
  private recordLostExit(id: string, exitCode: number): ExitStatus {
    try {
      writeFileAtomic(this.exitFile(id), String(exitCode));
    } catch {
      // exit dir gone: report anyway
    }
    const exit = this.readExit(id) ?? { exitCode, oomKilled: false, finishedAt: new Date() };
    this.reportExit(id, exit);
    return exit;
  }

  /** Keeps the process alive only while someone waits for an exit. */
  private updateRef(): void {
    const needed = this.waiters.size > 0;
    if (needed) {
      this.watcher?.ref();
      this.timer?.ref();
    } else {
      this.watcher?.unref();
      this.timer?.unref();
    }
  }

  private tick(): void {
    for (const [id, io] of [...this.tracked]) {
      if (this.checkExit(id)) continue;
      if (io?.logMaxSize && io.logMaxSize > 0) {
        try {
          rotateIfNeeded(io.logPath, io.logMaxSize, io.logMaxFiles ?? 1, path.join(this.bundle(id), 'ctl'));
        } catch (e) {
          log.warn(`log rotation failed for ${id}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      // A waiter must not hang on a task whose conmon died without an exit file; two ticks in
      // a row, so a conmon that is just writing the file is not misread.
      if (this.waiters.has(id) && !this.conmonAlive(id) && !this.checkExit(id)) {
        if (!this.suspects.delete(id)) {
          this.suspects.add(id);
          continue;
        }
        if (fs.existsSync(path.join(this.bundle(id), 'conmon.pid'))) {
          log.warn(`conmon of ${id} is gone without an exit file; exit code lost`);
          this.recordLostExit(id, LOST_EXIT_CODE);
        } else {
          // Never had a task: answer the waiters without leaving an exit file behind.
          this.reportExit(id, { exitCode: LOST_EXIT_CODE, oomKilled: false, finishedAt: new Date() });
        }
      } else {
        this.suspects.delete(id);
      }
    }
  }

  private readIo(id: string): IoOptions | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.bundle(id), 'berth-io.json'), 'utf8')) as IoOptions;
    } catch {
      return undefined;
    }
  }

  /** conmon.md §6.3: alive, not a zombie, and really the conmon of this container (pid reuse). */
  private conmonAlive(id: string): boolean {
    try {
      const pid = Number.parseInt(
        fs.readFileSync(path.join(this.bundle(id), 'conmon.pid'), 'utf8').trim(),
        10,
      );
      if (!Number.isInteger(pid) || pid <= 0) return false;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') return false;
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!argv[0]?.endsWith('conmon')) return false;
      return argv.some((a, i) => a === '-c' && argv[i + 1] === id);
    } catch {
      return false;
    }
  }

  async recover(id: string): Promise<Recovered> {
    this.check(id);
    const exited = () => {
      this.checkExit(id);
      const exit = this.reported.get(id);
      return exit ? ({ state: 'exited', exit } as const) : undefined;
    };
    const done = exited();
    if (done) return done;
    const state = await this.status(id);
    if (!state) return exited() ?? { state: 'gone' };
    const alive = this.conmonAlive(id);
    if (alive) {
      if (state === 'stopped') {
        // conmon is about to write the exit file.
        const exit = await this.waitTimeout(id, 2000);
        return exit
          ? { state: 'exited', exit }
          : { state: 'exited', exit: this.recordLostExit(id, LOST_EXIT_CODE) };
      }
      this.tracked.set(id, this.readIo(id));
      return { state, pid: this.readPid(id) };
    }
    const again = exited();
    if (again) return again;
    if (state === 'created') {
      // Nobody owns its stdio: the daemon died between create and start.
      await this.runc(['delete', '-f', id]).catch(() => {});
      return { state: 'gone' };
    }
    if (state === 'stopped') return { state: 'exited', exit: this.recordLostExit(id, LOST_EXIT_CODE) };
    // An orphan (conmon.md §6.2): without conmon it has no log and no exit code; end it.
    log.warn(`container ${id} lost its conmon; killing it`);
    await this.runc(['kill', '--all', id, 'KILL']).catch(() => {});
    await this.runc(['delete', '-f', id]).catch(() => {});
    return { state: 'exited', exit: this.recordLostExit(id, 137) };
  }

  private readPid(id: string): number {
    try {
      return Number.parseInt(fs.readFileSync(path.join(this.bundle(id), 'pidfile'), 'utf8').trim(), 10) || 0;
    } catch {
      return 0;
    }
  }

  // ------------------------------------------------------------ stdio

  async attach(id: string, opts: AttachOptions): Promise<AttachConnection> {
    this.check(id);
    try {
      return await connectAttach(path.join(this.bundle(id), 'attach'), opts);
    } catch (e) {
      log.debug(`attach ${id}: ${e instanceof Error ? e.message : String(e)}`);
      throw conflict('You cannot attach to a stopped container, start it first');
    }
  }

  resize(id: string, rows: number, cols: number): void {
    this.check(id);
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
      throw badRequest(`invalid terminal size: ${rows}x${cols}`);
    }
    writeCtl(path.join(this.bundle(id), 'ctl'), `1 ${rows} ${cols}\n`);
  }

  async exec(id: string, opts: ExecOptions): Promise<ExecSession> {
    this.check(id);
    if (!ID_RE.test(opts.execId)) throw badRequest(`invalid exec id: ${JSON.stringify(opts.execId)}`);
    // Cheap checks only (a `runc state` would cost a spawn per exec); runc's own refusal of a
    // paused or stopped container is mapped to the same 409s by startExec.
    if (!this.hasRuncState(id) || this.checkExit(id)) throw conflict(`Container ${id} is not running`);
    const ctx = {
      conmon: this.conmonPath,
      runc: this.runcPath,
      runcRoot: this.runcRoot,
      bundle: this.bundle(id),
      tmpDir: this.tmpDir,
    };
    const release = this.warmer.hold();
    try {
      return await (opts.terminal ? startExec(ctx, id, opts) : startDirectExec(ctx, id, opts));
    } finally {
      release();
    }
  }

  logs(logPath: string, opts: LogOptions): AsyncIterable<LogRecord> {
    return readLogs(logPath, opts);
  }

  // ------------------------------------------------------------ cgroup views

  taskSpec(id: string): OciSpec | undefined {
    this.check(id);
    try {
      return JSON.parse(fs.readFileSync(path.join(this.bundle(id), 'config.json'), 'utf8')) as OciSpec;
    } catch {
      return undefined;
    }
  }

  private cgroupsPath(id: string): string | undefined {
    const p = (this.taskSpec(id)?.linux as { cgroupsPath?: unknown } | undefined)?.cgroupsPath;
    return typeof p === 'string' && p ? p : undefined;
  }

  async stats(id: string): Promise<StatsSample> {
    this.check(id);
    const cg = this.cgroupsPath(id);
    if (!cg) throw conflict(`Container ${id} is not running`);
    return readCgroupStats(cg, { pid: this.readPid(id) || undefined, id });
  }

  async top(id: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    this.check(id);
    const state = await this.status(id);
    if (state !== 'running' && state !== 'paused') throw conflict(`Container ${id} is not running`);
    return top(await this.pids(id), psArgs);
  }

  async pids(id: string): Promise<number[]> {
    this.check(id);
    const cg = this.cgroupsPath(id);
    return cg ? cgroupPids(cg) : [];
  }
}

/** Whether `pid` names a process that is not a zombie (conmon reaps its child at once). */
function processAlive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
