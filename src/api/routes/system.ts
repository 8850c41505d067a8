/**
 * System endpoints: /_ping, /version, /info, /events and /system/df.
 * The numbers come from the parts through the small `SystemSources` callbacks, so this
 * file knows no part's internals.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { DaemonConfig } from '../../daemon/config.js';
import { type EngineEvent, type EventBus, eventMatches } from '../../daemon/events.js';
import { badRequest } from '../../util/errors.js';
import { API_VERSION, ENGINE_VERSION, MIN_API_VERSION } from '../server.js';
import type { Router } from '../types.js';

export interface ContainerCounts {
  total: number;
  running: number;
  paused: number;
  stopped: number;
}

export interface SystemSources {
  config: DaemonConfig;
  events: EventBus;
  daemonId: string;
  cgroupVersion: '1' | '2';
  runcVersion: string;
  imageCount(): number;
  containerCounts(): ContainerCounts;
  /** Parts fill the /system/df answer: LayersSize + Images, Containers, Volumes, BuildCache. */
  diskUsage(): Promise<Record<string, unknown>>;
}

function operatingSystem(): string {
  try {
    const text = fs.readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

const goArch = () => (os.arch() === 'x64' ? 'amd64' : os.arch());

/** Parses Docker's --since/--until values: unix seconds (with optional .nanos) or RFC3339. */
export function parseEventTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw badRequest(`invalid value for ${name}: '${value}'`);
  return t / 1000;
}

export function systemRoutes(router: Router, src: SystemSources): void {
  router.add('GET', '/_ping', (req, res) => {
    res.text(200, req.method === 'HEAD' ? '' : 'OK', 'text/plain; charset=utf-8');
  });
  router.add('HEAD', '/_ping', (_req, res) => {
    res.text(200, '', 'text/plain; charset=utf-8');
  });

  router.add('GET', '/version', (_req, res) => {
    const details = {
      Version: ENGINE_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: 'berth',
      GoVersion: `node${process.versions.node}`,
      Os: 'linux',
      Arch: goArch(),
      KernelVersion: os.release(),
      BuildTime: '',
    };
    res.json(200, {
      Platform: { Name: 'Berth Engine' },
      Components: [
        { Name: 'Engine', Version: ENGINE_VERSION, Details: { ...details, Experimental: 'false' } },
        { Name: 'runc', Version: src.runcVersion, Details: { GitCommit: '' } },
      ],
      ...details,
      Experimental: false,
    });
  });

  router.add('GET', '/info', (_req, res) => {
    const c = src.containerCounts();
    res.json(200, {
      ID: src.daemonId,
      Containers: c.total,
      ContainersRunning: c.running,
      ContainersPaused: c.paused,
      ContainersStopped: c.stopped,
      Images: src.imageCount(),
      Driver: 'overlay2',
      DriverStatus: [
        ['Backing Filesystem', 'extfs'],
        ['Supports d_type', 'true'],
        ['Native Overlay Diff', 'true'],
      ],
      Plugins: {
        Volume: ['local'],
        Network: ['bridge', 'host', 'null'],
        Authorization: null,
        Log: ['k8s-file', 'json-file'],
      },
      MemoryLimit: true,
      SwapLimit: true,
      KernelMemory: false,
      KernelMemoryTCP: false,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      BridgeNfIptables: true,
      BridgeNfIp6tables: true,
      Debug: src.config.logLevel === 'debug',
      NFd: 0,
      OomKillDisable: true,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: src.cgroupVersion,
      NEventsListener: 0,
      KernelVersion: os.release(),
      OperatingSystem: operatingSystem(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: os.arch() === 'x64' ? 'x86_64' : os.arch(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: {
        AllowNondistributableArtifactsCIDRs: [],
        AllowNondistributableArtifactsHostnames: [],
        InsecureRegistryCIDRs: ['127.0.0.0/8'],
        IndexConfigs: {
          'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true },
        },
        Mirrors: [],
      },
      NCPU: os.cpus().length,
      MemTotal: os.totalmem(),
      GenericResources: null,
      DockerRootDir: src.config.root,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: os.hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: ENGINE_VERSION,
      Runtimes: { runc: { path: src.config.runc } },
      DefaultRuntime: 'runc',
      Swarm: {
        NodeID: '',
        NodeAddr: '',
        LocalNodeState: 'inactive',
        ControlAvailable: false,
        Error: '',
        RemoteManagers: null,
      },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: src.config.initPath ?? 'tini',
      ContainerdCommit: { ID: '', Expected: '' },
      RuncCommit: { ID: src.runcVersion, Expected: src.runcVersion },
      InitCommit: { ID: '', Expected: '' },
      SecurityOptions: ['name=seccomp,profile=default'],
      Warnings: null,
    });
  });

  router.add('GET', '/events', (req, res) => {
    const filters = req.query.filters();
    const since = parseEventTime(req.query.get('since'), 'since');
    const until = parseEventTime(req.query.get('until'), 'until');
    const out = res.stream(200, 'application/json');
    const send = (e: EngineEvent) => out.write(`${JSON.stringify(e)}\n`);
    const nowSec = Date.now() / 1000;
    if (since !== undefined || until !== undefined) {
      for (const e of src.events.past(since ?? 0, until)) if (eventMatches(e, filters)) send(e);
    }
    if (until !== undefined && until <= nowSec) {
      out.end();
      return;
    }
    const unsubscribe = src.events.subscribe((e) => {
      if (until !== undefined && e.timeNano > until * 1e9) return;
      if (eventMatches(e, filters)) send(e);
    });
    let timer: NodeJS.Timeout | undefined;
    const stop = () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
    if (until !== undefined) {
      timer = setTimeout(
        () => {
          stop();
          out.end();
        },
        Math.max(0, (until - nowSec) * 1000),
      );
    }
    req.onClientGone(stop);
  });

  router.add('GET', '/system/df', async (_req, res) => {
    res.json(200, await src.diskUsage());
  });
}
