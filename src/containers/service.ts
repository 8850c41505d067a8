/**
 * The container core: records, the state machine, start/stop/kill/remove, waits, attach
 * sessions, restart policies and live restore. One in-memory map mirrors the SQLite rows;
 * every state change is written through at once. User operations on one container are
 * serialised by a per-container lock; task exits arrive from the runtime (`wait`) and are
 * handled outside that lock, so a stop that waits for the exit cannot deadlock with it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RawConnection } from '../api/types.js';
import type { EventBus } from '../daemon/events.js';
import type { ImageRecord } from '../images/images.js';
import type { ExitStatus, MountSpec, OciSpec, Runtime, SpecInput } from '../runtime/runtime.js';
import { buildSpec, hostFacts, parseSignal, resolveGroups, resolveUser } from '../runtime/runtime.js';
import type { SnapshotStore } from '../snapshots/snapshots.js';
import type { Store } from '../store/store.js';
import {
  badRequest,
  conflict,
  EngineError,
  internal,
  isEngineError,
  messageOf,
  notFound,
  notModified,
} from '../util/errors.js';
import { mkdirp, removeAll } from '../util/fsutil.js';
import { newId } from '../util/ids.js';
import { logger } from '../util/log.js';
import { mountTmpfs, unmount } from '../util/mounts.js';
import { resolveInRootfs } from '../util/rootfs-path.js';
import { AttachSession, type AttachSessionOptions } from './attach-session.js';
import {
  bool,
  DEFAULT_PATH,
  type Doc,
  devicesOf,
  type ImageConfig,
  joinedContainer,
  logOptions,
  mergeImageConfig,
  normalizeConfig,
  normalizeHostConfig,
  num,
  parseCreateBody,
  processArgs,
  resourcesOf,
  restartPolicyOf,
  securityOptions,
  str,
  strList,
  strMap,
  sub,
  ulimitsOf,
  validateHostConfig,
  validateNamespaceModes,
  validateResources,
  validateRestartPolicy,
} from './config.js';
import type { Container, ContainerService, ContainerState } from './containers.js';
import { writeEtcFiles } from './etc-files.js';
import {
  HealthMonitor,
  healthConfigOf,
  MAX_OUTPUT,
  type ProbeResult,
  validateHealthcheck,
} from './health.js';
import { generateName, normalizeName } from './names.js';
import { Records, type Removal, type Record as Row } from './records.js';
import { Backoff, shouldRestart, shouldRestartOnBoot } from './restart-policy.js';
import { inspectView, type ListOptions, listView, matchesFilters, validateListFilters } from './view.js';

const log = logger('containers');

export const ZERO_TIME = '0001-01-01T00:00:00Z';
const INIT_CANDIDATES = ['tini-static', 'tini', 'catatonit'];
const LOST_EXIT_CODE = 255;

export interface ImageLookup {
  /** 404 `No such image: <ref>` when missing. */
  resolve(ref: string): ImageRecord;
  get(id: string): ImageRecord | undefined;
  /** Deletes layers no image lists any more (after `rmi -f` of an image a container used). */
  releaseUnusedLayers?(): Promise<string[]>;
}

/** The exec side's sessions (inspect lists their IDs; removal forgets them). */
export interface ExecRegistry {
  idsOf(containerId: string): string[];
  forgetContainer(containerId: string): void;
  /** A health probe run as an exec (see ExecSessions.probe). */
  probe(containerId: string, cmd: string[], timeoutMs: number, maxOutput: number): Promise<ProbeResult>;
}

export interface ContainerServiceOptions {
  /** The daemon's --root; containers live in `<root>/containers/<id>`. */
  root: string;
  store: Store;
  runtime: Runtime;
  snapshots: SnapshotStore;
  images: ImageLookup;
  events: EventBus;
  /** --init-path; undefined = tini-static, tini or catatonit from PATH. */
  initPath?: string;
  /** --cgroup-parent; each container's cgroup is `<parent>/<id>`. */
  cgroupParent: string;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface WaitResult {
  StatusCode: number;
  Error: { Message: string } | null;
}

interface Waiter {
  condition: WaitCondition;
  resolve: (r: WaitResult) => void;
}

/** A task of this daemon's (started or adopted), until its exit has been handled. */
interface Live {
  startedMs: number;
  /** The user stopped or killed it: no restart for this exit. */
  userStopped: boolean;
  handled: Promise<void>;
  markHandled: () => void;
  exitSeen: boolean;
}

export interface CreateResult {
  Id: string;
  Warnings: string[];
}

export interface StopOptions {
  timeout?: number;
  signal?: string;
}

export interface AttachOptions {
  stream: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  logs: boolean;
  detachKeys: number[];
}

export interface PruneResult {
  ContainersDeleted: string[] | null;
  SpaceReclaimed: number;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function initialState(): ContainerState {
  return {
    Status: 'created',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: '',
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
  };
}

/** Docker's exit code for a start failure, from the runtime's text (moby translateContainerdStartErr). */
function startFailureCode(message: string): number {
  if (/executable file not found|no such file or directory|open executable/.test(message)) return 127;
  if (/permission denied|is a directory/.test(message)) return 126;
  return 128;
}

function findInit(explicit: string | undefined): string {
  if (explicit) return explicit;
  const dirs = (process.env.PATH ?? '')
    .split(':')
    .concat(['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin']);
  for (const name of INIT_CANDIDATES) {
    for (const d of dirs) {
      if (!d) continue;
      const p = path.join(d, name);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {
        // next
      }
    }
  }
  throw internal('--init: no init binary found (install tini or catatonit, or pass --init-path to berthd)');
}

export class ContainerCore implements ContainerService {
  private readonly records: Records;
  private readonly containersDir: string;
  private readonly byId = new Map<string, Row>();
  private readonly live = new Map<string, Live>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly pendingAttach = new Map<string, AttachSession[]>();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private readonly backoffs = new Map<string, Backoff>();
  private readonly specs = new Map<string, OciSpec>();
  /** Exited tasks being deleted and unmounted in the background; the next start, rm or cp waits. */
  private readonly teardowns = new Map<string, Promise<void>>();
  /** Removed containers whose files are being cleaned up in the background. */
  private readonly reaping = new Set<Promise<void>>();
  private execs: ExecRegistry | undefined;
  private readonly health = new Map<string, HealthMonitor>();
  private bridgeWarned = false;
  private closed = false;

  constructor(private readonly o: ContainerServiceOptions) {
    this.containersDir = mkdirp(path.join(o.root, 'containers'), 0o711);
    this.records = new Records(o.store, this.containersDir);
    for (const r of this.records.all()) this.byId.set(r.id, r);
  }

  // ================================================================ lookup

  get(idOrName: string): Row {
    const c = this.find(idOrName);
    if (!c) throw notFound(`No such container: ${idOrName}`);
    return c;
  }

  private find(idOrName: string): Row | undefined {
    if (!idOrName) return undefined;
    const exact = this.byId.get(idOrName);
    if (exact) return exact;
    const name = idOrName.startsWith('/') ? idOrName : `/${idOrName}`;
    for (const c of this.byId.values()) if (c.name === name) return c;
    if (!/^[0-9a-f]+$/.test(idOrName)) return undefined;
    const matches = [...this.byId.values()].filter((c) => c.id.startsWith(idOrName));
    if (matches.length > 1) throw badRequest(`multiple IDs found with provided prefix: ${idOrName}`);
    return matches[0];
  }

  list(): Container[] {
    return [...this.byId.values()];
  }

