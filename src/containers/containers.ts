/**
 * Containers: records, names, the state machine and restart policies.
 *
 * Life cycle of a container (Docker's states):
 *   create  → `created`   (row in SQLite, writable layer prepared, nothing running)
 *   start   → `running`   (rootfs mounted, bundle written, runtime task started)
 *   pause ⇄ unpause       (`paused`, freezer cgroup)
 *   exit    → `exited`    (exit code, FinishedAt, OOMKilled recorded; restart policy decides
 *                          whether it goes to `restarting` and back to `running`)
 *   remove  → `removing`  → gone (task deleted, rootfs unmounted, writable layer and row removed)
 * `dead` marks a container whose removal failed half way. State changes are written in one
 * transaction each, so a daemon killed at any point restarts into a consistent state, and
 * `recover()` at start-up reconciles rows with what conmon/runc report (live restore).
 */
import type { OciSpec } from '../runtime/runtime.js';
import type { HealthState } from './health.js';

export type ContainerStatus =
  | 'created'
  | 'running'
  | 'paused'
  | 'restarting'
  | 'removing'
  | 'exited'
  | 'dead';

/** Docker's State object as `inspect` shows it. */
export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Only for a container with a health check (Docker leaves it out otherwise). */
  Health?: HealthState;
}

/** A container as the other parts see it (the full Docker Config/HostConfig are kept as JSON). */
export interface Container {
  id: string;
  /** With the leading slash, as Docker stores it ("/web"). */
  name: string;
  created: string;
  imageId: string;
  /** The image reference the user gave (Config.Image). */
  image: string;
  config: Record<string, unknown>;
  hostConfig: Record<string, unknown>;
  state: ContainerState;
  restartCount: number;
  /** Directory with the container's own files (bundle, hosts, hostname, resolv.conf, log). */
  dir: string;
  /** Where the rootfs is mounted while the container runs. */
  rootfs: string;
  logPath: string;
}

/**
 * What the inspection side (exec, top, stats, logs, diff, cp, export, commit — written in
 * their own modules of this part) needs from the container core.
 */
export interface ContainerService {
  /** By full ID, unique ID prefix or name (with or without "/"); 404 `No such container: X`. */
  get(idOrName: string): Container;
  list(): Container[];
  /** Docker's inspect JSON for a container. */
  inspect(idOrName: string, size?: boolean): Record<string, unknown>;
  /** 409 `Container <id> is not running` unless running (paused counts as not running for exec). */
  requireRunning(idOrName: string): Container;
  /**
   * Runs fn with the container's root filesystem mounted (its running mount, or a temporary
   * one for a stopped container), for cp, export, diff and commit. `freeze` (cp) freezes a
   * running container meanwhile, so its processes cannot race the path resolution.
   */
  withRootfs<T>(
    idOrName: string,
    fn: (rootfs: string, c: Container) => Promise<T>,
    opts?: { freeze?: boolean },
  ): Promise<T>;
  /** The OCI spec the running task was started with (exec inherits its process settings). */
  runningSpec(id: string): OciSpec;
  pause(idOrName: string): Promise<void>;
  unpause(idOrName: string): Promise<void>;
  /** The IDs of containers using an image: running ones and the others (for rmi). */
  usersOfImage(imageId: string): { running: string[]; stopped: string[] };
}

export { parseDetachKeys } from './attach-session.js';
// The implementation the daemon opens (added by the container-core engineer).
export {
  type AttachOptions,
  ContainerCore,
  type ContainerServiceOptions,
  type CreateResult,
  type ExecRegistry,
  type ImageLookup,
  type PruneResult,
  type StopOptions,
  type WaitCondition,
  type WaitResult,
} from './service.js';
