/**
 * Builds the OCI runtime config.json (runc 1.1, spec 1.0.2-dev) for one container with
 * Docker's security defaults (moby oci/defaults.go, daemon/oci_linux.go): 14 capabilities,
 * the default seccomp profile, masked and read-only /proc paths, a deny-all device cgroup
 * with Docker's allow-list, /dev tmpfs, read-only /sys, and `privileged` lifting all of it.
 * Host facts (NOFILE hard limit, cgroup layout, controller files) are read once and can be
 * passed in by tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { badRequest } from '../util/errors.js';
import { resolveCapabilities } from './capabilities.js';
import { CGROUP_ROOT, type CgroupLayout, detectCgroupLayout, v1ControllerDir } from './cgroups.js';
import type {
  DeviceMapping,
  DeviceThrottle,
  MountSpec,
  OciSpec,
  Resources,
  SpecInput,
  Ulimit,
} from './runtime.js';
import { defaultSeccomp } from './seccomp-profile.js';

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** Docker's --ulimit names (go-units ulimit.go). */
const RLIMITS: Record<string, string> = {
  as: 'RLIMIT_AS',
  core: 'RLIMIT_CORE',
  cpu: 'RLIMIT_CPU',
  data: 'RLIMIT_DATA',
  fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK',
  msgqueue: 'RLIMIT_MSGQUEUE',
  nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC',
  rss: 'RLIMIT_RSS',
  rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING',
  stack: 'RLIMIT_STACK',
};

// ---------------------------------------------------------------- host facts

export interface HostFacts {
  /** Hard RLIMIT_NOFILE of the daemon; runc cannot raise a container above it. */
  nofileHard: number;
  cgroupLayout: CgroupLayout;
  /** v1 without memory.memsw.*: swap limits are not supported (Docker drops them with a warning). */
  swapLimit: boolean;
  /** v1 without blkio.weight / blkio.bfq.weight: weights are not supported. */
  blkioWeight: boolean;
}

let cachedHost: HostFacts | undefined;

function readNofileHard(): number {
  try {
    const text = fs.readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
    if (m && m[2] !== 'unlimited') return Number(m[2]);
  } catch {
    // Not Linux procfs: use Docker's value.
  }
  return 1048576;
}

export function hostFacts(root = CGROUP_ROOT): HostFacts {
  if (cachedHost && root === CGROUP_ROOT) return cachedHost;
  const layout = detectCgroupLayout(root);
  const mem = layout === 'v1' ? v1ControllerDir(root, 'memory') : undefined;
  const blkio = layout === 'v1' ? v1ControllerDir(root, 'blkio') : undefined;
  const facts: HostFacts = {
    nofileHard: readNofileHard(),
    cgroupLayout: layout,
    swapLimit:
      layout === 'v2' || (mem !== undefined && fs.existsSync(path.join(mem, 'memory.memsw.limit_in_bytes'))),
    blkioWeight:
      layout === 'v2' ||
      (blkio !== undefined &&
        (fs.existsSync(path.join(blkio, 'blkio.weight')) ||
          fs.existsSync(path.join(blkio, 'blkio.bfq.weight')))),
  };
  if (root === CGROUP_ROOT) cachedHost = facts;
  return facts;
}

// ---------------------------------------------------------------- devices

interface LinuxDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

interface DeviceRule {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access: string;
}

/** Linux's dev_t encoding (glibc gnu_dev_major/minor). */
export function splitDev(rdev: number): { major: number; minor: number } {
  const d = BigInt(rdev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

function deviceFromStat(st: fs.Stats, containerPath: string): LinuxDevice | undefined {
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  return {
    path: containerPath,
    type,
    ...splitDev(st.rdev),
    fileMode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
  };
}

/** Directories runc skips when it copies the host's /dev for privileged containers. */
const SKIPPED_DEV_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

function hostDevices(dir = '/dev'): LinuxDevice[] {
  const out: LinuxDevice[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIPPED_DEV_DIRS.has(e.name)) out.push(...hostDevices(p));
      continue;
    }
    if (e.name === 'console' || !(e.isCharacterDevice() || e.isBlockDevice())) continue;
    try {
      const dev = deviceFromStat(fs.lstatSync(p), p);
      if (dev) out.push(dev);
    } catch {
      // Vanished while walking.
    }
  }
  return out;
}

