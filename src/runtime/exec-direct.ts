/**
 * Non-TTY exec sessions without conmon: `runc exec` runs in the foreground as our child with
 * the process's stdin/stdout/stderr on our pipes (runc hands a non-TTY process its own stdio),
 * writes the pid to --pid-file once the process runs, waits for it and exits with its status.
 * That is one process spawn and one handshake fewer than conmon's `--exec-attach` (measured:
 * ~40 ms from spawn to pid through conmon, ~29 ms for `runc exec` alone). TTY execs keep conmon,
 * which owns the pty. runc is started in its own session, so a signal to the daemon's process
 * group never reaches it; after a daemon crash the process runs on (its output then has no reader).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { mkdirp, removeAll } from '../util/fsutil.js';
import { logger } from '../util/log.js';
import { type ExecContext, execError, execProcessSpec, lastOciError } from './exec.js';
import type { AttachConnection, ExecOptions, ExecSession } from './runtime.js';

const log = logger('runtime');

/** Output kept for a listener that has not registered yet (as the attach client does). */
const MAX_EARLY_BUFFER = 1 << 20;
/** After the process exit, a pipe still held open by one of its children is cut after this. */
const END_GRACE_MS = 100;

export async function startDirectExec(ctx: ExecContext, id: string, opts: ExecOptions): Promise<ExecSession> {
  const dir = path.join(ctx.bundle, 'execs', opts.execId);
  removeAll(dir);
  mkdirp(dir);
  const processSpec = path.join(dir, 'process.json');
  fs.writeFileSync(processSpec, JSON.stringify(execProcessSpec(opts)));
  const pidFile = path.join(dir, 'exec.pid');
  const ociLog = path.join(dir, 'oci-log');
  const args = ['--root', ctx.runcRoot, '--log-format=json', '--log', ociLog, 'exec'];
  args.push('--pid-file', pidFile, '--process', processSpec, id);
  log.debug(`${ctx.runc} ${args.join(' ')}`);
  const piped = !opts.detached;
  const child = spawn(ctx.runc, args, {
    detached: true,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    stdio: [piped && opts.stdin ? 'pipe' : 'ignore', piped ? 'pipe' : 'ignore', piped ? 'pipe' : 'ignore'],
  });
  const exit = new Promise<number>((resolve) => {
    child.on('error', () => resolve(-1));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1)));
  });
  const io = piped ? new PipeAttach(child.stdin, child.stdout!, child.stderr!, exit) : undefined;
  const cleanup = () => setTimeout(() => removeAll(dir), 50).unref();

  const pid = await waitForPid(dir, pidFile, exit);
  if (pid === 0) {
    io?.close();
    cleanup();
    const exited = Promise.reject(execError(id, lastOciError(ociLog) ?? 'exec failed: unknown error'));
    exited.catch(() => {});
    return { pid: 0, exited, attach: undefined, resize: () => {} };
  }
  io?.started();
  const exited = exit.then((code) => {
    cleanup();
    return code < 0 ? 255 : code;
  });
  return { pid, exited, attach: io, resize: () => {} };
}

/** The pid runc writes (tmp file + rename) once the process runs; 0 if runc exits without one. */
function waitForPid(dir: string, pidFile: string, exit: Promise<number>): Promise<number> {
  const read = (): number => {
    try {
      return Number.parseInt(fs.readFileSync(pidFile, 'utf8'), 10) || 0;
    } catch {
      return 0;
    }
  };
  return new Promise((resolve) => {
    let done = false;
    const finish = (pid: number) => {
      if (done) return;
      done = true;
      watcher?.close();
      resolve(pid);
    };
    let watcher: fs.FSWatcher | undefined;
    try {
      watcher = fs.watch(dir, (_event, name) => {
        if (name === path.basename(pidFile)) {
          const pid = read();
          if (pid > 0) finish(pid);
        }
      });
      watcher.on('error', () => {});
    } catch {
      watcher = undefined;
    }
    const now = read();
    if (now > 0) finish(now);
    void exit.then(() => finish(read()));
  });
}

/** The exec's stdio pipes as an AttachConnection. */
class PipeAttach implements AttachConnection {
  private dataCb: ((stream: 1 | 2, data: Buffer) => void) | undefined;
  private endCbs: (() => void)[] = [];
  private early: [1 | 2, Buffer][] = [];
  private earlyBytes = 0;
  /** Before runc reports the pid, stderr may carry runc's own error: held back until then. */
  private isStarted = false;
  private ended = false;
  private detached = false;
  private open = 2;

  constructor(
    private readonly stdin: Writable | null,
    stdout: Readable,
    stderr: Readable,
    exit: Promise<number>,
  ) {
    stdin?.on('error', () => {});
    for (const [stream, pipe] of [
      [1, stdout],
      [2, stderr],
    ] as const) {
      pipe.on('error', () => {});
      pipe.on('data', (d: Buffer) => this.output(stream, d));
      pipe.once('close', () => {
        if (--this.open === 0) this.end();
      });
    }
    // conmon ends an exec's stream at the process exit; so do we, a moment later (a child of
    // the process may hold the pipes open).
    void exit.then(() =>
      setTimeout(() => {
        stdout.destroy();
        stderr.destroy();
        this.end();
      }, END_GRACE_MS).unref(),
    );
  }

  started(): void {
    this.isStarted = true;
    this.flush();
  }

  private output(stream: 1 | 2, data: Buffer): void {
    if (this.detached) return;
    if (this.dataCb && this.isStarted) {
      this.dataCb(stream, data);
      return;
    }
    if (this.earlyBytes + data.length > MAX_EARLY_BUFFER) return;
    this.early.push([stream, data]);
    this.earlyBytes += data.length;
  }

  private flush(): void {
    if (!this.dataCb || !this.isStarted) return;
    const early = this.early;
    this.early = [];
    this.earlyBytes = 0;
    for (const [s, d] of early) this.dataCb(s, d);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.flush();
    for (const cb of this.endCbs.splice(0)) cb();
  }

  onData(cb: (stream: 1 | 2, data: Buffer) => void): void {
    this.dataCb = cb;
    this.flush();
  }

  onEnd(cb: () => void): void {
    if (this.ended) cb();
    else this.endCbs.push(cb);
  }

  write(data: Buffer): void {
    if (this.stdin && !this.stdin.writableEnded) this.stdin.write(data);
  }

  closeStdin(): void {
    if (this.stdin && !this.stdin.writableEnded) this.stdin.end();
  }

  /** The client left: its input ends; output is still read (and dropped) so the process never blocks. */
  close(): void {
    this.detached = true;
    this.early = [];
    this.closeStdin();
  }
}
