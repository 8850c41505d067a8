/**
 * Spawning conmon and speaking its pipe protocol (research/conmon.md §1.3, conmon-node.md §1.1, §4.2).
 * conmon#1 blocks on the start pipe, forks conmon#2 (the monitor, re-parented to PID 1) and exits;
 * conmon#2 answers on the sync pipe with `{"data": pid}` or `{"data": -1, "message": ...}`.
 * The sync reader is attached synchronously after spawn because Node discards unread child
 * stdio once conmon#1 exits, and every pipe gets an error handler (ECONNRESET crashed Node).
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { logger } from '../util/log.js';

const log = logger('runtime');

export interface ConmonOptions {
  conmon: string;
  runc: string;
  runcRoot: string;
  /** runc's container id; also the exit file's name. */
  cid: string;
  /** Session id (the exec id for exec sessions). */
  cuuid: string;
  bundle: string;
  pidFile: string;
  exitDir: string;
  persistDir?: string;
  conmonPidFile?: string;
  ociLog: string;
  /** k8s-file log path; undefined = `-l none`. */
  logPath?: string;
  terminal: boolean;
  stdin: boolean;
  leaveStdinOpen: boolean;
  tmpDir: string;
  exec?: { processSpec: string; attach: boolean };
}

/** One message of conmon's sync/attach pipes (with `--api-version 1` the key is always `data`). */
export interface SyncMessage {
  data: number;
  message?: string;
}

/** Line-buffered JSON reader over a pipe; `next()` yields null at EOF. */
export class JsonLines {
  private buf = '';
  private queue: SyncMessage[] = [];
  private waiters: ((m: SyncMessage | null) => void)[] = [];
  private ended = false;

  constructor(readonly stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.buf += chunk;
      let nl = this.buf.indexOf('\n');
      while (nl >= 0) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (line) this.push(parseSyncMessage(line));
        nl = this.buf.indexOf('\n');
      }
    });
    const finish = () => {
      if (this.ended) return;
      const rest = this.buf.trim();
      this.buf = '';
      if (rest) this.push(parseSyncMessage(rest));
      this.ended = true;
      for (const w of this.waiters.splice(0)) w(null);
    };
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', finish);
  }

  private push(m: SyncMessage): void {
    const w = this.waiters.shift();
    if (w) w(m);
    else this.queue.push(m);
  }

  next(): Promise<SyncMessage | null> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

function parseSyncMessage(line: string): SyncMessage {
  try {
    const v: unknown = JSON.parse(line);
    if (v && typeof v === 'object' && typeof (v as { data?: unknown }).data === 'number') {
      const msg = (v as { message?: unknown }).message;
      return { data: (v as { data: number }).data, message: typeof msg === 'string' ? msg : undefined };
    }
  } catch {
    // fall through: conmon wrote something we do not understand
  }
  return { data: -1, message: `unexpected message from conmon: ${line}` };
}

export interface ConmonProcess {
  /** Messages on the sync pipe (fd 3). */
  sync: JsonLines;
  /** Messages on the attach pipe (fd 5, exec with --exec-attach only). */
  attachPipe: JsonLines | undefined;
  /** Writes a start byte; `last` closes the start pipe (the final release). */
  release(last: boolean): void;
  /** conmon#1's exit code and its stderr (option errors are printed there before forking). */
  firstExit: Promise<{ code: number | null; stderr: string }>;
  /** Stops reading the sync pipe (keeps the daemon from being held alive by it). */
  closeSync(): void;
}

export function conmonArgs(o: ConmonOptions): string[] {
  const args = ['--api-version', '1', '-c', o.cid, '-u', o.cuuid, '-n', o.cuuid, '-r', o.runc];
  args.push('-b', o.bundle, '-p', o.pidFile, '--exit-dir', o.exitDir, '--full-attach');
  if (o.persistDir) args.push('--persist-dir', o.persistDir);
  if (o.conmonPidFile) args.push('--conmon-pidfile', o.conmonPidFile);
  args.push('--runtime-arg', '--root', '--runtime-arg', o.runcRoot);
  args.push('--runtime-arg', '--log-format=json', '--runtime-arg', '--log', '--runtime-arg', o.ociLog);
  args.push('-l', o.logPath ? `k8s-file:${o.logPath}` : 'none', '--log-level', 'error');
  if (o.terminal) args.push('-t');
  // -t with -i breaks re-attach for containers (conmon.md §3); exec sessions may use both.
  if (o.stdin && (!o.terminal || o.exec)) args.push('-i');
  if (o.stdin && o.leaveStdinOpen && !o.exec) args.push('--leave-stdin-open');
  if (o.exec) {
    args.push('-e', '--exec-process-spec', o.exec.processSpec);
    if (o.exec.attach) args.push('--exec-attach');
  }
  return args;
}

export function spawnConmon(o: ConmonOptions): ConmonProcess {
  const args = conmonArgs(o);
  log.debug(`${o.conmon} ${args.join(' ')}`);
  const withAttach = Boolean(o.exec?.attach);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    TZ: 'UTC',
    TMPDIR: o.tmpDir,
    _OCI_SYNCPIPE: '3',
    _OCI_STARTPIPE: '4',
  };
  if (withAttach) env._OCI_ATTACHPIPE = '5';
  const child = spawn(o.conmon, args, {
    detached: true,
    cwd: o.bundle,
    env,
    stdio: withAttach
      ? ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', 'pipe']
      : ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
  });
  const pipes = child.stdio as unknown as (Readable | Writable | null | undefined)[];
  const syncStream = pipes[3] as Readable;
  const sync = new JsonLines(syncStream);
  const attachPipe = withAttach ? new JsonLines(pipes[5] as Readable) : undefined;
  for (const s of pipes) s?.on('error', () => {});
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    if (stderr.length < 65536) stderr += d;
  });
  const firstExit = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    child.on('error', (e) => resolve({ code: -1, stderr: `${e.message}` }));
    child.on('close', (code) => resolve({ code, stderr }));
  });
  const start = pipes[4] as Writable;
  return {
    sync,
    attachPipe,
    firstExit,
    release(last: boolean) {
      try {
        if (last) start.end(Buffer.from([0]));
        else start.write(Buffer.from([0]));
      } catch {
        // conmon already gone: the sync pipe reports it
      }
    },
    closeSync() {
      syncStream.destroy();
      (pipes[5] as Readable | undefined)?.destroy();
      start.destroy();
    },
  };
}
