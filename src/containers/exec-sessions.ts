/**
 * Exec sessions (`docker exec`): Docker's exec records, kept in memory like dockerd does.
 *
 * Life cycle: `create` (POST /containers/{id}/exec: checks the container runs, stores the
 * config, `exec_create` event) → `start` (POST /exec/{id}/start: resolves user, env and cwd
 * against the running container, `runtime.exec`, `exec_start`; attached: pumps stdio over the
 * hijacked connection until the process exits; detached: answers once it runs) → exit
 * (ExitCode recorded before the connection closes, so the CLI's `GET /exec/{id}/json` sees it;
 * `exec_die`) → the record is dropped a while after it ended or when its container goes.
 */
import { Readable, Writable } from 'node:stream';
import type { OciSpec, Runtime } from '../runtime/runtime.js';
import { resolveUser } from '../runtime/runtime.js';
import { badRequest, conflict, EngineError, messageOf, notFound } from '../util/errors.js';
import { newId } from '../util/ids.js';
import { logger } from '../util/log.js';
import { formatGoDuration } from '../util/units.js';
import type { Container, ContainerService } from './containers.js';

const log = logger('exec');

/** What POST /containers/{id}/exec accepts. */
export interface ExecConfig {
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  detachKeys: string;
  tty: boolean;
  env: string[];
  cmd: string[];
  privileged: boolean;
  user: string;
  workingDir: string;
  consoleSize?: [number, number];
}

interface ExecRecord {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  resize?: (rows: number, cols: number) => void;
  pendingSize?: [number, number];
  endedAt?: number;
}

/** The hijacked connection the attached output goes to (RawConnection of the API layer). */
export interface ExecStreams {
  input: Readable;
  output: Writable;
  /** The payloads alone, stdout and stderr together, without the multiplexing headers. */
  raw?: boolean;
  /** Half-closes our side once all output is written. */
  end(): void;
}

export interface EventPublisher {
  publish(type: 'container', action: string, id: string, attributes?: Record<string, string>): unknown;
}

export interface ExecDeps {
  containers: ContainerService;
  runtime: Runtime;
  events: EventPublisher;
}

/** Finished records stay inspectable this long (the CLI reads ExitCode right after the stream). */
const KEEP_FINISHED_MS = 10 * 60_000;
/** After the process exit, output still queued in conmon gets this long to arrive. */
const DRAIN_MS = 2000;

