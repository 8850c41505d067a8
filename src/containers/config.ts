/**
 * The create body (Config + HostConfig + NetworkingConfig, docker-api.md §6) parsed into
 * the documents Docker keeps: fields are type-checked and validated with Docker's messages,
 * HostConfig gets Docker's defaults so `inspect` echoes every field, and the image's
 * config is merged in (moby daemon/commit.go `merge`).
 */
import os from 'node:os';
import type { DeviceMapping, DeviceThrottle, Resources, Ulimit } from '../runtime/runtime.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../runtime/runtime.js';
import { badRequest } from '../util/errors.js';
import { mergeHealthcheck } from './health.js';

export type Doc = Record<string, unknown>;

/** What the container core needs from an image's config (Docker's image `config` object). */
export interface ImageConfig {
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  StopSignal?: string;
  Volumes?: Record<string, unknown> | null;
  ExposedPorts?: Record<string, unknown> | null;
  Labels?: Record<string, string> | null;
  Healthcheck?: unknown;
}

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MIN_MEMORY = 6 * 1024 * 1024;
const DEFAULT_SHM = 64 * 1024 * 1024;
export const RESTART_POLICIES = ['no', 'always', 'on-failure', 'unless-stopped'] as const;
export type RestartPolicyName = (typeof RESTART_POLICIES)[number];

// ------------------------------------------------------------------ typed field access