/** A --device mapping: one device node, or every device below a directory (Docker recurses). */
function mappedDevices(m: DeviceMapping): { devices: LinuxDevice[]; rules: DeviceRule[] } {
  const fail = (why: string) =>
    badRequest(
      `error gathering device information while adding custom device ${JSON.stringify(m.pathOnHost)}: ${why}`,
    );
  if (!/^[rwm]+$/.test(m.permissions)) {
    throw badRequest(`invalid device permissions ${JSON.stringify(m.permissions)} for ${m.pathOnHost}`);
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(m.pathOnHost);
  } catch (e) {
    throw fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String(e));
  }
  const target = m.pathInContainer || m.pathOnHost;
  const devices: LinuxDevice[] = [];
  if (st.isDirectory()) {
    const walk = (hostDir: string, ctrDir: string) => {
      for (const e of fs.readdirSync(hostDir, { withFileTypes: true })) {
        const hp = path.join(hostDir, e.name);
        const cp = path.posix.join(ctrDir, e.name);
        if (e.isDirectory()) walk(hp, cp);
        else if (e.isCharacterDevice() || e.isBlockDevice()) {
          const dev = deviceFromStat(fs.statSync(hp), cp);
          if (dev) devices.push(dev);
        }
      }
    };
    walk(m.pathOnHost, target);
  } else {
    const dev = deviceFromStat(st, target);
    if (!dev) throw fail('not a device node');
    devices.push(dev);
  }
  const rules = devices.map(
    (d): DeviceRule => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: m.permissions }),
  );
  return { devices, rules };
}

/** Docker's allow-list after deny-all (moby defaults + runc's implicit ones, written out). */
function defaultDeviceRules(): DeviceRule[] {
  const c = (major: number | undefined, minor: number | undefined, access = 'rwm'): DeviceRule => {
    const r: DeviceRule = { allow: true, type: 'c', access };
    if (major !== undefined) r.major = major;
    if (minor !== undefined) r.minor = minor;
    return r;
  };
  return [
    { allow: false, access: 'rwm' },
    c(undefined, undefined, 'm'), // mknod of any char device
    { allow: true, type: 'b', access: 'm' }, // mknod of any block device
    c(1, 3), // null
    c(1, 5), // zero
    c(1, 7), // full
    c(1, 8), // random
    c(1, 9), // urandom
    c(5, 0), // tty
    c(5, 1), // console
    c(5, 2), // ptmx
    c(136, undefined), // pts/*
    // Docker's extra "deny c 10:229" (fuse) is left out: deny-all already covers it, and
    // on v1 runc refuses a deny that punches a hole in the `c *:* m` wildcard above.
  ];
}

function throttleDevices(list: DeviceThrottle[] | undefined, field: string) {
  return (list ?? []).map((t) => {
    let st: fs.Stats;
    try {
      st = fs.statSync(t.path);
    } catch {
      throw badRequest(`invalid ${field}: ${t.path}: no such device`);
    }
    if (!st.isBlockDevice()) throw badRequest(`invalid ${field}: ${t.path} is not a block device`);
    if (!Number.isFinite(t.rate) || t.rate < 0)
      throw badRequest(`invalid ${field} rate for ${t.path}: ${t.rate}`);
    return { ...splitDev(st.rdev), rate: t.rate };
  });
}

// ---------------------------------------------------------------- parts of the spec

function rlimits(ulimits: Ulimit[], nofileHard: number) {
  const out: { type: string; soft: number; hard: number }[] = [];
  for (const u of ulimits) {
    const type = RLIMITS[u.name];
    if (!type) throw badRequest(`invalid ulimit type: ${u.name}`);
    if (!Number.isInteger(u.soft) || !Number.isInteger(u.hard)) {
      throw badRequest(`invalid ulimit ${u.name}: soft and hard must be integers`);
    }
    if (u.soft > u.hard) {
      throw badRequest(`ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`);
    }
    out.push({ type, soft: u.soft, hard: u.hard });
  }
  if (!out.some((r) => r.type === 'RLIMIT_NOFILE')) {
    const hard = Math.min(1048576, nofileHard);
    out.push({ type: 'RLIMIT_NOFILE', soft: Math.min(1024, hard), hard });
  }
  return out;
}