  counts(): { total: number; running: number; paused: number; stopped: number } {
    let running = 0;
    let paused = 0;
    for (const c of this.byId.values()) {
      if (c.state.Paused) paused++;
      else if (c.state.Running) running++;
    }
    return { total: this.byId.size, running, paused, stopped: this.byId.size - running - paused };
  }

  requireRunning(idOrName: string): Container {
    const c = this.get(idOrName);
    if (c.state.Status !== 'running') {
      if (c.state.Status === 'paused')
        throw conflict(`Container ${c.id} is paused, unpause the container before exec`);
      throw conflict(`Container ${c.id} is not running`);
    }
    return c;
  }

  runningSpec(id: string): OciSpec {
    const c = this.get(id);
    const known = this.specs.get(c.id);
    if (known) return known;
    const spec = this.o.runtime.taskSpec(c.id);
    if (!spec) throw conflict(`Container ${c.id} is not running`);
    this.specs.set(c.id, spec);
    return spec;
  }

  usersOfImage(imageId: string): { running: string[]; stopped: string[] } {
    const running: string[] = [];
    const stopped: string[] = [];
    for (const c of this.byId.values()) {
      if (c.imageId !== imageId) continue;
      if (c.state.Running || c.state.Paused) running.push(c.id);
      else stopped.push(c.id);
    }
    return { running, stopped };
  }

  inspect(idOrName: string, size = false): Record<string, unknown> {
    const c = this.get(idOrName);
    return inspectView(c, this.viewDeps(), size);
  }

  listContainers(opts: ListOptions): Record<string, unknown>[] {
    const all = [...this.byId.values()].sort((a, b) =>
      a.created < b.created ? 1 : a.created > b.created ? -1 : 0,
    );
    const out: Row[] = [];
    validateListFilters(opts.filters);
    const filtered = all.filter((c) => matchesFilters(c, opts.filters, (x) => this.find(x)));
    for (const c of filtered) {
      const showAll = opts.all || opts.limit > 0 || opts.filters.has('status') || opts.filters.has('exited');
      if (!showAll && !c.state.Running && !c.state.Paused) continue;
      out.push(c);
      if (opts.limit > 0 && out.length >= opts.limit) break;
    }
    return out.map((c) => listView(c, this.viewDeps(), opts.size));
  }

  /** Registers the exec sessions once the exec routes exist (they are built after this service). */
  setExecSessions(execs: ExecRegistry): void {
    this.execs = execs;
  }

  private viewDeps() {
    return {
      execIds: (c: Row) => {
        const ids = this.execs?.idsOf(c.id) ?? [];
        return ids.length > 0 ? ids : null;
      },
      snapshots: this.o.snapshots,
      sizeRw: (c: Row) => {
        try {
          return this.o.snapshots.writableSize(c.id);
        } catch {
          return 0;
        }
      },
    };
  }

  // ================================================================ create

  async create(body: unknown, requestedName: string | undefined): Promise<CreateResult> {
    const parsed = parseCreateBody(body);
    const nameArg = requestedName ?? parsed.name;
    const name = nameArg ? normalizeName(nameArg) : undefined;
    if (name) this.checkNameFree(name);
    const hcIn = parsed.hostConfig;
    validateHostConfig(hcIn);
    validateNamespaceModes(parsed.config, hcIn);
    validateHealthcheck(parsed.config);
    this.checkNetworkMode(str(hcIn, 'NetworkMode'));
    const imageRef = str(parsed.config, 'Image');
    const image = this.o.images.resolve(imageRef);
    const imageConfig = (image.config.config ?? {}) as ImageConfig;

    const id = newId();
    const config = normalizeConfig(mergeImageConfig(parsed.config, imageConfig), id);
    // With the host's network or UTS namespace the container has the host's name (Docker records it so).
    const hostName = str(hcIn, 'NetworkMode') === 'host' || str(hcIn, 'UTSMode') === 'host';
    if (hostName && !str(parsed.config, 'Hostname')) config.Hostname = hostnameOfHost();
    const wd = str(config, 'WorkingDir');
    if (wd && !wd.startsWith('/')) {
      throw badRequest(`the working directory '${wd}' is invalid, it needs to be an absolute path`);
    }
    if (processArgs(config).length === 0) throw badRequest('No command specified');
    const hostConfig = normalizeHostConfig(hcIn);
    // Docker's warnings for limits the host cannot apply (buildSpec leaves them out).
    const warnings: string[] = [];
    const host = hostFacts();
    if (num(hostConfig, 'Memory') > 0 && !host.swapLimit) {
      warnings.push(
        'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.',
      );
    }
    if (num(hostConfig, 'BlkioWeight') > 0 && !host.blkioWeight) {
      warnings.push(
        'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
      );
    }

    const c: Row = {
      id,
      name: name ?? '',
      created: nowNano(),
      imageId: image.id,
      image: imageRef,
      config,
      hostConfig,
      state: initialState(),
      restartCount: 0,
      dir: path.join(this.containersDir, id),
      rootfs: path.join(this.containersDir, id, 'rootfs'),
      logPath: path.join(this.containersDir, id, 'ctr.log'),
      extra: {
        manuallyStopped: false,
        hasBeenStarted: false,
        chainId: image.topChainId,
        imageSize: image.size,
      },
    };
    mkdirp(c.dir, 0o710);
    try {
      this.o.snapshots.prepare(id, image.topChainId);
    } catch (e) {
      removeAll(c.dir);
      throw e;
    }
    // Names are claimed by the INSERT (UNIQUE), so two racing creates cannot both win.
    let inserted = false;
    for (let retry = 0; !inserted; retry++) {
      if (!name) c.name = `/${generateName(retry)}`;
      inserted = this.records.insert(c);
      if (!inserted && (name || retry > 10)) {
        await this.o.snapshots.remove(id).catch(() => {});
        removeAll(c.dir);
        this.checkNameFree(c.name);
        throw conflict(`Conflict. The container name "${c.name}" is already in use`);
      }
    }
    this.byId.set(id, c);
    this.publish(c, 'create');
    return { Id: id, Warnings: warnings };
  }

  private checkNameFree(name: string, self?: string): void {
    for (const c of this.byId.values()) {
      if (c.name === name && c.id !== self) {
        throw conflict(
          `Conflict. The container name "${name}" is already in use by container "${c.id}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
    }
  }

  /**
   * The PID, IPC and UTS namespaces of --pid, --ipc and --uts: new (Docker's default), the
   * host's, or another running container's; /dev/shm follows the IPC choice, as in Docker.
   */
  private sharedNamespaces(hc: Doc): Pick<SpecInput, 'pidns' | 'ipcns' | 'utsHost' | 'shm'> {
    const out: Pick<SpecInput, 'pidns' | 'ipcns' | 'utsHost' | 'shm'> = {};
    const pidMode = str(hc, 'PidMode');
    const pidDonor = joinedContainer(pidMode);
    if (pidMode === 'host') out.pidns = 'host';
    else if (pidDonor) {
      const other = this.get(pidDonor);
      if (!other.state.Running) throw conflict(`cannot join PID of a non running container: ${other.id}`);
      out.pidns = `/proc/${other.state.Pid}/ns/pid`;
    }
    const ipcMode = str(hc, 'IpcMode');
    const ipcDonor = joinedContainer(ipcMode);
    if (ipcMode === 'host') {
      out.ipcns = 'host';
      out.shm = { bind: '/dev/shm' };
    } else if (ipcMode === 'none') out.shm = 'none';
    else if (ipcDonor) {
      const other = this.get(ipcDonor);
      if (!other.state.Running) throw conflict(`cannot join IPC of a non running container: ${other.id}`);
      const donorMode = str(other.hostConfig, 'IpcMode');
      if (donorMode === 'host') {
        out.ipcns = 'host';
        out.shm = { bind: '/dev/shm' };
      } else if (donorMode === 'shareable') {
        out.ipcns = `/proc/${other.state.Pid}/ns/ipc`;
        out.shm = { bind: shmPath(other) };
      } else {
        throw conflict(
          `can't join IPC of container ${other.id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`,
        );
      }
    }
    if (str(hc, 'UTSMode') === 'host') out.utsHost = true;
    return out;
  }

