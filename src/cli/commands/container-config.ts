// Turns `run`/`create` flags into the body of POST /containers/create — Config, HostConfig and
// NetworkingConfig — shaped like the one the docker CLI sends (docker-api.md §6).
import fs from 'node:fs';
import { parseRamInBytes } from '../../util/units.js';
import type { Flags } from '../flags.js';
import { CliError } from './types.js';
import { openErrorText } from './util.js';

export interface CreateRequest {
  name?: string;
  platform?: string;
  body: {
    [key: string]: unknown;
    HostConfig: Record<string, unknown>;
    NetworkingConfig: { EndpointsConfig: Record<string, unknown> };
  };
  /** What the CLI attaches for an interactive run. */
  attach: { stdin: boolean; stdout: boolean; stderr: boolean };
  tty: boolean;
  openStdin: boolean;
}

function bad(msg: string): CliError {
  return new CliError(msg, 125);
}

/** A file the user named in a flag (--env-file, --label-file); exit 125 when it cannot be read. */
function readFlagFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw bad(openErrorText(file, e));
  }
}

/** `KEY=VAL`, or `KEY` taken from berth's own environment (kept bare when unset). */
export function envValue(v: string, env: NodeJS.ProcessEnv): string {
  if (v.includes('=')) {
    if (v.startsWith('=')) throw bad(`invalid environment variable: ${v}`);
    return v;
  }
  const found = env[v];
  return found !== undefined ? `${v}=${found}` : v;
}

/** docker's env files: KEY=VAL lines, # comments, KEY alone taken from the environment if set. */
export function parseEnvFile(file: string, env: NodeJS.ProcessEnv): string[] {
  const text = readFlagFile(file);
  const out: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/^\s+/, '').replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq >= 0 ? line.slice(0, eq) : line.trimEnd();
    if (key === '' || /\s/.test(key))
      throw bad(`variable '${key}' contains whitespaces (line ${i + 1} of ${file})`);
    if (eq >= 0) out.push(line);
    else if (env[key] !== undefined) out.push(`${key}=${env[key]}`);
  }
  return out;
}

function parseLabelFile(file: string): string[] {
  return readFlagFile(file)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

function toMap(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq < 0) out[item] = '';
    else out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

interface PortBinding {
  HostIp: string;
  HostPort: string;
}

function splitRange(s: string, what: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw bad(`invalid ${what}: ${s}`);
  const a = Number(m[1]);
  const b = m[2] !== undefined ? Number(m[2]) : a;
  if (a > 65535 || b > 65535 || b < a) throw bad(`invalid ${what}: ${s}`);
  return [a, b];
}

/** `-p [ip:][hostPort:]containerPort[/proto]`, ranges allowed, like nat.ParsePortSpecs. */
export function parsePublish(
  specs: string[],
  exposed: Record<string, Record<string, never>>,
  bindings: Record<string, PortBinding[]>,
): void {
  for (const spec of specs) {
    let rest = spec;
    let proto = 'tcp';
    const slash = rest.lastIndexOf('/');
    if (slash >= 0) {
      proto = rest.slice(slash + 1).toLowerCase();
      rest = rest.slice(0, slash);
      if (!['tcp', 'udp', 'sctp'].includes(proto)) throw bad(`invalid proto: ${proto}`);
    }
    let ip = '';
    let hostPart = '';
    let ctrPart = rest;
    const bracket = /^\[([^\]]+)\]:(.*)$/.exec(rest);
    if (bracket) {
      ip = bracket[1] ?? '';
      const parts = (bracket[2] ?? '').split(':');
      if (parts.length !== 2) throw bad(`invalid port format: ${spec}`);
      [hostPart, ctrPart] = parts as [string, string];
    } else {
      const parts = rest.split(':');
      if (parts.length === 2) [hostPart, ctrPart] = parts as [string, string];
      else if (parts.length === 3) [ip, hostPart, ctrPart] = parts as [string, string, string];
      else if (parts.length > 3) throw bad(`invalid port format: ${spec}`);
    }
    if (ctrPart === '') throw bad(`no port specified: ${spec}<empty>`);
    const [c0, c1] = splitRange(ctrPart, 'containerPort');
    let h0 = 0;
    let h1 = 0;
    if (hostPart !== '') {
      [h0, h1] = splitRange(hostPart, 'hostPort');
      if (h1 - h0 !== c1 - c0 && h0 !== h1)
        throw bad(`invalid ranges specified for container and host Ports: ${ctrPart} and ${hostPart}`);
    }
    for (let i = 0; i <= c1 - c0; i++) {
      const key = `${c0 + i}/${proto}`;
      exposed[key] = {};
      let hostPort = '';
      if (hostPart !== '') hostPort = h0 === h1 && c1 !== c0 ? `${h0}-${h1}` : String(h0 + i);
      const list = bindings[key] ?? [];
      list.push({ HostIp: ip, HostPort: hostPort });
      bindings[key] = list;
    }
  }
}

