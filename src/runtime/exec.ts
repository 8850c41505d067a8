/**
 * TTY exec sessions: conmon `-e --exec-process-spec` with `--exec-attach` (conmon-node.md §4.2);
 * the others run `runc exec` directly (exec-direct.ts).
 * Each session has its own directory `<bundle>/execs/<execId>/` (process.json, attach socket,
 * ctl, its own exit dir: the exit file is named after the container id). Handshake: start byte
 * #1 → `{"data":0}` on the attach pipe → connect the attach socket → start byte #2 → sync pipe
 * `{"data": pid}` then `{"data": exitCode}`. runc's failures arrive through oci-log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { conflict, EngineError } from '../util/errors.js';
import { mkdirp, removeAll } from '../util/fsutil.js';
import { connectAttach } from './attach.js';
import { hostCapabilities } from './capabilities.js';
import { spawnConmon } from './conmon-process.js';
import { writeCtl } from './logs.js';
import type { AttachConnection, ExecOptions, ExecSession } from './runtime.js';

export interface ExecContext {
  conmon: string;
  runc: string;
  runcRoot: string;
  bundle: string;
  tmpDir: string;
}

/** The container's `process` with the exec's args, env, cwd, user and terminal. */
export function execProcessSpec(opts: ExecOptions): Record<string, unknown> {
  const base = (opts.spec.process ?? {}) as Record<string, unknown>;
  const p: Record<string, unknown> = structuredClone(base);
  p.args = opts.args;
  p.env = opts.env;
  p.cwd = opts.cwd || '/';
  p.terminal = opts.terminal;
  delete p.consoleSize;
  const user: Record<string, unknown> = { ...((base.user as Record<string, unknown> | undefined) ?? {}) };
  user.uid = opts.uid;
  user.gid = opts.gid;
  if (opts.additionalGids.length) user.additionalGids = opts.additionalGids;
  else delete user.additionalGids;
  p.user = user;
  if (opts.privileged) {
    const caps = hostCapabilities();
    const old = (base.capabilities as Record<string, unknown> | undefined) ?? {};
    p.capabilities = { ...old, bounding: caps, effective: caps, permitted: caps };
  }
  return p;
}

/** The last error runc wrote to its JSON log, if any. */
export function lastOciError(ociLog: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(ociLog, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      const v = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if ((v.level === 'error' || v.level === 'fatal') && typeof v.msg === 'string') return v.msg;
    } catch {
      // not JSON: skip
    }
  }
  return undefined;
}

/** Docker answers 400 for a missing or non-executable binary (the CLI then exits 127/126). */
export function runtimeErrorStatus(msg: string): number {
  return /no such file or directory|executable file not found|permission denied|operation not permitted/.test(
    msg,
  )
    ? 400
    : 500;
}

export function execError(id: string, msg: string | undefined): EngineError {
  const text = (msg ?? 'exec failed: unknown error').trim();
  // The driver checks no task state before an exec (a `runc state` per exec costs a spawn):
  // runc's refusals are the same 409s a check would have given.
  if (/cannot exec in a paused container/.test(text))
    return conflict(`Container ${id} is paused, unpause the container before exec`);
  if (/cannot exec in a stopped container|container does not exist/.test(text))
    return conflict(`Container ${id} is not running`);
  return new EngineError(runtimeErrorStatus(text), `OCI runtime exec failed: ${text}: unknown`);
}

export async function startExec(ctx: ExecContext, id: string, opts: ExecOptions): Promise<ExecSession> {
  const dir = path.join(ctx.bundle, 'execs', opts.execId);
  const exitDir = path.join(dir, 'exits');
  removeAll(dir);
  mkdirp(exitDir);
  const processSpec = path.join(dir, 'process.json');
  fs.writeFileSync(processSpec, JSON.stringify(execProcessSpec(opts)));
  const ociLog = path.join(dir, 'oci-log');
  const cp = spawnConmon({
    conmon: ctx.conmon,
    runc: ctx.runc,
    runcRoot: ctx.runcRoot,
    cid: id,
    cuuid: opts.execId,
    bundle: dir,
    pidFile: path.join(dir, 'exec.pid'),
    exitDir,
    ociLog,
    terminal: opts.terminal,
    stdin: opts.stdin,
    leaveStdinOpen: false,
    tmpDir: ctx.tmpDir,
    exec: { processSpec, attach: true },
  });
  const cleanup = () => setTimeout(() => removeAll(dir), 50).unref();
  const failed = (msg: string | undefined): ExecSession => {
    cp.closeSync();
    cleanup();
    const exited = Promise.reject(execError(id, msg ?? lastOciError(ociLog)));
    exited.catch(() => {});
    return { pid: 0, exited, attach: undefined, resize: () => {} };
  };

  cp.release(false);
  const ready = await cp.attachPipe!.next();
  if (ready?.data !== 0) {
    const first = await Promise.race([
      cp.sync.next(),
      new Promise<null>((r) => setTimeout(() => r(null), 200)),
    ]);
    const { stderr } = await cp.firstExit;
    return failed(ready?.message ?? first?.message ?? (stderr.trim() || undefined));
  }
  let attach: AttachConnection | undefined;
  try {
    attach = await connectAttach(path.join(dir, 'attach'), { stdin: opts.stdin, stdout: true, stderr: true });
  } catch {
    attach = undefined;
  }
  cp.release(true);
  const first = await cp.sync.next();
  if (!first || first.data < 0) {
    attach?.close();
    return failed(first?.message);
  }
  const pid = first.data;
  const exited = (async () => {
    const m = await cp.sync.next();
    cp.closeSync();
    cleanup();
    if (m && m.data >= 0) return m.data;
    if (m?.message === 'command timed out') return -1;
    // No second message: the exit file (named after the container id) is the fallback.
    try {
      const code = Number.parseInt(fs.readFileSync(path.join(exitDir, id), 'utf8'), 10);
      if (Number.isInteger(code)) return code;
    } catch {
      // lost
    }
    throw execError(id, m?.message ?? lastOciError(ociLog) ?? 'exec failed: exit code lost');
  })();
  exited.catch(() => {});
  return {
    pid,
    exited,
    attach,
    resize: (rows: number, cols: number) => {
      writeCtl(path.join(dir, 'ctl'), `1 ${rows} ${cols}\n`);
    },
  };
}