  // ================================================================ health checks

  /** A (re)started task begins `starting` again; a container without a check has no Health. */
  private resetHealth(c: Row): void {
    if (healthConfigOf(c.config))
      c.state = { ...c.state, Health: { Status: 'starting', FailingStreak: 0, Log: [] } };
    else delete c.state.Health;
  }

  private startHealth(c: Row): void {
    const cfg = healthConfigOf(c.config);
    if (!cfg || this.health.has(c.id) || this.closed) return;
    if (!c.state.Health) this.resetHealth(c);
    const execs = this.execs;
    const monitor = new HealthMonitor(cfg, Date.parse(c.state.StartedAt) || Date.now(), c.state.Health!, {
      probe: (args, timeoutMs) =>
        execs
          ? execs.probe(c.id, args, timeoutMs, MAX_OUTPUT)
          : Promise.reject(new Error('exec is not ready')),
      update: (health, changed) => {
        const cur = this.byId.get(c.id);
        if (!cur?.state.Running) return;
        const streakChanged = cur.state.Health?.FailingStreak !== health.FailingStreak;
        cur.state = { ...cur.state, Health: health };
        // Written when it means something (status or streak); the log rides along.
        if (changed || streakChanged) this.trySave(cur);
        if (changed) this.publish(cur, `health_status: ${health.Status}`);
      },
    });
    this.health.set(c.id, monitor);
    monitor.start();
  }

  private stopHealth(id: string): void {
    this.health.get(id)?.stop();
    this.health.delete(id);
  }

  /** A shareable container's /dev/shm: a tmpfs on the host that joiners bind too (as Docker). */
  private async mountShm(c: Row): Promise<string> {
    const dir = shmPath(c);
    mkdirp(dir, 0o700);
    await unmount(dir);
    const size = num(c.hostConfig, 'ShmSize') || 64 * 1024 * 1024;
    await mountTmpfs(dir, `mode=1777,size=${size}`);
    return dir;
  }

  /** Takes away what a task had mounted on the host: its rootfs and a shareable /dev/shm. */
  private async unmountTask(c: { rootfs: string; dir: string }): Promise<void> {
    await unmount(shmPath(c));
    await this.o.snapshots.unmount(c.rootfs);
  }

  private checkNetworkMode(mode: string): void {
    if (['', 'default', 'bridge', 'none', 'host'].includes(mode)) return;
    // Not 404: a 404 from create makes the docker CLI try to pull the image (docker-api.md §0.8).
    const other = joinedContainer(mode);
    if (other !== undefined) {
      if (!this.find(other)) throw badRequest(`No such container: ${other}`);
      return;
    }
    throw badRequest(`network ${mode} not found`);
  }

  // ================================================================ start

  async start(idOrName: string): Promise<void> {
    const c0 = this.get(idOrName);
    await this.withLock(c0.id, async () => {
      const c = this.get(c0.id);
      switch (c.state.Status) {
        case 'running':
          throw notModified();
        case 'paused':
          throw conflict('cannot start a paused container, try unpause instead');
        case 'removing':
          throw conflict(`container is marked for removal and cannot be started`);
        case 'dead':
          throw conflict(`container is marked for removal and cannot be started`);
        case 'restarting':
          this.cancelRestart(c);
          break;
        default:
          break;
      }
      c.extra.manuallyStopped = false;
      c.restartCount = 0;
      this.backoffs.delete(c.id);
      await this.startTask(c);
    });
  }