/** /dev/shm as SpecInput.shm asks: a private tmpfs, nothing, or a bind of a shared one. */
function shmMount(input: SpecInput): MountSpec[] {
  if (input.shm === 'none') return [];
  if (input.shm) {
    return [
      { destination: '/dev/shm', type: 'bind', source: input.shm.bind, options: ['rbind', 'rprivate'] },
    ];
  }
  const size = input.shmSize > 0 ? input.shmSize : DEFAULT_SHM_SIZE;
  return [
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${size}`],
    },
  ];
}

function defaultMounts(input: SpecInput): MountSpec[] {
  const sysMode = input.privileged ? 'rw' : 'ro';
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', sysMode] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', sysMode],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    ...shmMount(input),
  ];
}

const depth = (p: string) => path.posix.normalize(p).split('/').filter(Boolean).length;

/** Defaults that a user mount does not replace, then user mounts parents-first (Docker sorts by depth). */
function mounts(input: SpecInput): MountSpec[] {
  const user = [...input.mounts];
  if (input.initPath) {
    user.push({ destination: '/dev/init', type: 'bind', source: input.initPath, options: ['bind', 'ro'] });
  }
  for (const m of user) {
    if (!m.destination.startsWith('/')) {
      throw badRequest(
        `invalid mount destination ${JSON.stringify(m.destination)}: must be an absolute path`,
      );
    }
  }
  const taken = new Set(user.map((m) => path.posix.normalize(m.destination)));
  const defaults = defaultMounts(input).filter((m) => !taken.has(m.destination));
  const sorted = user
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i)
    .map(({ m }) => ({ ...m, options: [...m.options] }));
  return [...defaults, ...sorted];
}

function namespaces(input: SpecInput, layout: CgroupLayout) {
  const ns: { type: string; path?: string }[] = [];
  // A namespace is new (no path), joined (a path), or the host's (left out).
  const add = (type: string, choice: string | undefined) => {
    if (choice !== 'host') ns.push(choice ? { type, path: choice } : { type });
  };
  add('pid', input.pidns);
  add('ipc', input.ipcns);
  add('uts', input.utsHost ? 'host' : undefined);
  ns.push({ type: 'mount' });
  add('network', input.netns);
  // Docker 20.10's default cgroupns: private on v2, host on v1.
  if (layout === 'v2') ns.push({ type: 'cgroup' });
  return ns;
}

function resources(r: Resources, host: HostFacts, deviceRules: DeviceRule[]): Record<string, unknown> {
  const out: Record<string, unknown> = { devices: deviceRules };

  const memory: Record<string, number | boolean> = {};
  const limit = r.memory ?? 0;
  if (limit > 0) {
    memory.limit = limit;
    if (host.swapLimit) {
      const swap = r.memorySwap ?? 0;
      if (swap === -1) memory.swap = -1;
      else if (swap === 0) memory.swap = 2 * limit;
      else if (swap > 0) {
        if (swap < limit) {
          throw badRequest('Minimum memoryswap limit should be larger than memory limit, see usage');
        }
        memory.swap = swap;
      }
    }
  }
  if (r.memoryReservation && r.memoryReservation > 0) memory.reservation = r.memoryReservation;
  if (r.oomKillDisable && host.cgroupLayout === 'v1') memory.disableOOMKiller = true;
  if (Object.keys(memory).length > 0) out.memory = memory;

  const cpu: Record<string, number | string> = {};
  if (r.cpuShares && r.cpuShares > 0) cpu.shares = r.cpuShares;
  if (r.nanoCpus && r.nanoCpus > 0) {
    cpu.period = 100000;
    cpu.quota = Math.round((r.nanoCpus * 100000) / 1e9);
  } else {
    if (r.cpuPeriod && r.cpuPeriod > 0) cpu.period = r.cpuPeriod;
    if (r.cpuQuota && r.cpuQuota !== 0) cpu.quota = r.cpuQuota;
  }
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;

  const blockIO: Record<string, unknown> = {};
  if (r.blkioWeight && r.blkioWeight > 0 && host.blkioWeight) {
    if (r.blkioWeight < 10 || r.blkioWeight > 1000) {
      throw badRequest(`invalid BlkioWeight ${r.blkioWeight}: range is from 10 to 1000`);
    }
    blockIO.weight = r.blkioWeight;
  }
  const throttles: [keyof Resources, string][] = [
    ['blkioDeviceReadBps', 'throttleReadBpsDevice'],
    ['blkioDeviceWriteBps', 'throttleWriteBpsDevice'],
    ['blkioDeviceReadIOps', 'throttleReadIOPSDevice'],
    ['blkioDeviceWriteIOps', 'throttleWriteIOPSDevice'],
  ];
  for (const [field, key] of throttles) {
    const list = throttleDevices(r[field] as DeviceThrottle[] | undefined, field);
    if (list.length > 0) blockIO[key] = list;
  }
  if (Object.keys(blockIO).length > 0) out.blockIO = blockIO;

  if (r.pidsLimit && r.pidsLimit > 0) out.pids = { limit: r.pidsLimit };
  return out;
}

// ---------------------------------------------------------------- the spec

/** The config.json for `input`; throws 400 for settings Docker would refuse. */
export function buildSpec(input: SpecInput, host: HostFacts = hostFacts()): OciSpec {
  const caps = resolveCapabilities(input.capAdd, input.capDrop, input.privileged);

  const devices: LinuxDevice[] = input.privileged ? hostDevices() : [];
  const deviceRules: DeviceRule[] = input.privileged
    ? [{ allow: true, access: 'rwm' }]
    : defaultDeviceRules();
  for (const m of input.devices) {
    const mapped = mappedDevices(m);
    for (const d of mapped.devices) {
      const i = devices.findIndex((x) => x.path === d.path);
      if (i >= 0) devices[i] = d;
      else devices.push(d);
    }
    if (!input.privileged) deviceRules.push(...mapped.rules);
  }

  const capabilities: Record<string, string[]> =
    input.uid === 0 ? { bounding: caps, effective: caps, permitted: caps } : { bounding: caps };

  const proc: Record<string, unknown> = {
    terminal: input.terminal,
    user: { uid: input.uid, gid: input.gid, additionalGids: [...input.additionalGids] },
    args: input.initPath ? ['/dev/init', '--', ...input.args] : [...input.args],
    env: [...input.env],
    cwd: input.cwd || '/',
    capabilities,
    rlimits: rlimits(input.ulimits, host.nofileHard),
    noNewPrivileges: input.noNewPrivileges,
  };
  if (input.oomScoreAdj !== undefined) proc.oomScoreAdj = input.oomScoreAdj;
  if (input.args.length === 0) throw badRequest('no command specified');
  if (!(proc.cwd as string).startsWith('/')) {
    throw badRequest(`the working directory '${input.cwd}' is invalid, it needs to be an absolute path`);
  }

  const linux: Record<string, unknown> = {
    namespaces: namespaces(input, host.cgroupLayout),
    cgroupsPath: input.cgroupsPath,
    resources: resources(input.resources, host, deviceRules),
    devices,
  };
  if (!input.privileged) {
    linux.maskedPaths = [...(input.maskedPaths ?? DEFAULT_MASKED_PATHS)];
    linux.readonlyPaths = [...(input.readonlyPaths ?? DEFAULT_READONLY_PATHS)];
    if (input.seccomp !== 'unconfined') linux.seccomp = defaultSeccomp(caps);
  }
  if (Object.keys(input.sysctls).length > 0) linux.sysctl = { ...input.sysctls };

  const spec: OciSpec = {
    ociVersion: '1.0.2-dev',
    process: proc,
    root: { path: input.rootfs, readonly: input.readonlyRootfs },
    mounts: mounts(input),
    linux,
  };
  // runc refuses a hostname without a UTS namespace of the container's own.
  if (!input.utsHost) spec.hostname = input.hostname;
  if (input.domainname && !input.utsHost) spec.domainname = input.domainname;
  return spec;
}
