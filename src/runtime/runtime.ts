/**
 * The runtime part: turns a container's settings into an OCI bundle and drives it with
 * runc, with one conmon per container that owns its stdio, writes its log and records its
 * exit code, so containers outlive the daemon (DESIGN.md decision 2; research/conmon*.md).
 *
 * Life cycle of a task (one container's process tree):
 *   buildSpec(input) → runtime.create(id, spec, io)  [conmon spawned, `runc create`, pid known]
 *   → runtime.start(id)  [what `runc start` does: read runc's exec.fifo] → running ⇄ pause/resume → exit (conmon writes the
 *   exit file; `onExit` listeners fire, also for exits that happened while the daemon was
 *   down, found by `recover`) → runtime.delete(id)  [`runc delete`, bundle files removed].
 * attach/exec/logs/stats/top/update/resize act on a live task. Each concern lives in its own
 * file (conmon driver, attach, exec, logs, cgroups, spec) behind this one interface, so a
 * second OCI runtime (crun, youki) is one new driver.
 */

// ---------------------------------------------------------------- spec input

export interface MountSpec {
  destination: string;
  type: string; // 'bind' | 'tmpfs' | 'proc' | ...
  source: string;
  options: string[];
}

export interface Ulimit {
  name: string; // Docker's name: nofile, nproc, core, ...
  soft: number;
  hard: number;
}

export interface DeviceThrottle {
  /** Host path like /dev/vda, resolved to major:minor by the spec builder. */
  path: string;
  rate: number;
}

export interface DeviceMapping {
  pathOnHost: string;
  pathInContainer: string;
  permissions: string; // 'rwm'
}

export interface Resources {
  memory?: number; // bytes, 0 = unlimited
  memorySwap?: number; // bytes of memory+swap, -1 = unlimited, 0 = default (2 × memory)
  memoryReservation?: number;
  oomKillDisable?: boolean;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  nanoCpus?: number; // --cpus × 1e9 → quota/period
  cpusetCpus?: string;
  cpusetMems?: string;
  blkioWeight?: number;
  blkioDeviceReadBps?: DeviceThrottle[];
  blkioDeviceWriteBps?: DeviceThrottle[];
  blkioDeviceReadIOps?: DeviceThrottle[];
  blkioDeviceWriteIOps?: DeviceThrottle[];
  pidsLimit?: number; // 0 or -1 = unlimited
}

export interface SpecInput {
  id: string;
  /** The mounted container root filesystem (overlay merged dir). */
  rootfs: string;
  readonlyRootfs: boolean;
  args: string[];
  env: string[]; // KEY=value, PATH already defaulted by the caller
  cwd: string;
  /** Resolved numeric user; resolve names with `resolveUser` first. */
  uid: number;
  gid: number;
  additionalGids: number[];
  terminal: boolean;
  hostname: string;
  domainname?: string;
  /** Extra mounts (volumes, binds, tmpfs, /etc/hosts, /etc/resolv.conf, /etc/hostname). */
  mounts: MountSpec[];
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  noNewPrivileges: boolean;
  /** 'unconfined' disables seccomp; undefined = Docker's default profile. */
  seccomp?: 'unconfined';
  ulimits: Ulimit[];
  resources: Resources;
  shmSize: number; // bytes; 0 = 64 MiB
  devices: DeviceMapping[];
  /** Path of a network namespace to join; undefined = a new empty one (--network none). 'host' = host's. */
  netns?: string | 'host';
  /** --pid: undefined = a new PID namespace, 'host' = the host's, else a /proc/PID/ns/pid to join. */
  pidns?: string | 'host';
  /** --ipc: undefined = a new IPC namespace, 'host' = the host's, else a /proc/PID/ns/ipc to join. */
  ipcns?: string | 'host';
  /** --uts host: the host's UTS namespace (and name: `hostname` is not set). */
  utsHost?: boolean;
  /** /dev/shm: undefined = a private tmpfs of `shmSize`, 'none' = nothing (--ipc none),
   *  else a host path to bind (--ipc host: /dev/shm; container:X: X's /dev/shm). */
  shm?: 'none' | { bind: string };
  /** Cgroup path relative to the hierarchy root, e.g. `/berth/<id>`. */
  cgroupsPath: string;
  sysctls: Record<string, string>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  /** Run an init (tini/catatonit) as PID 1 in front of args; the path of the init binary on the host. */
  initPath?: string;
  stopSignal?: string;
  oomScoreAdj?: number;
}

/** The OCI runtime-spec config.json document (typed loosely; built only by buildSpec). */
export type OciSpec = Record<string, unknown>;

// ---------------------------------------------------------------- task