  /** Mounts, writes the bundle, creates and starts the task; on failure leaves nothing behind. */
  private async startTask(c: Row): Promise<void> {
    await this.teardowns.get(c.id);
    const hc = c.hostConfig;
    const cfg = c.config;
    const networkMode = str(hc, 'NetworkMode') || 'default';
    let mounted = false;
    let created = false;
    const live: Live = (() => {
      const d = deferred();
      return {
        startedMs: Date.now(),
        userStopped: false,
        handled: d.promise,
        markHandled: d.resolve,
        exitSeen: false,
      };
    })();
    try {
      let netns: string | undefined | 'host';
      const netDonor = joinedContainer(networkMode);
      if (networkMode === 'host') netns = 'host';
      else if (netDonor !== undefined) {
        const other = this.get(netDonor);
        if (!other.state.Running || other.state.Pid <= 0) {
          throw conflict(`cannot join network of a non running container: ${other.id}`);
        }
        netns = `/proc/${other.state.Pid}/ns/net`;
      } else if (networkMode === 'default' || networkMode === 'bridge') {
        if (!this.bridgeWarned) {
          this.bridgeWarned = true;
          log.warn(
            'bridge networking is not implemented yet: containers on the default network get a private network namespace with only the loopback interface',
          );
        }
      }
      const ns = this.sharedNamespaces(hc);

      mkdirp(c.dir, 0o710);
      await this.o.snapshots.mount(c.id, c.rootfs);
      mounted = true;
      if (str(hc, 'IpcMode') === 'shareable') ns.shm = { bind: await this.mountShm(c) };
      const hostname = str(cfg, 'Hostname') || c.id.slice(0, 12);
      const mounts: MountSpec[] = writeEtcFiles(c.dir, {
        hostname,
        domainname: str(cfg, 'Domainname'),
        networkMode,
        extraHosts: strList(hc, 'ExtraHosts') ?? [],
        dns: strList(hc, 'Dns') ?? [],
        dnsSearch: strList(hc, 'DnsSearch') ?? [],
        dnsOptions: strList(hc, 'DnsOptions') ?? [],
      });
      for (const [dest, opts] of Object.entries(strMap(hc, 'Tmpfs') ?? {})) {
        const options = ['nosuid', 'nodev', 'noexec', ...(opts ? opts.split(',') : [])];
        mounts.push({ destination: dest, type: 'tmpfs', source: 'tmpfs', options });
      }
      mounts.push(...this.bindMounts(hc));

      const user = resolveUser(c.rootfs, str(cfg, 'User'));
      const groupAdd = resolveGroups(c.rootfs, strList(hc, 'GroupAdd') ?? []);
      const tty = bool(cfg, 'Tty');
      const env = this.processEnv(cfg, hostname, tty, user.home);
      const cwd = str(cfg, 'WorkingDir') || '/';
      this.ensureWorkdir(c.rootfs, cwd, user.uid, user.gid);
      const sec = securityOptions(hc);
      const pidsLimit = hc.PidsLimit;
      const input: SpecInput = {
        id: c.id,
        rootfs: c.rootfs,
        readonlyRootfs: bool(hc, 'ReadonlyRootfs'),
        args: processArgs(cfg),
        env,
        cwd,
        uid: user.uid,
        gid: user.gid,
        additionalGids: [...user.additionalGids, ...groupAdd.filter((g) => !user.additionalGids.includes(g))],
        terminal: tty,
        hostname: networkMode === 'host' || ns.utsHost ? hostnameOfHost() : hostname,
        domainname: str(cfg, 'Domainname') || undefined,
        mounts,
        privileged: bool(hc, 'Privileged'),
        capAdd: strList(hc, 'CapAdd') ?? [],
        capDrop: strList(hc, 'CapDrop') ?? [],
        noNewPrivileges: sec.noNewPrivileges,
        seccomp: sec.seccompUnconfined ? 'unconfined' : undefined,
        ulimits: ulimitsOf(hc),
        resources: { ...resourcesOf(hc), pidsLimit: typeof pidsLimit === 'number' ? pidsLimit : 0 },
        shmSize: num(hc, 'ShmSize'),
        devices: devicesOf(hc),
        netns,
        ...ns,
        cgroupsPath: `${this.o.cgroupParent.replace(/\/+$/, '')}/${c.id}`,
        sysctls: strMap(hc, 'Sysctls') ?? {},
        maskedPaths: strList(hc, 'MaskedPaths') ?? undefined,
        readonlyPaths: strList(hc, 'ReadonlyPaths') ?? undefined,
        initPath: bool(hc, 'Init') ? findInit(this.o.initPath) : undefined,
        stopSignal: str(cfg, 'StopSignal') || undefined,
        oomScoreAdj: num(hc, 'OomScoreAdj') || undefined,
      };
      const spec = buildSpec(input);
      const logOpts = logOptions(hc);
      this.live.set(c.id, live);
      created = true;
      const { pid } = await this.o.runtime.create(c.id, spec, {
        terminal: tty,
        stdin: bool(cfg, 'OpenStdin'),
        stdinOnce: bool(cfg, 'StdinOnce'),
        logPath: c.logPath,
        logMaxSize: logOpts.maxSize,
        logMaxFiles: logOpts.maxFiles,
      });
      this.specs.set(c.id, spec);
      const size = hc.ConsoleSize;
      if (
        tty &&
        Array.isArray(size) &&
        typeof size[0] === 'number' &&
        typeof size[1] === 'number' &&
        size[0] > 0
      ) {
        try {
          this.o.runtime.resize(c.id, size[0], size[1] as number);
        } catch {
          // the initial size is a nicety
        }
      }
      await this.connectPendingAttaches(c);
      const now = nowNano();
      await this.o.runtime.start(c.id);
      c.state = {
        ...c.state,
        Status: 'running',
        Running: true,
        Paused: false,
        Restarting: false,
        OOMKilled: false,
        Dead: false,
        Pid: pid,
        ExitCode: 0,
        Error: '',
        StartedAt: now,
      };
      c.extra.hasBeenStarted = true;
      live.startedMs = Date.now();
      this.resetHealth(c);
      this.save(c);
      this.publish(c, 'start');
      this.watchExit(c.id, live);
      this.startHealth(c);
    } catch (e) {
      this.live.delete(c.id);
      if (created) await this.o.runtime.delete(c.id, true).catch(() => {});
      if (mounted) await this.unmountTask(c).catch(() => {});
      this.specs.delete(c.id);
      const message = messageOf(e);
      const code = startFailureCode(message);
      c.state = {
        ...c.state,
        Status: c.extra.hasBeenStarted ? 'exited' : 'created',
        Running: false,
        Paused: false,
        Restarting: false,
        Pid: 0,
        ExitCode: code,
        Error: message,
      };
      if (c.extra.hasBeenStarted) c.state.FinishedAt = new Date().toISOString();
      this.save(c);
      this.endPendingAttaches(c.id);
      this.notifyExit(c.id, code, false);
      live.markHandled();
      if (bool(c.hostConfig, 'AutoRemove')) {
        // Docker removes an AutoRemove container whose start failed; `wait?condition=removed` answers then.
        setImmediate(() => void this.autoRemove(c.id));
      }
      if (isEngineError(e)) {
        // OCI runtime failures are the client's (400) like Docker; a missing user is too.
        throw e.status >= 500 && /OCI runtime/.test(message) ? new EngineError(400, message) : e;
      }
      throw internal(message);
    }
  }

  /** Docker's process environment: PATH, HOSTNAME, TERM (tty), the container's Env, then HOME. */
  private processEnv(cfg: Doc, hostname: string, tty: boolean, home: string): string[] {
    const env = new Map<string, string>();
    const put = (kv: string) => {
      const i = kv.indexOf('=');
      env.set(i < 0 ? kv : kv.slice(0, i), kv);
    };
    put(DEFAULT_PATH);
    put(`HOSTNAME=${hostname}`);
    if (tty) put('TERM=xterm');
    for (const e of strList(cfg, 'Env') ?? []) put(e);
    if (!env.has('HOME')) put(`HOME=${home || '/'}`);
    return [...env.values()];
  }

  /** Docker creates a missing WORKDIR (owned by the container's user) at start. */
  private ensureWorkdir(rootfs: string, cwd: string, uid: number, gid: number): void {
    if (cwd === '/') return;
    const host = resolveInRootfs(rootfs, cwd);
    if (fs.existsSync(host)) return;
    try {
      fs.mkdirSync(host, { recursive: true, mode: 0o755 });
      fs.chownSync(host, uid, gid);
    } catch (e) {
      log.warn(`could not create working directory ${cwd}: ${messageOf(e)}`);
    }
  }

  /** Host bind mounts (`-v /host:/ctr[:ro]`); named volumes belong to the volumes part. */
  private bindMounts(hc: Doc): MountSpec[] {
    const out: MountSpec[] = [];
    for (const b of strList(hc, 'Binds') ?? []) {
      const parts = b.split(':');
      const [src, dst, mode = ''] = parts as [string, string | undefined, string | undefined];
      if (!src.startsWith('/') || !dst) continue;
      const ro = mode.split(',').includes('ro');
      out.push({
        destination: dst,
        type: 'bind',
        source: src,
        options: ['rbind', ro ? 'ro' : 'rw', 'rprivate'],
      });
    }
    return out;
  }

  private watchExit(id: string, live: Live): void {
    this.o.runtime.wait(id).then(
      (exit) =>
        this.handleExit(id, live, exit).catch((e) =>
          log.error(`handling the exit of ${id} failed: ${messageOf(e)}`),
        ),
      (e) => log.error(`waiting for ${id} failed: ${messageOf(e)}`),
    );
  }

  // ================================================================ exits

  private async handleExit(id: string, live: Live, exit: ExitStatus): Promise<void> {
    if (live.exitSeen || this.closed) return;
    live.exitSeen = true;
    this.stopHealth(id);
    const c = this.byId.get(id);
    if (!c) {
      live.markHandled();
      return;
    }
    // Waiters learn the exit at once; deleting the task and unmounting its rootfs (three
    // process spawns) happen meanwhile, and whatever touches the container next waits for them.
    void this.teardownTask(c);
    this.specs.delete(id);
    if (this.live.get(id) === live) this.live.delete(id);
    // The exit file's mtime is coarse; never report an exit before the start.
    const finishedMs = Math.max(exit.finishedAt.getTime(), Date.parse(c.state.StartedAt) || 0);
    const finishedAt = finishedMs === exit.finishedAt.getTime() ? exit.finishedAt.toISOString() : nowNano();
    const ranMs = Math.max(0, finishedMs - live.startedMs);
    if (exit.oomKilled) this.publish(c, 'oom');
    this.publish(c, 'die', { exitCode: String(exit.exitCode) });
    const policy = restartPolicyOf(c.hostConfig);
    const restart =
      !this.closed &&
      !live.userStopped &&
      shouldRestart(policy, {
        exitCode: exit.exitCode,
        manuallyStopped: c.extra.manuallyStopped,
        ranMs,
        restartCount: c.restartCount,
      });
    c.state = {
      ...c.state,
      Status: restart ? 'restarting' : 'exited',
      Running: restart,
      Paused: false,
      Restarting: restart,
      OOMKilled: exit.oomKilled,
      Pid: 0,
      ExitCode: exit.exitCode,
      FinishedAt: finishedAt,
    };
    if (restart) c.restartCount++;
    // A full disk must not cost the waiters their answer or the daemon its life: the state is
    // right in memory, and the next start of berthd finds the task gone and marks it exited.
    this.trySave(c);
    live.markHandled();
    this.notifyExit(id, exit.exitCode, restart);
    if (restart) this.scheduleRestart(c, ranMs);
    else if (bool(c.hostConfig, 'AutoRemove')) await this.autoRemove(id);
  }