function parseExpose(specs: string[], exposed: Record<string, Record<string, never>>): void {
  for (const spec of specs) {
    const [port, proto = 'tcp'] = spec.split('/') as [string, string?];
    const [a, b] = splitRange(port, 'range format for --expose');
    for (let p = a; p <= b; p++) exposed[`${p}/${proto}`] = {};
  }
}

/** `--mount type=bind,source=/a,target=/b,readonly` → a Mount object. */
export function parseMount(spec: string): Record<string, unknown> {
  const m: Record<string, unknown> = { Type: 'volume' };
  const bind: Record<string, unknown> = {};
  const vol: Record<string, unknown> = {};
  const tmpfs: Record<string, unknown> = {};
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq >= 0 ? field.slice(0, eq) : field).trim().toLowerCase();
    const value = eq >= 0 ? field.slice(eq + 1) : '';
    const flag = () => (eq < 0 ? true : value === 'true' || value === '1');
    switch (key) {
      case 'type':
        m.Type = value;
        break;
      case 'source':
      case 'src':
        m.Source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = value;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = flag();
        break;
      case 'consistency':
        m.Consistency = value;
        break;
      case 'bind-propagation':
        bind.Propagation = value;
        break;
      case 'bind-nonrecursive':
        bind.NonRecursive = flag();
        break;
      case 'volume-nocopy':
        vol.NoCopy = flag();
        break;
      case 'volume-driver':
        vol.DriverConfig = { Name: value };
        break;
      case 'volume-label': {
        const labels = (vol.Labels as Record<string, string>) ?? {};
        const [k, v = ''] = value.split('=') as [string, string?];
        labels[k] = v;
        vol.Labels = labels;
        break;
      }
      case 'volume-subpath':
        vol.Subpath = value;
        break;
      case 'tmpfs-size':
        try {
          tmpfs.SizeBytes = parseRamInBytes(value);
        } catch (e) {
          throw bad(`invalid value for ${key}: ${(e as Error).message}`);
        }
        break;
      case 'tmpfs-mode':
        tmpfs.Mode = Number.parseInt(value, 8);
        break;
      default:
        throw bad(`invalid argument "${spec}" for "--mount" flag: unexpected key '${key}' in '${field}'`);
    }
  }
  if (!m.Target) throw bad(`invalid argument "${spec}" for "--mount" flag: target is required`);
  if (Object.keys(bind).length) m.BindOptions = bind;
  if (Object.keys(vol).length) m.VolumeOptions = vol;
  if (Object.keys(tmpfs).length) m.TmpfsOptions = tmpfs;
  return m;
}

/** `-v` spec: [src:]dst[:mode]; returns the bind string or the anonymous volume path. */
function splitVolume(spec: string): { bind?: string; anonymous?: string } {
  const parts = spec.split(':');
  if (parts.length === 1) return { anonymous: spec };
  if (parts.length === 2 && /^(ro|rw|z|Z)$/.test(parts[1] ?? '') === false) return { bind: spec };
  if (parts.length === 2) return { anonymous: parts[0] };
  return { bind: spec };
}

function parseUlimit(s: string): { Name: string; Soft: number; Hard: number } {
  const eq = s.indexOf('=');
  if (eq <= 0) throw bad(`invalid argument "${s}" for "--ulimit" flag: invalid ulimit argument: ${s}`);
  const name = s.slice(0, eq);
  const [soft, hard] = s.slice(eq + 1).split(':') as [string, string?];
  const num = (x: string) => {
    if (!/^-?\d+$/.test(x))
      throw bad(`invalid argument "${s}" for "--ulimit" flag: invalid ulimit soft value: ${x}`);
    return Number(x);
  };
  const so = num(soft);
  const ha = hard !== undefined ? num(hard) : so;
  if (so > ha)
    throw bad(
      `invalid argument "${s}" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: ${so} > ${ha}`,
    );
  return { Name: name, Soft: so, Hard: ha };
}