export interface IoOptions {
  terminal: boolean;
  /** Keep a stdin pipe for the process (docker -i / OpenStdin). */
  stdin: boolean;
  /** Close stdin when the first attached client closes it (docker StdinOnce). */
  stdinOnce: boolean;
  /** Where conmon writes the k8s-file log (no ':' allowed in the path). */
  logPath: string;
  /** Docker's --log-opt max-size (bytes) and max-file; rotation is done by the runtime. */
  logMaxSize?: number;
  logMaxFiles?: number;
}

export type TaskStatus = 'created' | 'running' | 'paused' | 'stopped';

export interface ExitStatus {
  exitCode: number;
  /** An OOM kill happened in the container's cgroup (Docker's State.OOMKilled). */
  oomKilled: boolean;
  /** When conmon recorded the exit (the exit file's mtime). */
  finishedAt: Date;
}

/** What `recover` finds for a container after a daemon (re)start. */
export type Recovered =
  | { state: 'running' | 'paused' | 'created'; pid: number }
  | { state: 'exited'; exit: ExitStatus }
  /** No runc state or conmon: nothing to recover (never started, or cleaned up). */
  | { state: 'gone' };

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** A client attached to a task's stdio through conmon's attach socket. */
export interface AttachConnection {
  /** Output from the process: stream 1 = stdout, 2 = stderr (TTY output is all stdout). */
  onData(cb: (stream: 1 | 2, data: Buffer) => void): void;
  /** Fires once when the process exits or conmon closes the socket. */
  onEnd(cb: () => void): void;
  /** Bytes to the process's stdin (split into ≤ 32 KiB packets internally). */
  write(data: Buffer): void;
  /** Closes stdin (a StdinOnce container's stdin then reaches EOF). */
  closeStdin(): void;
  /** Detaches this client; the task keeps running. */
  close(): void;
}

export interface ExecOptions {
  execId: string;
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  terminal: boolean;
  stdin: boolean;
  privileged: boolean;
  /** The container's spec, whose process settings (caps, rlimits, ...) the exec inherits. */
  spec: OciSpec;
  /** Nobody reads the output (`exec -d`): the process gets /dev/null, and no attach. */
  detached?: boolean;
}

export interface ExecSession {
  pid: number;
  /** Resolves with the exit code; rejects with a 126/127-style message if it could not start. */
  exited: Promise<number>;
  attach: AttachConnection | undefined;
  resize(rows: number, cols: number): void;
}

export interface LogOptions {
  stdout: boolean;
  stderr: boolean;
  /** Unix seconds (fractional); records before it are skipped. */
  since?: number;
  until?: number;
  /** Only the last N lines ('all' = undefined). */
  tail?: number;
  follow: boolean;
  /** With follow: resolves when the container has exited and the log is drained. */
  stopWhen?: Promise<unknown>;
}

export interface LogRecord {
  stream: 1 | 2;
  /** RFC3339Nano timestamp as conmon wrote it, normalised to UTC `Z`. */
  time: string;
  /** Unix nanoseconds. */
  timeNano: bigint;
  /** The line including its trailing newline (absent for a final partial line). */
  line: Buffer;
}

/** Docker's /containers/{id}/stats JSON (one sample, without precpu). */
export type StatsSample = Record<string, unknown>;

export interface Runtime {
  create(id: string, spec: OciSpec, io: IoOptions): Promise<{ pid: number }>;
  start(id: string): Promise<void>;
  kill(id: string, signal: string | number, all?: boolean): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** `runc delete` (force kills first) and removal of the bundle's files; a missing task is fine. */
  delete(id: string, force?: boolean): Promise<void>;
  status(id: string): Promise<TaskStatus | undefined>;
  update(id: string, resources: Resources): Promise<void>;
  /** Resolves once the task has exited (immediately if it already has). */
  wait(id: string): Promise<ExitStatus>;
  /** Called for every task exit the runtime sees, including ones found by `recover`. */
  onExit(listener: (id: string, exit: ExitStatus) => void): void;
  recover(id: string): Promise<Recovered>;
  attach(id: string, opts: AttachOptions): Promise<AttachConnection>;
  resize(id: string, rows: number, cols: number): void;
  exec(id: string, opts: ExecOptions): Promise<ExecSession>;
  logs(logPath: string, opts: LogOptions): AsyncIterable<LogRecord>;
  stats(id: string): Promise<StatsSample>;
  /** `ps` inside the container: Docker's {Titles, Processes}. */
  top(id: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }>;
  /** Process ids of every process in the container's cgroup. */
  pids(id: string): Promise<number[]>;
  /** The spec the task was created with (its bundle's config.json); undefined without a task. */
  taskSpec(id: string): OciSpec | undefined;
}

// The calls other parts make: the driver, the spec builder and the helpers it needs.
export { blkioStats } from './cgroups.js';
export { openRuntime, parseSignal } from './runc-conmon.js';
export { buildSpec, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, hostFacts } from './spec.js';
export { resolveGroups, resolveUser } from './user.js';