  /** `runtime.delete` and unmount of an exited task, in the background (after earlier ones). */
  private teardownTask(c: Row): Promise<void> {
    const before = this.teardowns.get(c.id);
    const p = (async () => {
      await before;
      // After this turn of the event loop: a spawn blocks it for a few ms, and the waiters
      // (`run --rm` is answered once AutoRemove has run) come first.
      await new Promise<void>((r) => setImmediate(r));
      await this.o.runtime
        .delete(c.id, true)
        .catch((e) => log.warn(`cleaning up the task of ${c.id}: ${messageOf(e)}`));
      await this.unmountTask(c).catch((e) => log.warn(`unmounting ${c.rootfs}: ${messageOf(e)}`));
    })();
    this.teardowns.set(c.id, p);
    void p.then(() => {
      if (this.teardowns.get(c.id) === p) this.teardowns.delete(c.id);
    });
    return p;
  }

  private scheduleRestart(c: Row, ranMs: number): void {
    let b = this.backoffs.get(c.id);
    if (!b) {
      b = new Backoff();
      this.backoffs.set(c.id, b);
    }
    const delay = b.next(ranMs);
    const timer = setTimeout(() => {
      this.restartTimers.delete(c.id);
      void this.withLock(c.id, async () => {
        const cur = this.byId.get(c.id);
        if (cur?.state.Status !== 'restarting' || this.closed) return;
        try {
          await this.startTask(cur);
          this.publish(cur, 'restart');
        } catch (e) {
          log.warn(`restarting ${c.id} failed: ${messageOf(e)}`);
        }
      }).catch(() => {});
    }, delay);
    this.restartTimers.set(c.id, timer);
  }

  private cancelRestart(c: Row): void {
    const t = this.restartTimers.get(c.id);
    if (t) clearTimeout(t);
    this.restartTimers.delete(c.id);
    if (c.state.Status === 'restarting') {
      c.state = { ...c.state, Status: 'exited', Running: false, Restarting: false };
      this.save(c);
      this.notifyExit(c.id, c.state.ExitCode, false);
    }
  }

  private async autoRemove(id: string): Promise<void> {
    await this.withLock(id, async () => {
      const c = this.byId.get(id);
      if (!c || c.state.Running || c.state.Status === 'removing') return;
      await this.removeLocked(c, { deferCleanup: true });
    }).catch((e) => log.warn(`auto-removing ${id} failed: ${messageOf(e)}`));
  }

  // ================================================================ waits

  /** Resolves when the condition holds; 404 at once for a missing container. */
  wait(idOrName: string, condition: WaitCondition): { promise: Promise<WaitResult>; cancel: () => void } {
    const c = this.get(idOrName);
    const running = c.state.Running || c.state.Paused;
    if (condition === 'not-running' && !running) {
      return { promise: Promise.resolve({ StatusCode: c.state.ExitCode, Error: null }), cancel: () => {} };
    }
    let waiter: Waiter | undefined;
    const promise = new Promise<WaitResult>((resolve) => {
      waiter = { condition, resolve };
      const list = this.waiters.get(c.id) ?? [];
      list.push(waiter);
      this.waiters.set(c.id, list);
    });
    const cancel = () => {
      const list = this.waiters.get(c.id);
      if (!list || !waiter) return;
      const i = list.indexOf(waiter);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.waiters.delete(c.id);
    };
    return { promise, cancel };
  }

  private notifyExit(id: string, code: number, restarting: boolean): void {
    const list = this.waiters.get(id);
    if (!list) return;
    const keep: Waiter[] = [];
    for (const w of list) {
      if (w.condition === 'next-exit' || (w.condition === 'not-running' && !restarting)) {
        w.resolve({ StatusCode: code, Error: null });
      } else keep.push(w);
    }
    if (keep.length > 0) this.waiters.set(id, keep);
    else this.waiters.delete(id);
  }

  private notifyRemoved(id: string, code: number): void {
    const list = this.waiters.get(id) ?? [];
    this.waiters.delete(id);
    for (const w of list) w.resolve({ StatusCode: code, Error: null });
  }

  // ================================================================ attach

  /**
   * Serves a hijacked attach connection. For a container that is not running yet the
   * session waits (stdin buffered) and is connected between task create and start, so no
   * output is lost (docker run's attach-before-start).
   */
  async attach(idOrName: string, raw: RawConnection, opts: AttachOptions): Promise<void> {
    const c = this.get(idOrName);
    const sopts: AttachSessionOptions = {
      stdin: opts.stdin,
      stdout: opts.stdout,
      stderr: opts.stderr,
      tty: bool(c.config, 'Tty'),
      stdinOnce: bool(c.config, 'StdinOnce'),
      detachKeys: opts.detachKeys,
    };
    const session = new AttachSession(raw, sopts);
    this.publish(c, 'attach');
    if (opts.logs) {
      try {
        for await (const rec of this.o.runtime.logs(c.logPath, {
          stdout: opts.stdout,
          stderr: opts.stderr,
          follow: false,
        })) {
          session.writeOutput(rec.stream, rec.line);
        }
      } catch {
        // no log yet
      }
    }
    if (!opts.stream) {
      session.finish();
      return;
    }
    if (c.state.Running && !c.state.Restarting && this.live.has(c.id)) {
      try {
        const conn = await this.o.runtime.attach(c.id, {
          stdin: opts.stdin,
          stdout: opts.stdout,
          stderr: opts.stderr,
        });
        session.connect(conn);
        return;
      } catch {
        // exited in between: wait for the next start like a stopped container
      }
    }
    const list = this.pendingAttach.get(c.id) ?? [];
    list.push(session);
    this.pendingAttach.set(c.id, list);
    session.onDone(() => {
      const l = this.pendingAttach.get(c.id);
      if (!l) return;
      const i = l.indexOf(session);
      if (i >= 0) l.splice(i, 1);
    });
  }

  private async connectPendingAttaches(c: Row): Promise<void> {
    const list = this.pendingAttach.get(c.id);
    if (!list || list.length === 0) return;
    this.pendingAttach.delete(c.id);
    for (const s of list) {
      if (s.closed) continue;
      try {
        // stdout/stderr selection is applied by the session; the task side always carries both.
        const conn = await this.o.runtime.attach(c.id, { stdin: true, stdout: true, stderr: true });
        s.connect(conn);
      } catch (e) {
        log.warn(`attaching to ${c.id}: ${messageOf(e)}`);
        s.finish();
      }
    }
  }

  private endPendingAttaches(id: string): void {
    const list = this.pendingAttach.get(id);
    this.pendingAttach.delete(id);
    for (const s of list ?? []) s.finish();
  }