function parseDevice(s: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = s.split(':');
  const host = parts[0] ?? '';
  let ctr = host;
  let perms = 'rwm';
  if (parts.length === 2) {
    if (/^[rwm]+$/.test(parts[1] ?? '')) perms = parts[1] ?? 'rwm';
    else ctr = parts[1] ?? host;
  } else if (parts.length === 3) {
    ctr = parts[1] ?? host;
    perms = parts[2] ?? 'rwm';
  } else if (parts.length > 3) throw bad(`invalid device specification: ${s}`);
  return { PathOnHost: host, PathInContainer: ctr, CgroupPermissions: perms };
}

function parseThrottle(s: string, flag: string, iops: boolean): { Path: string; Rate: number } {
  const i = s.lastIndexOf(':');
  if (i <= 0) throw bad(`invalid argument "${s}" for "--${flag}" flag: bad format: ${s}`);
  const path = s.slice(0, i);
  const v = s.slice(i + 1);
  if (!path.startsWith('/dev/'))
    throw bad(`invalid argument "${s}" for "--${flag}" flag: bad format for path: ${path}`);
  let rate: number;
  if (iops) {
    if (!/^\d+$/.test(v))
      throw bad(
        `invalid argument "${s}" for "--${flag}" flag: invalid rate for device: ${s}. The correct format is <device-path>:<number>. Number must be a positive integer`,
      );
    rate = Number(v);
  } else {
    try {
      rate = parseRamInBytes(v);
    } catch {
      throw bad(
        `invalid argument "${s}" for "--${flag}" flag: invalid rate for device: ${s}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`,
      );
    }
  }
  return { Path: path, Rate: rate };
}

export function parseRestart(s: string): { Name: string; MaximumRetryCount: number } {
  if (s === '') return { Name: 'no', MaximumRetryCount: 0 };
  const [name, count] = s.split(':') as [string, string?];
  if (!['no', 'always', 'on-failure', 'unless-stopped'].includes(name)) {
    throw bad(`invalid restart policy format: ${s}`);
  }
  if (count !== undefined) {
    if (name !== 'on-failure')
      throw bad(`invalid restart policy format: maximum retry count can only be used with 'on-failure'`);
    if (!/^\d+$/.test(count))
      throw bad(`invalid restart policy format: maximum retry count must be an integer`);
  }
  return { Name: name, MaximumRetryCount: count ? Number(count) : 0 };
}

const nanos = (ms: number) => Math.round(ms * 1e6);

/** Resource fields shared by create and update. */
export function resources(f: Flags): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  const has = (n: string) => f.specs.some((s) => s.long === n);
  if (has('cpu-shares')) r.CpuShares = f.int('cpu-shares');
  if (has('memory')) r.Memory = f.bytes('memory');
  if (has('cpus')) {
    const cpus = f.float('cpus');
    r.NanoCpus = Math.round(cpus * 1e9);
  }
  if (has('cpu-period')) r.CpuPeriod = f.int('cpu-period');
  if (has('cpu-quota')) r.CpuQuota = f.int('cpu-quota');
  if (has('cpu-rt-period')) r.CpuRealtimePeriod = f.int('cpu-rt-period');
  if (has('cpu-rt-runtime')) r.CpuRealtimeRuntime = f.int('cpu-rt-runtime');
  if (has('cpuset-cpus')) r.CpusetCpus = f.string('cpuset-cpus');
  if (has('cpuset-mems')) r.CpusetMems = f.string('cpuset-mems');
  if (has('blkio-weight')) r.BlkioWeight = f.int('blkio-weight');
  if (has('memory-reservation')) r.MemoryReservation = f.bytes('memory-reservation');
  if (has('memory-swap')) r.MemorySwap = f.string('memory-swap') === '-1' ? -1 : f.bytes('memory-swap');
  if (has('kernel-memory')) r.KernelMemory = f.bytes('kernel-memory');
  if (has('pids-limit')) r.PidsLimit = f.changed('pids-limit') ? f.int('pids-limit') : null;
  return r;
}