export function isDoc(v: unknown): v is Doc {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function fieldError(field: string, value: unknown, want: string): Error {
  return badRequest(`invalid value for ${field}: ${JSON.stringify(value)} (expected ${want})`);
}

export function str(doc: Doc, key: string, field = key): string {
  const v = doc[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw fieldError(field, v, 'a string');
  return v;
}

export function num(doc: Doc, key: string, field = key): number {
  const v = doc[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw fieldError(field, v, 'a number');
  return v;
}

export function bool(doc: Doc, key: string, field = key): boolean {
  const v = doc[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw fieldError(field, v, 'a boolean');
  return v;
}

/** A string list; a lone string is accepted as a one-element list (Docker's StrSlice). */
export function strList(doc: Doc, key: string, field = key): string[] | null {
  const v = doc[key];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw fieldError(field, v, 'a list of strings');
  return v as string[];
}

export function strMap(doc: Doc, key: string, field = key): Record<string, string> | null {
  const v = doc[key];
  if (v === undefined || v === null) return null;
  if (!isDoc(v) || Object.values(v).some((x) => typeof x !== 'string'))
    throw fieldError(field, v, 'a map of strings');
  return v as Record<string, string>;
}

export function sub(doc: Doc, key: string, field = key): Doc {
  const v = doc[key];
  if (v === undefined || v === null) return {};
  if (!isDoc(v)) throw fieldError(field, v, 'an object');
  return v;
}

function list(doc: Doc, key: string, field = key): Doc[] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => !isDoc(x))) throw fieldError(field, v, 'a list of objects');
  return v as Doc[];
}

// ------------------------------------------------------------------ the create body

export interface CreateBody {
  config: Doc;
  hostConfig: Doc;
  networking: Doc;
  /** dockerode puts `name` in the body too. */
  name: string | undefined;
}

export function parseCreateBody(body: unknown): CreateBody {
  if (body === undefined) throw badRequest('config cannot be empty in order to create a container');
  if (!isDoc(body)) throw badRequest('invalid JSON body: expected an object');
  const { HostConfig, NetworkingConfig, name, ...config } = body;
  if (HostConfig !== undefined && HostConfig !== null && !isDoc(HostConfig))
    throw fieldError('HostConfig', HostConfig, 'an object');
  if (NetworkingConfig !== undefined && NetworkingConfig !== null && !isDoc(NetworkingConfig)) {
    throw fieldError('NetworkingConfig', NetworkingConfig, 'an object');
  }
  // Check the types of every field the engine reads, so a bad one fails here with its name.
  for (const k of ['Hostname', 'Domainname', 'User', 'WorkingDir', 'Image', 'StopSignal']) str(config, k);
  for (const k of ['Tty', 'OpenStdin', 'StdinOnce', 'AttachStdin', 'AttachStdout', 'AttachStderr'])
    bool(config, k);
  for (const k of ['Env', 'Cmd', 'Entrypoint']) strList(config, k);
  strMap(config, 'Labels');
  if (config.StopTimeout !== undefined && config.StopTimeout !== null) num(config, 'StopTimeout');
  if (!str(config, 'Image')) throw badRequest('No image specified (Config.Image is empty)');
  return {
    config,
    hostConfig: (HostConfig as Doc | undefined | null) ?? {},
    networking: (NetworkingConfig as Doc | undefined | null) ?? {},
    name: typeof name === 'string' && name !== '' ? name : undefined,
  };
}

// ------------------------------------------------------------------ merge with the image

/** Docker's merge of the user's Config with the image's (user values win). */
export function mergeImageConfig(config: Doc, image: ImageConfig): Doc {
  const out: Doc = { ...config };
  const userEnv = strList(config, 'Env') ?? [];
  const imageEnv = image.Env ?? [];
  if (userEnv.length === 0) out.Env = imageEnv.length > 0 ? [...imageEnv] : [];
  else {
    const keys = new Set(userEnv.map((e) => e.split('=')[0]));
    out.Env = [...userEnv, ...imageEnv.filter((e) => !keys.has(e.split('=')[0]))];
  }
  const entrypoint = strList(config, 'Entrypoint');
  const cmd = strList(config, 'Cmd');
  if (entrypoint === null || entrypoint.length === 0) {
    if (cmd === null || cmd.length === 0) out.Cmd = image.Cmd ?? null;
    if (entrypoint === null) out.Entrypoint = image.Entrypoint ?? null;
  }
  if (!str(config, 'WorkingDir')) out.WorkingDir = image.WorkingDir ?? '';
  if (!str(config, 'User')) out.User = image.User ?? '';
  if (!str(config, 'StopSignal') && image.StopSignal) out.StopSignal = image.StopSignal;
  const labels = { ...(image.Labels ?? {}), ...(strMap(config, 'Labels') ?? {}) };
  out.Labels = labels;
  if (image.ExposedPorts || config.ExposedPorts) {
    out.ExposedPorts = { ...(image.ExposedPorts ?? {}), ...((config.ExposedPorts as Doc | undefined) ?? {}) };
  }
  const vols = { ...(image.Volumes ?? {}), ...((config.Volumes as Doc | undefined | null) ?? {}) };
  out.Volumes = Object.keys(vols).length > 0 ? vols : null;
  const health = mergeHealthcheck(config, (image.Healthcheck as Doc | null | undefined) ?? undefined);
  if (health) out.Healthcheck = health;
  return out;
}

/** The process args: ENTRYPOINT + CMD, with `--entrypoint ""` meaning no entrypoint. */
export function processArgs(config: Doc): string[] {
  let entrypoint = strList(config, 'Entrypoint') ?? [];
  if (entrypoint.length === 1 && entrypoint[0] === '') entrypoint = [];
  return [...entrypoint, ...(strList(config, 'Cmd') ?? [])];
}

/** Config with Docker's defaults for the fields `inspect` always shows. */
export function normalizeConfig(config: Doc, id: string): Doc {
  const out: Doc = {
    Hostname: '',
    Domainname: '',
    User: '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: null,
    Cmd: null,
    Image: '',
    Volumes: null,
    WorkingDir: '',
    Entrypoint: null,
    OnBuild: null,
    Labels: {},
    ...config,
  };
  if (!out.Hostname) out.Hostname = id.slice(0, 12);
  // Post-1.41 and dockerode-only keys are kept out of the record.
  delete out.MacAddress;
  if (out.ExposedPorts === undefined || out.ExposedPorts === null) delete out.ExposedPorts;
  if (out.StopTimeout === null) delete out.StopTimeout;
  if (out.StopSignal === '' || out.StopSignal === null) delete out.StopSignal;
  return out;
}

// ------------------------------------------------------------------ HostConfig

const HOST_CONFIG_DEFAULTS = (): Doc => ({
  Binds: null,
  ContainerIDFile: '',
  LogConfig: { Type: 'json-file', Config: {} },
  NetworkMode: 'default',
  PortBindings: {},
  RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
  AutoRemove: false,
  VolumeDriver: '',
  VolumesFrom: null,
  CapAdd: null,
  CapDrop: null,
  CgroupnsMode: 'host',
  Dns: [],
  DnsOptions: [],
  DnsSearch: [],
  ExtraHosts: null,
  GroupAdd: null,
  IpcMode: 'private',
  Cgroup: '',
  Links: null,
  OomScoreAdj: 0,
  PidMode: '',
  Privileged: false,
  PublishAllPorts: false,
  ReadonlyRootfs: false,
  SecurityOpt: null,
  UTSMode: '',
  UsernsMode: '',
  ShmSize: DEFAULT_SHM,
  Runtime: 'runc',
  ConsoleSize: [0, 0],
  Isolation: '',
  CpuShares: 0,
  Memory: 0,
  NanoCpus: 0,
  CgroupParent: '',
  BlkioWeight: 0,
  BlkioWeightDevice: [],
  BlkioDeviceReadBps: null,
  BlkioDeviceWriteBps: null,
  BlkioDeviceReadIOps: null,
  BlkioDeviceWriteIOps: null,
  CpuPeriod: 0,
  CpuQuota: 0,
  CpuRealtimePeriod: 0,
  CpuRealtimeRuntime: 0,
  CpusetCpus: '',
  CpusetMems: '',
  Devices: [],
  DeviceCgroupRules: null,
  DeviceRequests: null,
  KernelMemory: 0,
  KernelMemoryTCP: 0,
  MemoryReservation: 0,
  MemorySwap: 0,
  MemorySwappiness: null,
  OomKillDisable: false,
  PidsLimit: null,
  Ulimits: null,
  CpuCount: 0,
  CpuPercent: 0,
  IOMaximumIOps: 0,
  IOMaximumBandwidth: 0,
});

export interface RestartPolicy {
  name: RestartPolicyName;
  maxRetries: number;
}

export function restartPolicyOf(hc: Doc): RestartPolicy {
  const rp = sub(hc, 'RestartPolicy', 'HostConfig.RestartPolicy');
  const name = str(rp, 'Name', 'RestartPolicy.Name') || 'no';
  const maxRetries = num(rp, 'MaximumRetryCount', 'RestartPolicy.MaximumRetryCount');
  return { name: name as RestartPolicyName, maxRetries };
}

/** Docker's restart-policy checks (moby runconfig + daemon/container.go). */
export function validateRestartPolicy(hc: Doc): void {
  const rp = sub(hc, 'RestartPolicy', 'HostConfig.RestartPolicy');
  const name = str(rp, 'Name', 'RestartPolicy.Name');
  const max = num(rp, 'MaximumRetryCount', 'RestartPolicy.MaximumRetryCount');
  if (name !== '' && !(RESTART_POLICIES as readonly string[]).includes(name)) {
    throw badRequest(
      `invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`,
    );
  }
  if (max < 0) throw badRequest('invalid restart policy: maximum retry count cannot be negative');
  if (max > 0 && name !== 'on-failure') {
    throw badRequest(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  }
  if (bool(hc, 'AutoRemove') && name !== '' && name !== 'no') {
    throw badRequest(`can't create 'AutoRemove' container with restart policy`);
  }
}

const CPUSET_RE = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

function cpusetMembers(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a!; i <= (b ?? a!); i++) out.push(i);
  }
  return out;
}