  resize(idOrName: string, rows: number, cols: number): void {
    const c = this.get(idOrName);
    if (!c.state.Running || !this.live.has(c.id)) throw conflict(`Container ${c.id} is not running`);
    this.o.runtime.resize(c.id, rows, cols);
    this.publish(c, 'resize', { height: String(rows), width: String(cols) });
  }

  // ================================================================ stop / kill / restart

  async stop(idOrName: string, opts: StopOptions = {}): Promise<void> {
    const c0 = this.get(idOrName);
    await this.withLock(c0.id, () => this.stopLocked(this.get(c0.id), opts));
  }

  private async stopLocked(c: Row, opts: StopOptions): Promise<void> {
    if (c.state.Status === 'restarting') {
      c.extra.manuallyStopped = true;
      this.cancelRestart(c);
      this.publish(c, 'stop');
      return;
    }
    const live = this.live.get(c.id);
    if (!live || !(c.state.Status === 'running' || c.state.Status === 'paused')) throw notModified();
    c.extra.manuallyStopped = true;
    live.userStopped = true;
    this.save(c);
    const signal = opts.signal || str(c.config, 'StopSignal') || 'SIGTERM';
    const configured = c.config.StopTimeout;
    const timeout = opts.timeout ?? (typeof configured === 'number' ? configured : 10);
    const sig = parseSignal(signal);
    try {
      await this.sendSignal(c, sig);
      if (c.state.Paused && sig !== 9) await this.o.runtime.resume(c.id).catch(() => {});
    } catch (e) {
      if (!(isEngineError(e) && e.status === 409)) throw e;
    }
    const exited =
      timeout < 0
        ? await live.handled.then(() => true)
        : await Promise.race([live.handled.then(() => true), sleep(timeout * 1000).then(() => false)]);
    if (!exited) {
      await this.sendSignal(c, 9).catch(() => {});
      const gone = await Promise.race([live.handled.then(() => true), sleep(30_000).then(() => false)]);
      if (!gone) throw internal(`Container ${c.id} did not exit within 30 seconds of SIGKILL`);
    }
    this.publish(c, 'stop');
  }

  private async sendSignal(c: Row, sig: number): Promise<void> {
    await this.o.runtime.kill(c.id, sig);
    this.publish(c, 'kill', { signal: String(sig) });
  }

  async kill(idOrName: string, signal: string | undefined): Promise<void> {
    const c = this.get(idOrName);
    const sig = parseSignal(signal && signal !== '' ? signal : 'KILL');
    const live = this.live.get(c.id);
    if (c.state.Status === 'restarting' && sig === 9) {
      c.extra.manuallyStopped = true;
      this.cancelRestart(c);
      return;
    }
    if (!live || !(c.state.Status === 'running' || c.state.Status === 'paused')) {
      throw conflict(`Cannot kill container: ${idOrName}: Container ${c.id} is not running`);
    }
    // Window-size changes are forwarded by `docker run`'s signal proxy; they stop nothing.
    if (sig !== 28) {
      live.userStopped = true;
      c.extra.manuallyStopped = true;
      this.save(c);
    }
    try {
      await this.sendSignal(c, sig);
    } catch (e) {
      if (isEngineError(e) && e.status === 409) {
        throw conflict(`Cannot kill container: ${idOrName}: Container ${c.id} is not running`);
      }
      throw e;
    }
    if (sig === 9) {
      if (c.state.Paused) await this.o.runtime.resume(c.id).catch(() => {});
      await Promise.race([live.handled, sleep(10_000)]);
    }
  }

  async restart(idOrName: string, opts: StopOptions = {}): Promise<void> {
    const c0 = this.get(idOrName);
    await this.withLock(c0.id, async () => {
      const c = this.get(c0.id);
      if (c.state.Running || c.state.Paused) {
        try {
          await this.stopLocked(c, opts);
        } catch (e) {
          if (!(isEngineError(e) && e.status === 304)) throw e;
        }
      }
      c.extra.manuallyStopped = false;
      await this.startTask(c);
      this.publish(c, 'restart');
    });
  }

  // ================================================================ pause

  async pause(idOrName: string): Promise<void> {
    const c0 = this.get(idOrName);
    await this.withLock(c0.id, async () => {
      const c = this.get(c0.id);
      if (c.state.Status === 'paused') throw conflict(`Container ${c.id} is already paused`);
      if (c.state.Status !== 'running') throw conflict(`Container ${c.id} is not running`);
      await this.o.runtime.pause(c.id);
      this.stopHealth(c.id);
      c.state = { ...c.state, Status: 'paused', Paused: true };
      this.save(c);
      this.publish(c, 'pause');
    });
  }

  async unpause(idOrName: string): Promise<void> {
    const c0 = this.get(idOrName);
    await this.withLock(c0.id, async () => {
      const c = this.get(c0.id);
      if (c.state.Status !== 'paused') throw internal(`Container ${c.id} is not paused`);
      await this.o.runtime.resume(c.id);
      c.state = { ...c.state, Status: 'running', Paused: false };
      this.save(c);
      this.publish(c, 'unpause');
      this.startHealth(c);
    });
  }

  // ================================================================ remove / rename / update / prune

  async remove(idOrName: string, opts: { force: boolean; volumes: boolean }): Promise<void> {
    const c0 = this.get(idOrName);
    await this.withLock(c0.id, async () => {
      const c = this.byId.get(c0.id);
      if (!c) throw notFound(`No such container: ${idOrName}`);
      if (c.state.Status === 'removing')
        throw conflict(`removal of container ${c.id} is already in progress`);
      if (c.state.Status === 'restarting') {
        if (!opts.force) {
          throw conflict(
            `You cannot remove a restarting container ${c.id}. Stop the container before attempting removal or force remove`,
          );
        }
        this.cancelRestart(c);
      }
      if (c.state.Running || c.state.Paused) {
        if (!opts.force) {
          if (c.state.Paused) {
            throw conflict(
              `You cannot remove a paused container ${c.id}. Unpause and then stop the container before attempting removal or force remove`,
            );
          }
          throw conflict(
            `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`,
          );
        }
        const live = this.live.get(c.id);
        if (live) {
          live.userStopped = true;
          c.extra.manuallyStopped = true;
          await this.sendSignal(c, 9).catch(() => {});
          if (c.state.Paused) await this.o.runtime.resume(c.id).catch(() => {});
          await Promise.race([live.handled, sleep(15_000)]);
        }
      }
      await this.removeLocked(c, { deferCleanup: false });
    });
  }

  /**
   * Removes a container. `deferCleanup` (AutoRemove: `docker run --rm` waits for it) takes the
   * container out of the API in one transaction that also journals the clean-up, answers the
   * waiters, and leaves the task, mount, writable layer and directory to `reap`; otherwise
   * (`docker rm`, prune) everything is gone from the disk before this returns.
   */
  private async removeLocked(c: Row, opts: { deferCleanup: boolean }): Promise<void> {
    if (opts.deferCleanup) {
      this.records.retire(c);
      this.forget(c);
      void this.reap({ id: c.id, dir: c.dir, rootfs: c.rootfs, imageId: c.imageId });
      return;
    }
    await this.teardowns.get(c.id);
    c.state = { ...c.state, Status: 'removing' };
    this.save(c);
    try {
      await this.o.runtime.delete(c.id, true);
      await this.unmountTask(c).catch(() => {});
      await this.o.snapshots.remove(c.id);
      removeAll(c.dir);
    } catch (e) {
      c.state = { ...c.state, Status: 'dead', Dead: true, Running: false, Paused: false };
      this.save(c);
      throw internal(`unable to remove container ${c.id}: ${messageOf(e)}`);
    }
    this.records.delete(c.id);
    this.forget(c);
    // The image was force-removed while this container stood on it: its layers can go now.
    if (!this.o.images.get(c.imageId)) void this.o.images.releaseUnusedLayers?.().catch(() => {});
  }