function str(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string')
    throw badRequest(`invalid ${field}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function bool(v: unknown, field: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean')
    throw badRequest(`invalid ${field}: expected a boolean, got ${JSON.stringify(v)}`);
  return v;
}

function strings(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw badRequest(`invalid ${field}: expected a list of strings, got ${JSON.stringify(v)}`);
  }
  return v as string[];
}

/** Parses the exec create body; 400 naming the field that does not parse. */
export function parseExecConfig(body: unknown): ExecConfig {
  if (body === undefined || body === null) throw badRequest('No exec command specified');
  if (typeof body !== 'object' || Array.isArray(body))
    throw badRequest('invalid exec config: expected a JSON object');
  const b = body as Record<string, unknown>;
  const cmd = strings(b.Cmd, 'Cmd');
  if (cmd.length === 0) throw badRequest('No exec command specified');
  const env = strings(b.Env, 'Env');
  for (const e of env) if (e.startsWith('=')) throw badRequest(`invalid environment variable: ${e}`);
  const config: ExecConfig = {
    attachStdin: bool(b.AttachStdin, 'AttachStdin'),
    attachStdout: bool(b.AttachStdout, 'AttachStdout'),
    attachStderr: bool(b.AttachStderr, 'AttachStderr'),
    detachKeys: str(b.DetachKeys, 'DetachKeys'),
    tty: bool(b.Tty, 'Tty'),
    env,
    cmd,
    privileged: bool(b.Privileged, 'Privileged'),
    user: str(b.User, 'User'),
    workingDir: str(b.WorkingDir, 'WorkingDir'),
  };
  if (Array.isArray(b.ConsoleSize) && b.ConsoleSize.length === 2) {
    const [h, w] = b.ConsoleSize as unknown[];
    if (typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0) config.consoleSize = [h, w];
  }
  if (config.workingDir !== '' && !config.workingDir.startsWith('/')) {
    throw badRequest(
      `the working directory '${config.workingDir}' is invalid, it needs to be an absolute path`,
    );
  }
  return config;
}

/** KEY=value list where later keys replace earlier ones in place (Docker's ReplaceOrAppendEnvValues). */
export function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const out = [...base];
  const index = new Map<string, number>();
  for (const [i, e] of out.entries()) index.set(e.split('=', 1)[0]!, i);
  for (const e of overrides) {
    const key = e.split('=', 1)[0]!;
    const i = index.get(key);
    if (!e.includes('=')) {
      // A bare name removes the variable, as Docker does.
      if (i !== undefined) out[i] = '';
      continue;
    }
    if (i !== undefined) out[i] = e;
    else {
      index.set(key, out.length);
      out.push(e);
    }
  }
  return out.filter((e) => e !== '');
}

/** Container attributes every container event carries: labels, image and name. */
export function containerEventAttributes(c: Container): Record<string, string> {
  const labels = (c.config.Labels ?? {}) as Record<string, unknown>;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') attrs[k] = v;
  attrs.image = c.image;
  attrs.name = c.name.replace(/^\//, '');
  return attrs;
}

/** dockerd's "entrypoint args…" (with the space even when there are no args). */
function eventCommand(cmd: readonly string[]): string {
  return `${cmd[0] ?? ''} ${cmd.slice(1).join(' ')}`;
}

function header(stream: 1 | 2, size: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(size, 4);
  return h;
}

export class ExecSessions {
  private readonly records = new Map<string, ExecRecord>();

  constructor(private readonly deps: ExecDeps) {}

  private container(ref: string): Container {
    const c = this.deps.containers.get(ref);
    if (c.state.Paused || c.state.Status === 'paused') {
      throw conflict(`Container ${c.id} is paused, unpause the container before exec`);
    }
    if (c.state.Restarting || c.state.Status === 'restarting') {
      throw conflict(`Container ${c.id} is restarting, wait until the container is running`);
    }
    return this.deps.containers.requireRunning(c.id);
  }

  /** POST /containers/{id}/exec → the new exec ID. */
  create(containerRef: string, body: unknown): string {
    const config = parseExecConfig(body);
    const c = this.container(containerRef);
    this.gc();
    const id = newId();
    this.records.set(id, {
      id,
      containerId: c.id,
      config,
      running: false,
      started: false,
      exitCode: null,
      pid: 0,
    });
    this.deps.events.publish('container', `exec_create: ${eventCommand(config.cmd)}`, c.id, {
      ...containerEventAttributes(c),
      execID: id,
    });
    return id;
  }

  private record(id: string): ExecRecord {
    const r = this.records.get(id);
    if (!r) throw notFound(`No such exec instance: ${id}`);
    return r;
  }

  /** GET /exec/{id}/json */
  inspect(id: string): Record<string, unknown> {
    const r = this.record(id);
    const [entrypoint, ...args] = r.config.cmd;
    return {
      CanRemove: false,
      ContainerID: r.containerId,
      DetachKeys: r.config.detachKeys,
      ExitCode: r.exitCode,
      ID: r.id,
      OpenStderr: r.config.attachStderr,
      OpenStdin: r.config.attachStdin,
      OpenStdout: r.config.attachStdout,
      ProcessConfig: {
        arguments: args,
        entrypoint,
        privileged: r.config.privileged,
        tty: r.config.tty,
        user: r.config.user,
      },
      Running: r.running,
      Pid: r.pid,
    };
  }

  /** Checks that exec `id` can start; 404/409 with dockerd's messages. Call before hijacking. */
  checkStartable(id: string): void {
    const r = this.record(id);
    if (r.running) throw conflict(`Error: Exec command ${r.id} is already running`);
    if (r.started || r.exitCode !== null) throw conflict(`Error: Exec command ${r.id} has already run`);
    this.container(r.containerId);
  }

  /**
   * Starts exec `id`. Detached (no `streams`): resolves once the process runs. Attached:
   * resolves when the process has exited and its output was written to `streams`.
   * A process that cannot be started gets ExitCode 126 (dockerd); the error is thrown when
   * detached, and written to the stream as text when attached (dockerd does the same).
   */
  async start(id: string, streams: ExecStreams | undefined): Promise<void> {
    const r = this.record(id);
    this.checkStartable(id);
    r.started = true;
    r.running = true;
    const c = this.deps.containers.get(r.containerId);
    const cfg = r.config;
    const multiplexed = !cfg.tty && !streams?.raw;
    const writeOut = (stream: 1 | 2, data: Buffer) => {
      if (!streams || streams.output.destroyed) return;
      if (multiplexed) streams.output.write(Buffer.concat([header(stream, data.length), data]));
      else streams.output.write(data);
    };
    let session: Awaited<ReturnType<Runtime['exec']>>;
    try {
      const spec = this.deps.containers.runningSpec(c.id);
      session = await this.deps.runtime.exec(c.id, { ...this.execOptions(r, c, spec), detached: !streams });
      // The driver reports a process that never started as pid 0 with a rejected `exited`.
      if (session.pid === 0) await session.exited;
    } catch (e) {
      this.finish(r, c, 126);
      if (!streams) throw e;
      writeOut(1, Buffer.from(`${messageOf(e)}\r\n`));
      streams.end();
      return;
    }
    r.pid = session.pid;
    r.resize = (rows, cols) => session.resize(rows, cols);
    const size = r.pendingSize ?? cfg.consoleSize;
    if (cfg.tty && size) session.resize(size[0], size[1]);
    this.deps.events.publish('container', `exec_start: ${eventCommand(cfg.cmd)}`, c.id, {
      ...containerEventAttributes(c),
      execID: r.id,
    });

    const attach = session.attach;
    let attachEnded: Promise<void> = Promise.resolve();
    if (attach) {
      attachEnded = new Promise<void>((resolve) => attach.onEnd(resolve));
      if (streams && (cfg.attachStdout || cfg.attachStderr)) {
        attach.onData((stream, data) => {
          if (stream === 1 ? cfg.attachStdout : cfg.attachStderr || cfg.tty) writeOut(stream, data);
        });
      } else {
        // Keep conmon's socket read so the process never blocks on a full pipe.
        attach.onData(() => {});
      }
      if (streams && cfg.attachStdin) {
        streams.input.on('data', (d: Buffer) => attach.write(d));
        // The client's FIN is the end of the process's stdin; output goes on until exit.
        streams.input.on('end', () => attach.closeStdin());
        streams.input.resume();
      }
    }
    if (streams) {
      streams.input.on('error', () => {});
      streams.output.on('close', () => {
        if (r.running) attach?.close();
      });
    }

    const done = session.exited.then(
      async (code) => {
        await Promise.race([attachEnded, new Promise((res) => setTimeout(res, DRAIN_MS).unref())]);
        this.finish(r, c, code);
      },
      (e: unknown) => {
        log.warn(`exec ${r.id} in ${c.id}: ${messageOf(e)}`);
        this.finish(r, c, 126);
        if (streams) writeOut(1, Buffer.from(`${messageOf(e)}\r\n`));
      },
    );
    if (!streams) {
      void done;
      return;
    }
    await done;
    attach?.close();
    streams.end();
  }

  private execOptions(r: ExecRecord, c: Container, spec: OciSpec) {
    const cfg = r.config;
    const proc = (spec.process ?? {}) as {
      env?: string[];
      cwd?: string;
      user?: { uid?: number; gid?: number; additionalGids?: number[] };
    };
    let uid = proc.user?.uid ?? 0;
    let gid = proc.user?.gid ?? 0;
    let additionalGids = proc.user?.additionalGids ?? [];
    if (cfg.user !== '') {
      const u = resolveUser(c.rootfs, cfg.user);
      uid = u.uid;
      gid = u.gid;
      additionalGids = u.additionalGids;
    }
    const configEnv = Array.isArray(c.config.Env) ? (c.config.Env as string[]) : [];
    const userSetTerm = configEnv.some((e) => e.startsWith('TERM='));
    let env = (proc.env ?? []).filter((e) => userSetTerm || !e.startsWith('TERM='));
    if (cfg.tty && !userSetTerm) env.push('TERM=xterm');
    env = mergeEnv(env, cfg.env);
    const containerCwd = typeof c.config.WorkingDir === 'string' ? c.config.WorkingDir : '';
    return {
      execId: r.id,
      args: cfg.cmd,
      env,
      cwd: cfg.workingDir || containerCwd || proc.cwd || '/',
      uid,
      gid,
      additionalGids,
      terminal: cfg.tty,
      stdin: cfg.attachStdin,
      privileged: cfg.privileged,
      spec,
    };
  }

  private finish(r: ExecRecord, c: Container, code: number): void {
    if (!r.running && r.exitCode !== null) return;
    r.running = false;
    r.exitCode = code;
    r.endedAt = Date.now();
    r.resize = undefined;
    this.deps.events.publish('container', 'exec_die', c.id, {
      ...containerEventAttributes(c),
      execID: r.id,
      exitCode: String(code),
    });
  }

  /** POST /exec/{id}/resize; sizes that arrive before the process runs are applied at start. */
  resize(id: string, rows: number, cols: number): void {
    const r = this.record(id);
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
      throw badRequest(`invalid terminal size: h=${rows} w=${cols}`);
    }
    if (r.resize) r.resize(rows, cols);
    else if (r.exitCode === null) r.pendingSize = [rows, cols];
    else throw new EngineError(409, `Exec ${id} is not running`);
  }

  /**
   * Runs a health probe as dockerd does: an exec in the container with the exec events, its
   * stdout and stderr together (the first `maxOutput` bytes kept). A probe still running after
   * `timeoutMs` is killed and reported as exit -1 with dockerd's message.
   */
  async probe(
    containerId: string,
    cmd: string[],
    timeoutMs: number,
    maxOutput: number,
  ): Promise<{ exitCode: number; output: string }> {
    const id = this.create(containerId, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const kept: Buffer[] = [];
    let keptBytes = 0;
    const output = new Writable({
      write(chunk: Buffer, _enc, done) {
        if (keptBytes < maxOutput) {
          const data = chunk.subarray(0, maxOutput - keptBytes);
          kept.push(data);
          keptBytes += data.length;
        }
        done();
      },
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      const pid = this.records.get(id)?.pid ?? 0;
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // It ended meanwhile.
        }
      }
    }, timeoutMs);
    try {
      await this.start(id, { input: Readable.from([]), output, raw: true, end: () => {} });
    } finally {
      clearTimeout(timer);
    }
    if (timedOut)
      return { exitCode: -1, output: `Health check exceeded timeout (${formatGoDuration(timeoutMs)})` };
    return { exitCode: this.records.get(id)?.exitCode ?? -1, output: Buffer.concat(kept).toString('utf8') };
  }

  /** Forgets the exec records of a removed container. */
  forgetContainer(containerId: string): void {
    for (const [id, r] of this.records) if (r.containerId === containerId) this.records.delete(id);
  }

  /** IDs of the container's execs (inspect's ExecIDs). */
  idsOf(containerId: string): string[] {
    return [...this.records.values()].filter((r) => r.containerId === containerId).map((r) => r.id);
  }

  private gc(): void {
    const now = Date.now();
    for (const [id, r] of this.records) {
      if (r.endedAt !== undefined && now - r.endedAt > KEEP_FINISHED_MS) this.records.delete(id);
    }
  }
}