/** Resource checks with the daemon's messages (moby daemon/daemon_unix.go verifyPlatformContainerResources). */
export function validateResources(hc: Doc, update = false): void {
  const memory = num(hc, 'Memory', 'HostConfig.Memory');
  const swap = num(hc, 'MemorySwap', 'HostConfig.MemorySwap');
  const reservation = num(hc, 'MemoryReservation', 'HostConfig.MemoryReservation');
  if (memory !== 0 && memory < MIN_MEMORY) throw badRequest('Minimum memory limit allowed is 6MB');
  if (!update && memory === 0 && swap > 0) {
    throw badRequest('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (memory > 0 && swap > 0 && swap < memory) {
    throw badRequest('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (reservation !== 0 && reservation < MIN_MEMORY)
    throw badRequest('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) {
    throw badRequest('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  // Docker's sysinfo.NumCPU(): the CPUs this process may run on (sched_getaffinity); one system
  // call, where os.cpus() parses /proc/cpuinfo and /proc/stat at every create.
  const ncpu = os.availableParallelism();
  const nano = num(hc, 'NanoCpus', 'HostConfig.NanoCpus');
  const quota = num(hc, 'CpuQuota', 'HostConfig.CpuQuota');
  const period = num(hc, 'CpuPeriod', 'HostConfig.CpuPeriod');
  if (nano < 0 || nano > ncpu * 1e9) {
    throw badRequest(`Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  }
  if (nano > 0 && quota > 0)
    throw badRequest('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano > 0 && period > 0)
    throw badRequest('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (period !== 0 && (period < 1000 || period > 1000000)) {
    throw badRequest('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (quota > 0 && quota < 1000) throw badRequest('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  const shares = num(hc, 'CpuShares', 'HostConfig.CpuShares');
  if (shares < 0) throw badRequest(`invalid CPU shares: ${shares}`);
  for (const [key, label] of [
    ['CpusetCpus', 'cpus'],
    ['CpusetMems', 'mems'],
  ] as const) {
    const v = str(hc, key, `HostConfig.${key}`);
    if (!v) continue;
    if (!CPUSET_RE.test(v)) throw badRequest(`Invalid value ${v} for cpuset ${label}`);
    if (key === 'CpusetCpus' && cpusetMembers(v).some((c) => c >= ncpu)) {
      throw badRequest(`Requested CPUs are not available - requested ${v}, available: 0-${ncpu - 1}`);
    }
    if (key === 'CpusetMems' && cpusetMembers(v).some((c) => c > 0)) {
      throw badRequest(`Requested memory nodes are not available - requested ${v}, available: 0`);
    }
  }
  const weight = num(hc, 'BlkioWeight', 'HostConfig.BlkioWeight');
  if (weight > 0 && (weight < 10 || weight > 1000))
    throw badRequest('Range of blkio weight is from 10 to 1000');
  if (!update) {
    const oom = num(hc, 'OomScoreAdj', 'HostConfig.OomScoreAdj');
    if (oom < -1000 || oom > 1000)
      throw badRequest(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);
    if (num(hc, 'ShmSize', 'HostConfig.ShmSize') < 0) throw badRequest('SHM size can not be less than 0');
  }
  for (const key of [
    'BlkioDeviceReadBps',
    'BlkioDeviceWriteBps',
    'BlkioDeviceReadIOps',
    'BlkioDeviceWriteIOps',
  ]) {
    throttles(hc, key);
  }
}

function throttles(hc: Doc, key: string): DeviceThrottle[] {
  return list(hc, key, `HostConfig.${key}`).map((t) => {
    const path = str(t, 'Path', `HostConfig.${key}.Path`);
    const rate = num(t, 'Rate', `HostConfig.${key}.Rate`);
    if (!path.startsWith('/'))
      throw badRequest(`invalid device path ${JSON.stringify(path)} in HostConfig.${key}`);
    return { path, rate };
  });
}

/** Checks the HostConfig fields the engine acts on (types and values). */
export function validateHostConfig(hc: Doc): void {
  validateResources(hc);
  validateRestartPolicy(hc);
  for (const k of [
    'CapAdd',
    'CapDrop',
    'SecurityOpt',
    'Dns',
    'DnsSearch',
    'DnsOptions',
    'ExtraHosts',
    'GroupAdd',
  ]) {
    strList(hc, k, `HostConfig.${k}`);
  }
  for (const k of ['Privileged', 'ReadonlyRootfs', 'AutoRemove', 'Init', 'OomKillDisable'])
    bool(hc, k, `HostConfig.${k}`);
  str(hc, 'NetworkMode', 'HostConfig.NetworkMode');
  strMap(hc, 'Sysctls', 'HostConfig.Sysctls');
  ulimitsOf(hc);
  devicesOf(hc);
  const log = sub(hc, 'LogConfig', 'HostConfig.LogConfig');
  const driver = str(log, 'Type', 'LogConfig.Type');
  if (!['', 'json-file', 'local', 'k8s-file', 'none'].includes(driver)) {
    throw badRequest(`failed to create logger: logger: no log driver named '${driver}' is registered`);
  }
  logOptions(hc);
  for (const so of strList(hc, 'SecurityOpt') ?? []) {
    const [k] = so.split(/[=:]/, 1);
    if (!['no-new-privileges', 'seccomp', 'apparmor', 'label'].includes(k ?? '')) {
      throw badRequest(`invalid --security-opt 2: "${so}"`);
    }
  }
}

/** `container:NAME` → NAME; undefined for any other mode. */
export function joinedContainer(mode: string): string | undefined {
  return mode.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

/** --ipc, --pid and --uts as Docker accepts them, with its messages. */
export function validateNamespaceModes(config: Doc, hc: Doc): void {
  const ipc = str(hc, 'IpcMode', 'HostConfig.IpcMode');
  if (!['', 'none', 'private', 'shareable', 'host'].includes(ipc) && !joinedContainer(ipc)) {
    throw badRequest(`invalid IPC mode: ${ipc}`);
  }
  const pid = str(hc, 'PidMode', 'HostConfig.PidMode');
  if (!['', 'host'].includes(pid) && !joinedContainer(pid)) throw badRequest(`invalid PID mode: ${pid}`);
  const uts = str(hc, 'UTSMode', 'HostConfig.UTSMode');
  if (!['', 'host'].includes(uts)) throw badRequest(`invalid UTS mode: ${uts}`);
  if (uts === 'host' && str(config, 'Hostname')) {
    throw badRequest('conflicting options: hostname and the UTS mode');
  }
}

/** HostConfig with Docker's defaults applied (stored, and echoed by inspect). */
export function normalizeHostConfig(hc: Doc): Doc {
  const out: Doc = { ...HOST_CONFIG_DEFAULTS(), ...hc };
  for (const [k, v] of Object.entries(HOST_CONFIG_DEFAULTS())) if (out[k] === undefined) out[k] = v;
  const log = sub(out, 'LogConfig');
  out.LogConfig = { Type: str(log, 'Type') || 'json-file', Config: sub(log, 'Config') };
  const rp = restartPolicyOf(out);
  out.RestartPolicy = { Name: rp.name || 'no', MaximumRetryCount: rp.maxRetries };
  if (!out.NetworkMode) out.NetworkMode = 'default';
  if (!out.IpcMode) out.IpcMode = 'private';
  if (!out.CgroupnsMode) out.CgroupnsMode = 'host';
  if (!out.ShmSize) out.ShmSize = DEFAULT_SHM;
  if (!out.Runtime) out.Runtime = 'runc';
  const memory = num(out, 'Memory');
  if (memory > 0 && num(out, 'MemorySwap') === 0) out.MemorySwap = memory * 2;
  const pids = out.PidsLimit;
  if (typeof pids === 'number' && pids <= 0) out.PidsLimit = null;
  if (out.MemorySwappiness === -1) out.MemorySwappiness = null;
  // Docker records the masked and read-only /proc paths it applies (none when privileged).
  if (!bool(out, 'Privileged')) {
    if (!Array.isArray(out.MaskedPaths)) out.MaskedPaths = [...DEFAULT_MASKED_PATHS];
    if (!Array.isArray(out.ReadonlyPaths)) out.ReadonlyPaths = [...DEFAULT_READONLY_PATHS];
  }
  delete out.Annotations;
  return out;
}

export function ulimitsOf(hc: Doc): Ulimit[] {
  return list(hc, 'Ulimits', 'HostConfig.Ulimits').map((u) => {
    const name = str(u, 'Name', 'Ulimits.Name');
    if (!name) throw badRequest('invalid ulimit: empty name in HostConfig.Ulimits');
    return { name, soft: num(u, 'Soft', 'Ulimits.Soft'), hard: num(u, 'Hard', 'Ulimits.Hard') };
  });
}

export function devicesOf(hc: Doc): DeviceMapping[] {
  return list(hc, 'Devices', 'HostConfig.Devices').map((d) => {
    const pathOnHost = str(d, 'PathOnHost', 'Devices.PathOnHost');
    if (!pathOnHost.startsWith('/')) throw badRequest(`invalid device path: '${pathOnHost}'`);
    return {
      pathOnHost,
      pathInContainer: str(d, 'PathInContainer', 'Devices.PathInContainer') || pathOnHost,
      permissions: str(d, 'CgroupPermissions', 'Devices.CgroupPermissions') || 'rwm',
    };
  });
}

export function resourcesOf(hc: Doc): Resources {
  const pids = hc.PidsLimit;
  return {
    memory: num(hc, 'Memory'),
    memorySwap: num(hc, 'MemorySwap'),
    memoryReservation: num(hc, 'MemoryReservation'),
    oomKillDisable: bool(hc, 'OomKillDisable'),
    cpuShares: num(hc, 'CpuShares'),
    cpuQuota: num(hc, 'CpuQuota'),
    cpuPeriod: num(hc, 'CpuPeriod'),
    nanoCpus: num(hc, 'NanoCpus'),
    cpusetCpus: str(hc, 'CpusetCpus'),
    cpusetMems: str(hc, 'CpusetMems'),
    blkioWeight: num(hc, 'BlkioWeight'),
    blkioDeviceReadBps: throttles(hc, 'BlkioDeviceReadBps'),
    blkioDeviceWriteBps: throttles(hc, 'BlkioDeviceWriteBps'),
    blkioDeviceReadIOps: throttles(hc, 'BlkioDeviceReadIOps'),
    blkioDeviceWriteIOps: throttles(hc, 'BlkioDeviceWriteIOps'),
    pidsLimit: typeof pids === 'number' ? pids : 0,
  };
}

/** `--log-opt max-size=10m max-file=3` (json-file's decimal units). */
export function logOptions(hc: Doc): { maxSize?: number; maxFiles?: number } {
  const cfg = strMap(sub(hc, 'LogConfig'), 'Config', 'LogConfig.Config') ?? {};
  const out: { maxSize?: number; maxFiles?: number } = {};
  for (const [k, v] of Object.entries(cfg)) {
    if (k === 'max-size') {
      const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(v);
      if (!m) throw badRequest(`invalid value for log-opt max-size: '${v}'`);
      const pow = ' kmgtp'.indexOf((m[2] || ' ').toLowerCase());
      out.maxSize = Math.trunc(Number(m[1]) * 1000 ** Math.max(0, pow));
      if (out.maxSize <= 0) throw badRequest(`invalid value for log-opt max-size: '${v}'`);
    } else if (k === 'max-file') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw badRequest(`invalid value for log-opt max-file: '${v}'`);
      out.maxFiles = n;
    } else if (!['compress', 'labels', 'env', 'env-regex', 'tag', 'mode', 'max-buffer-size'].includes(k)) {
      throw badRequest(`unknown log opt '${k}' for json-file log driver`);
    }
  }
  if (out.maxFiles !== undefined && out.maxFiles > 1 && out.maxSize === undefined) {
    throw badRequest('max-file cannot be set if max-size is not set');
  }
  return out;
}

/** `--security-opt` values the spec builder acts on. */
export function securityOptions(hc: Doc): { noNewPrivileges: boolean; seccompUnconfined: boolean } {
  let noNewPrivileges = false;
  let seccompUnconfined = false;
  for (const so of strList(hc, 'SecurityOpt') ?? []) {
    const [k, v = 'true'] = so.split(/[=:]/, 2) as [string, string | undefined];
    if (k === 'no-new-privileges') noNewPrivileges = v !== 'false';
    if (k === 'seccomp' && v === 'unconfined') seccompUnconfined = true;
  }
  return { noNewPrivileges, seccompUnconfined };
}