  /** Drops a removed container from memory and tells its waiters and event listeners. */
  private forget(c: Row): void {
    this.stopHealth(c.id);
    this.byId.delete(c.id);
    this.live.delete(c.id);
    this.specs.delete(c.id);
    this.backoffs.delete(c.id);
    this.endPendingAttaches(c.id);
    this.execs?.forgetContainer(c.id);
    this.publish(c, 'destroy');
    this.notifyRemoved(c.id, c.state.ExitCode);
  }

  /**
   * The physical half of a deferred removal: task, mount, writable layer, directory, then the
   * journal row. A failure leaves the row, so the next start-up tries again.
   */
  private reap(r: Removal): Promise<void> {
    const p = (async () => {
      await this.teardowns.get(r.id);
      try {
        await this.o.runtime.delete(r.id, true);
        await this.unmountTask(r);
        await this.o.snapshots.remove(r.id);
        await fs.promises.rm(r.dir, { recursive: true, force: true });
        if (!this.closed) this.records.finishRemoval(r.id);
      } catch (e) {
        log.warn(`cleaning up removed container ${r.id}: ${messageOf(e)} (retried at the next start)`);
        return;
      }
      if (!this.o.images.get(r.imageId)) await this.o.images.releaseUnusedLayers?.().catch(() => {});
    })();
    this.reaping.add(p);
    void p.then(() => this.reaping.delete(p));
    return p;
  }

  async rename(idOrName: string, newNameRaw: string): Promise<void> {
    if (!newNameRaw) throw badRequest('Neither old nor new names may be empty');
    const c = this.get(idOrName);
    const newName = normalizeName(newNameRaw);
    if (newName === c.name) throw badRequest('Renaming a container with the same name as its current name');
    this.checkNameFree(newName, c.id);
    const oldName = c.name;
    c.name = newName;
    try {
      this.save(c);
    } catch (e) {
      c.name = oldName;
      throw e;
    }
    this.publish(c, 'rename', { oldName });
  }

  async update(idOrName: string, body: unknown): Promise<{ Warnings: string[] }> {
    if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) {
      throw badRequest('invalid JSON body: expected an object');
    }
    const u = (body ?? {}) as Doc;
    const c0 = this.get(idOrName);
    return this.withLock(c0.id, async () => {
      const c = this.get(c0.id);
      const hc: Doc = { ...c.hostConfig };
      const keys = [
        'Memory',
        'MemorySwap',
        'MemoryReservation',
        'CpuShares',
        'CpuPeriod',
        'CpuQuota',
        'NanoCpus',
        'CpusetCpus',
        'CpusetMems',
        'BlkioWeight',
        'PidsLimit',
        'KernelMemory',
      ];
      const changed = new Set<string>();
      for (const k of keys) {
        const v = u[k];
        if (v === undefined || v === null) continue;
        if (typeof v === 'number' && v === 0 && k !== 'PidsLimit') continue;
        if (typeof v === 'string' && v === '') continue;
        hc[k] = v;
        changed.add(k);
      }
      if (changed.has('Memory') && !changed.has('MemorySwap')) {
        const swap = num(hc, 'MemorySwap');
        const mem = num(hc, 'Memory');
        if (swap > 0 && mem > swap) {
          throw badRequest(
            'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time',
          );
        }
      }
      validateResources(hc, true);
      if (u.RestartPolicy !== undefined && u.RestartPolicy !== null) {
        const probe = { RestartPolicy: u.RestartPolicy, AutoRemove: hc.AutoRemove };
        const name = str(sub(probe, 'RestartPolicy'), 'Name');
        if (name !== '') {
          validateRestartPolicy(probe);
          if (bool(hc, 'AutoRemove') && name !== 'no') {
            throw badRequest(
              'Restart policy cannot be updated because AutoRemove is enabled for the container',
            );
          }
          hc.RestartPolicy = {
            Name: name,
            MaximumRetryCount: num(sub(probe, 'RestartPolicy'), 'MaximumRetryCount'),
          };
        }
      }
      if (typeof hc.PidsLimit === 'number' && hc.PidsLimit <= 0) hc.PidsLimit = null;
      if (changed.size > 0 && (c.state.Running || c.state.Paused) && this.live.has(c.id)) {
        const r = resourcesOf(hc);
        const partial = {
          memory: changed.has('Memory') ? r.memory : undefined,
          memorySwap: changed.has('MemorySwap') || changed.has('Memory') ? r.memorySwap : undefined,
          memoryReservation: changed.has('MemoryReservation') ? r.memoryReservation : undefined,
          cpuShares: changed.has('CpuShares') ? r.cpuShares : undefined,
          cpuPeriod: changed.has('CpuPeriod') ? r.cpuPeriod : undefined,
          cpuQuota: changed.has('CpuQuota') ? r.cpuQuota : undefined,
          nanoCpus: changed.has('NanoCpus') ? r.nanoCpus : undefined,
          cpusetCpus: changed.has('CpusetCpus') ? r.cpusetCpus : undefined,
          cpusetMems: changed.has('CpusetMems') ? r.cpusetMems : undefined,
          blkioWeight: changed.has('BlkioWeight') ? r.blkioWeight : undefined,
          pidsLimit: changed.has('PidsLimit') ? r.pidsLimit : undefined,
        };
        await this.o.runtime.update(c.id, partial);
      }
      c.hostConfig = hc;
      this.save(c);
      this.publish(c, 'update');
      return { Warnings: [] };
    });
  }

  async prune(filters: Map<string, string[]>): Promise<PruneResult> {
    const deleted: string[] = [];
    let reclaimed = 0;
    const until = filters.get('until') ?? [];
    const labels = filters.get('label') ?? [];
    const labelsNot = filters.get('label!') ?? [];
    for (const key of filters.keys()) {
      if (!['until', 'label', 'label!'].includes(key)) throw badRequest(`invalid filter '${key}'`);
    }
    const cutoff = until.length > 0 ? Math.min(...until.map(parseUntil)) : undefined;
    for (const c of [...this.byId.values()]) {
      if (c.state.Running || c.state.Paused || c.state.Status === 'removing') continue;
      if (cutoff !== undefined && Date.parse(c.created) >= cutoff) continue;
      const l = strMap(c.config, 'Labels') ?? {};
      if (!labels.every((f) => labelMatch(l, f))) continue;
      if (labelsNot.some((f) => labelMatch(l, f))) continue;
      let size = 0;
      try {
        size = this.o.snapshots.writableSize(c.id);
      } catch {
        size = 0;
      }
      try {
        await this.withLock(c.id, async () => {
          const cur = this.byId.get(c.id);
          if (!cur || cur.state.Running || cur.state.Paused) return;
          if (cur.state.Status === 'restarting') return;
          await this.removeLocked(cur, { deferCleanup: false });
          deleted.push(c.id);
          reclaimed += size;
        });
      } catch (e) {
        log.warn(`prune: removing ${c.id} failed: ${messageOf(e)}`);
      }
    }
    this.o.events.publish('container', 'prune', '', { reclaimed: String(reclaimed) });
    return { ContainersDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed };
  }

  // ================================================================ cp/export/commit support