export function buildCreateRequest(
  f: Flags,
  image: string,
  cmd: string[],
  env: NodeJS.ProcessEnv,
  forRun: boolean,
): CreateRequest {
  const attachList = f.list('attach').map((s) => s.toLowerCase());
  for (const a of attachList) {
    if (!['stdin', 'stdout', 'stderr'].includes(a))
      throw bad(
        `invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`,
      );
  }
  const openStdin = f.bool('interactive');
  const tty = f.bool('tty');
  let attachStdin = attachList.includes('stdin') || openStdin;
  let attachStdout = attachList.includes('stdout') || attachList.length === 0;
  let attachStderr = attachList.includes('stderr') || attachList.length === 0;
  const detach = forRun && f.bool('detach');
  if (detach) {
    if (attachList.length) throw bad('Conflicting options: -a and -d');
    attachStdin = false;
    attachStdout = false;
    attachStderr = false;
  }

  const envList = [
    ...f.list('env-file').flatMap((file) => parseEnvFile(file, env)),
    ...f.list('env').map((e) => envValue(e, env)),
  ];
  const labels = toMap([...f.list('label-file').flatMap(parseLabelFile), ...f.list('label')]);

  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, PortBinding[]> = {};
  parsePublish(f.list('publish'), exposed, bindings);
  parseExpose(f.list('expose'), exposed);

  const volumes: Record<string, Record<string, never>> = {};
  const binds: string[] = [];
  for (const v of f.list('volume')) {
    const s = splitVolume(v);
    if (s.bind) binds.push(s.bind);
    else if (s.anonymous) volumes[s.anonymous] = {};
  }

  const workdir = f.string('workdir');
  if (workdir && !workdir.startsWith('/'))
    throw bad(`the working directory '${workdir}' is invalid, it needs to be an absolute path`);

  let entrypoint: string[] | null = null;
  if (f.changed('entrypoint')) entrypoint = [f.string('entrypoint')];

  let healthcheck: Record<string, unknown> | null = null;
  const hcFlags = [
    'health-cmd',
    'health-interval',
    'health-timeout',
    'health-start-period',
    'health-start-interval',
    'health-retries',
  ];
  if (f.bool('no-healthcheck')) {
    if (hcFlags.some((h) => f.changed(h))) throw bad('--no-healthcheck conflicts with --health-* options');
    healthcheck = { Test: ['NONE'] };
  } else if (hcFlags.some((h) => f.changed(h))) {
    const test = f.changed('health-cmd') ? ['CMD-SHELL', f.string('health-cmd')] : null;
    for (const d of ['health-interval', 'health-timeout', 'health-start-period', 'health-start-interval']) {
      if (f.duration(d) < 0) throw bad(`--${d} cannot be negative`);
    }
    if (f.int('health-retries') < 0) throw bad('--health-retries cannot be negative');
    healthcheck = {
      Test: test,
      Interval: nanos(f.duration('health-interval')),
      Timeout: nanos(f.duration('health-timeout')),
      StartPeriod: nanos(f.duration('health-start-period')),
      StartInterval: nanos(f.duration('health-start-interval')),
      Retries: f.int('health-retries'),
    };
  }

  const securityOpt = f.list('security-opt').map((o) => {
    const m = /^seccomp[=:](.*)$/.exec(o);
    if (m && m[1] !== 'unconfined' && m[1] !== undefined) {
      try {
        return `seccomp=${JSON.stringify(JSON.parse(fs.readFileSync(m[1], 'utf8')))}`;
      } catch (e) {
        throw bad(`opening seccomp profile (${m[1]}) failed: ${(e as Error).message}`);
      }
    }
    return o;
  });

  const tmpfs: Record<string, string> = {};
  for (const t of f.list('tmpfs')) {
    const i = t.indexOf(':');
    tmpfs[i >= 0 ? t.slice(0, i) : t] = i >= 0 ? t.slice(i + 1) : '';
  }

  const network = f.string('network');
  const netMode = network || 'default';
  const endpoint: Record<string, unknown> = {};
  if (f.changed('ip') || f.changed('ip6'))
    endpoint.IPAMConfig = { IPv4Address: f.string('ip'), IPv6Address: f.string('ip6') };
  if (f.list('network-alias').length) endpoint.Aliases = f.list('network-alias');
  if (f.list('link-local-ip').length)
    endpoint.IPAMConfig = { ...(endpoint.IPAMConfig ?? {}), LinkLocalIPs: f.list('link-local-ip') };
  const endpoints: Record<string, unknown> = {};
  if (Object.keys(endpoint).length) {
    if (!network) throw bad('--network-alias and --ip need a user-defined network (--network)');
    endpoints[network] = endpoint;
  }

  const logOpts = toMap(f.list('log-opt'));
  const restart = parseRestart(f.string('restart'));
  const autoRemove = forRun && f.bool('rm');
  if (autoRemove && restart.Name !== 'no') throw bad('Conflicting options: --restart and --rm');

  const hostConfig: Record<string, unknown> = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: f.string('cidfile'),
    LogConfig: { Type: f.string('log-driver'), Config: logOpts },
    NetworkMode: netMode,
    PortBindings: bindings,
    RestartPolicy: restart,
    AutoRemove: autoRemove,
    VolumeDriver: f.string('volume-driver'),
    VolumesFrom: f.list('volumes-from').length ? f.list('volumes-from') : null,
    ConsoleSize: [0, 0],
    Annotations: f.list('annotation').length ? toMap(f.list('annotation')) : undefined,
    CapAdd: f.list('cap-add').length ? f.list('cap-add') : null,
    CapDrop: f.list('cap-drop').length ? f.list('cap-drop') : null,
    CgroupnsMode: f.string('cgroupns'),
    Dns: f.list('dns'),
    DnsOptions: f.list('dns-option'),
    DnsSearch: f.list('dns-search'),
    ExtraHosts: f.list('add-host').length ? f.list('add-host') : null,
    GroupAdd: f.list('group-add').length ? f.list('group-add') : null,
    IpcMode: f.string('ipc'),
    Cgroup: '',
    Links: f.list('link').length ? f.list('link') : null,
    OomScoreAdj: f.int('oom-score-adj'),
    PidMode: f.string('pid'),
    Privileged: f.bool('privileged'),
    PublishAllPorts: f.bool('publish-all'),
    ReadonlyRootfs: f.bool('read-only'),
    SecurityOpt: securityOpt.length ? securityOpt : null,
    StorageOpt: f.list('storage-opt').length ? toMap(f.list('storage-opt')) : undefined,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    UTSMode: f.string('uts'),
    UsernsMode: f.string('userns'),
    ShmSize: f.bytes('shm-size'),
    Sysctls: f.list('sysctl').length ? toMap(f.list('sysctl')) : undefined,
    Runtime: f.string('runtime'),
    Isolation: f.string('isolation'),
    CgroupParent: f.string('cgroup-parent'),
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: f.list('device-read-bps').map((s) => parseThrottle(s, 'device-read-bps', false)),
    BlkioDeviceWriteBps: f.list('device-write-bps').map((s) => parseThrottle(s, 'device-write-bps', false)),
    BlkioDeviceReadIOps: f.list('device-read-iops').map((s) => parseThrottle(s, 'device-read-iops', true)),
    BlkioDeviceWriteIOps: f.list('device-write-iops').map((s) => parseThrottle(s, 'device-write-iops', true)),
    Devices: f.list('device').map(parseDevice),
    DeviceCgroupRules: f.list('device-cgroup-rule').length ? f.list('device-cgroup-rule') : null,
    MemorySwappiness: f.changed('memory-swappiness') ? f.int('memory-swappiness') : -1,
    OomKillDisable: f.bool('oom-kill-disable'),
    Ulimits: f.list('ulimit').map(parseUlimit),
    Mounts: f.list('mount').map(parseMount),
    Init: f.changed('init') ? f.bool('init') : null,
    ...resources(f),
  };
  if (hostConfig.PidsLimit === null) delete hostConfig.PidsLimit;
  if (!f.changed('pids-limit')) hostConfig.PidsLimit = 0;

  const body: CreateRequest['body'] = {
    Hostname: f.string('hostname'),
    Domainname: f.string('domainname'),
    User: f.string('user'),
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ExposedPorts: exposed,
    Tty: tty,
    OpenStdin: openStdin,
    StdinOnce: forRun && !detach && openStdin && attachStdin,
    Env: envList.length ? envList : null,
    Cmd: cmd.length ? cmd : null,
    Healthcheck: healthcheck ?? undefined,
    Image: image,
    Volumes: volumes,
    WorkingDir: workdir,
    Entrypoint: entrypoint,
    MacAddress: f.string('mac-address') || undefined,
    OnBuild: null,
    Labels: labels,
    StopSignal: f.string('stop-signal') || undefined,
    StopTimeout: f.changed('stop-timeout') ? f.int('stop-timeout') : undefined,
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: endpoints },
  };
  return {
    name: f.string('name') || undefined,
    platform: f.string('platform') || undefined,
    body,
    attach: { stdin: attachStdin, stdout: attachStdout, stderr: attachStderr },
    tty,
    openStdin,
  };
}
