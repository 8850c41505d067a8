/**
 * berthd's options (DESIGN.md decision 5): every path and the default bridge are
 * parameters, so tests run many isolated daemons side by side.
 */
import type { LogLevel } from '../util/log.js';

export interface DaemonConfig {
  /** Persistent state: database, blobs, snapshots, container bundles and logs. */
  root: string;
  /** Runtime state that may vanish at reboot: runc state, exit files, sockets. */
  execRoot: string;
  /** Where the API listens: unix:///path or tcp://host:port. */
  hosts: string[];
  bridgeName: string;
  bridgeSubnet: string;
  logLevel: LogLevel;
  /** Path of the OCI runtime binary. */
  runc: string;
  conmon: string;
  /** Init binary for --init (tini or catatonit). */
  initPath: string | undefined;
  /** Prefix of the cgroups containers are placed in. */
  cgroupParent: string;
}

export const defaultConfig = (): DaemonConfig => ({
  root: '/var/lib/berth',
  execRoot: '/run/berth',
  hosts: ['unix:///run/berth/berth.sock'],
  bridgeName: 'berth0',
  bridgeSubnet: '172.30.0.1/16',
  logLevel: 'info',
  runc: 'runc',
  conmon: 'conmon',
  initPath: undefined,
  cgroupParent: '/berth',
});

export const DAEMON_USAGE = `Usage:  berthd [OPTIONS]

A self-sufficient runtime for containers, speaking the Docker Engine API

Options:
      --root string             Root directory of persistent Berth state (default "/var/lib/berth")
      --exec-root string        Root directory for execution state files (default "/run/berth")
  -H, --host list               Daemon socket(s) to connect to (default unix:///run/berth/berth.sock)
  -b, --bridge string           Name of the default bridge network (default "berth0")
      --bip string              Subnet (gateway address/prefix) of the default bridge (default "172.30.0.1/16")
      --runtime string          Path of the OCI runtime (default "runc")
      --conmon string           Path of conmon (default "conmon")
      --init-path string        Path to the init binary used by --init (default: tini or catatonit on PATH)
      --cgroup-parent string    Parent cgroup for all containers (default "/berth")
  -l, --log-level string        Set the logging level ("debug"|"info"|"warn"|"error") (default "info")
  -D, --debug                   Enable debug mode
  -v, --version                 Print version information and quit
      --help                    Print usage
`;

/** Parses berthd's command line; throws Error with a message naming the bad flag or value. */
export function parseDaemonArgs(argv: readonly string[]): DaemonConfig & { help: boolean; version: boolean } {
  const cfg = { ...defaultConfig(), help: false, version: false };
  let hostsGiven = false;
  const take = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`flag needs an argument: ${name}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = take(i, arg);
      i++;
      return v;
    };
    switch (arg) {
      case '--root':
      case '--data-root':
        cfg.root = value();
        break;
      case '--exec-root':
        cfg.execRoot = value();
        break;
      case '-H':
      case '--host': {
        const h = value();
        if (!hostsGiven) cfg.hosts = [];
        hostsGiven = true;
        if (!/^(unix:\/\/\/|tcp:\/\/)/.test(h)) {
          throw new Error(`invalid value "${h}" for flag --host: expected unix:///path or tcp://host:port`);
        }
        cfg.hosts.push(h);
        break;
      }
      case '-b':
      case '--bridge':
        cfg.bridgeName = value();
        break;
      case '--bip': {
        const v = value();
        if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(v))
          throw new Error(`invalid value "${v}" for flag --bip: expected CIDR like 172.30.0.1/16`);
        cfg.bridgeSubnet = v;
        break;
      }
      case '--runtime':
        cfg.runc = value();
        break;
      case '--conmon':
        cfg.conmon = value();
        break;
      case '--init-path':
        cfg.initPath = value();
        break;
      case '--cgroup-parent':
        cfg.cgroupParent = value();
        break;
      case '-l':
      case '--log-level': {
        const v = value();
        if (!['debug', 'info', 'warn', 'error'].includes(v))
          throw new Error(`invalid value "${v}" for flag --log-level`);
        cfg.logLevel = v as LogLevel;
        break;
      }
      case '-D':
      case '--debug':
        cfg.logLevel = 'debug';
        break;
      case '-v':
      case '--version':
        cfg.version = true;
        break;
      case '-h':
      case '--help':
        cfg.help = true;
        break;
      default:
        throw new Error(`unknown flag: ${arg}`);
    }
  }
  return cfg;
}