  /**
   * Runs `fn` on the container's root filesystem, mounting it for the call when no task runs.
   * With `freeze`, a running container is frozen (runc pause, not recorded as a user pause)
   * while `fn` runs, as Podman's cp does: the container's processes cannot then swap a path
   * component for a symlink between our resolving a path and using it (CVE-2018-15664).
   */
  async withRootfs<T>(
    idOrName: string,
    fn: (rootfs: string, c: Container) => Promise<T>,
    opts: { freeze?: boolean } = {},
  ): Promise<T> {
    const c = this.get(idOrName);
    const up = () => this.live.has(c.id) && (c.state.Running || c.state.Paused);
    if (up() && !opts.freeze) return fn(c.rootfs, c);
    return this.withLock(c.id, async () => {
      // An exited task's unmount must not land on the mount made here.
      await this.teardowns.get(c.id);
      // Running (again) by the time the lock was taken: its mount is there.
      if (up()) {
        if (!opts.freeze || c.state.Paused) return fn(c.rootfs, c);
        // A probe into a frozen container would hang to its timeout and count as a failure.
        this.stopHealth(c.id);
        await this.o.runtime.pause(c.id);
        try {
          return await fn(c.rootfs, c);
        } finally {
          await this.o.runtime
            .resume(c.id)
            .catch((e) => log.error(`thawing ${c.id} after a copy failed: ${messageOf(e)}`));
          if (c.state.Running) this.startHealth(c);
        }
      }
      const target = path.join(c.dir, 'rootfs');
      await this.o.snapshots.mount(c.id, target);
      try {
        return await fn(target, c);
      } finally {
        await this.o.snapshots
          .unmount(target)
          .catch((e) => log.warn(`unmounting ${target}: ${messageOf(e)}`));
      }
    });
  }

  // ================================================================ live restore

  /**
   * Reconciles every row with what the runtime has (DESIGN.md decision 2): live tasks are
   * adopted, exits that happened while the daemon was down are recorded with their real
   * exit codes, restart policies apply, and AutoRemove containers that exited are removed.
   */
  async recover(): Promise<void> {
    // Removals a previous daemon journaled but did not finish.
    for (const r of this.records.removals()) await this.reap(r);
    for (const c of [...this.byId.values()]) {
      try {
        await this.recoverOne(c);
      } catch (e) {
        log.error(`recovering container ${c.id} failed: ${messageOf(e)}`);
      }
    }
  }

  private async recoverOne(c: Row): Promise<void> {
    if (c.state.Status === 'removing' || c.state.Status === 'dead') {
      await this.withLock(c.id, () => this.removeLocked(c, { deferCleanup: false })).catch((e) =>
        log.warn(`finishing the removal of ${c.id}: ${messageOf(e)}`),
      );
      return;
    }
    const r = await this.o.runtime.recover(c.id);
    const d = deferred();
    const live: Live = {
      startedMs: Date.parse(c.state.StartedAt) || Date.now(),
      userStopped: false,
      handled: d.promise,
      markHandled: d.resolve,
      exitSeen: false,
    };
    if (r.state === 'running' || r.state === 'paused') {
      c.state = {
        ...c.state,
        Status: r.state,
        Running: true,
        Paused: r.state === 'paused',
        Restarting: false,
        Pid: r.pid,
      };
      this.save(c);
      this.live.set(c.id, live);
      this.watchExit(c.id, live);
      if (r.state === 'running') this.startHealth(c);
      return;
    }
    const wasUp = c.state.Running || c.state.Paused || c.state.Status === 'restarting';
    if (r.state === 'exited' && wasUp && c.state.Status !== 'restarting') {
      this.live.set(c.id, live);
      await this.handleExit(c.id, live, r.exit);
      return;
    }
    if (r.state === 'created' || r.state === 'exited')
      await this.o.runtime.delete(c.id, true).catch(() => {});
    if (wasUp) {
      // A restart was pending, or the task vanished with its exit code (reboot): treat as an exit.
      this.live.set(c.id, live);
      const code = c.state.Status === 'restarting' ? c.state.ExitCode : LOST_EXIT_CODE;
      await this.handleExit(c.id, live, { exitCode: code, oomKilled: false, finishedAt: new Date() });
      return;
    }
    await this.unmountTask(c).catch(() => {});
    if (c.state.Status === 'exited' && c.extra.hasBeenStarted) {
      const policy = restartPolicyOf(c.hostConfig);
      const again = shouldRestartOnBoot(policy, {
        exitCode: c.state.ExitCode,
        manuallyStopped: c.extra.manuallyStopped,
        ranMs: 0,
        restartCount: c.restartCount,
      });
      if (again) {
        await this.withLock(c.id, () => this.startTask(c)).catch((e) =>
          log.warn(`restarting ${c.id} at start-up failed: ${messageOf(e)}`),
        );
      } else if (bool(c.hostConfig, 'AutoRemove')) {
        await this.autoRemove(c.id);
      }
    }
  }

  /** Stops timers; containers keep running (live restore). */
  close(): void {
    this.closed = true;
    for (const t of this.restartTimers.values()) clearTimeout(t);
    this.restartTimers.clear();
    for (const id of [...this.health.keys()]) this.stopHealth(id);
  }

  /**
   * Waits, at most `ms`, for the background clean-ups (exited tasks, removed containers) before
   * the store closes; what is cut short is finished by the next start-up's recovery.
   */
  async settle(ms = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.teardowns.values(), ...this.reaping]),
      new Promise<void>((r) => {
        timer = setTimeout(r, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  // ================================================================ helpers

  private save(c: Row): void {
    if (this.closed) return;
    this.records.save(c);
  }

  /** save() for background updates, where a failure (a full disk) is only logged. */
  private trySave(c: Row): void {
    try {
      this.save(c);
    } catch (e) {
      log.error(`recording the state of ${c.id} failed: ${messageOf(e)}`);
    }
  }

  private publish(c: Row, action: string, extra: Record<string, string> = {}): void {
    const labels = strMap(c.config, 'Labels') ?? {};
    this.o.events.publish('container', action, c.id, {
      ...labels,
      image: str(c.config, 'Image') || c.image,
      name: c.name.replace(/^\//, ''),
      ...extra,
    });
  }

  private withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return run;
  }
}

/** RFC3339 with nanoseconds, like Go's time.Now().UTC() in Docker's records. */
export function nowNano(): string {
  const iso = new Date().toISOString();
  const sub = (process.hrtime.bigint() % 1_000_000n).toString().padStart(6, '0');
  return `${iso.slice(0, 23)}${sub}Z`;
}

function hostnameOfHost(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
  } catch {
    return 'localhost';
  }
}

/** Where a shareable container's /dev/shm is mounted on the host. */
function shmPath(c: { dir: string }): string {
  return path.join(c.dir, 'shm');
}

function labelMatch(labels: Record<string, string>, filter: string): boolean {
  const i = filter.indexOf('=');
  if (i < 0) return filter in labels;
  return labels[filter.slice(0, i)] === filter.slice(i + 1);
}

/** `until` as Docker takes it: a Go duration before now, or a unix/RFC3339 timestamp; ms since epoch. */
export function parseUntil(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (!Number.isNaN(t)) return t;
  const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(v) ?? /^((?:\d+h)?(?:\d+m)?(?:\d+s)?)$/.exec(v);
  if (m) {
    let ms = 0;
    for (const part of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g)) {
      const n = Number(part[1]);
      const unit = part[2];
      ms += n * ({ ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 }[unit as 'ns'] ?? 0);
    }
    return Date.now() - ms;
  }
  throw badRequest(`invalid filter 'until=${v}': not a duration or a timestamp`);
}
