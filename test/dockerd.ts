/**
 * A real dockerd for comparison (tests that check interchange with Docker, and the bench):
 * startDockerd() makes a temp dir and a network namespace, runs the Debian docker.io
 * `dockerd` in that namespace with its own data root, exec root, pidfile, socket, trust key,
 * config file and cgroup parent, and waits until it answers /_ping; stop() removes its
 * containers, stops it (and the containerd it started), then removes every mount, process,
 * cgroup, directory and the namespace it made. It never touches the default Docker socket.
 *
 * The namespace keeps its docker0 bridge and addresses away from the host's and from
 * berthd's; `--iptables=false` keeps it out of the host's firewall. `nsenter --net=` is
 * used, not `ip netns exec`, because the latter remounts /sys, which hides the cgroup
 * mounts, and dockerd then refuses to start.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  killProcessesNaming,
  listContainerIds,
  mountTmpfs,
  removeCgroups,
  unmountUnder,
  waitForPing,
} from './harness.js';

export const DOCKERD = '/usr/sbin/dockerd';

export interface Dockerd {
  dir: string;
  dataRoot: string;
  execRoot: string;
  socket: string;
  /** `unix://<socket>` */
  host: string;
  /** Environment for the docker CLI: DOCKER_HOST points here, DOCKER_CONFIG is private. */
  env: NodeJS.ProcessEnv;
  /** The network namespace dockerd runs in (a name under /run/netns). */
  netns: string;
  cgroupParent: string;
  /** dockerd's pid (nsenter execs it, so this is dockerd itself). */
  pid: number;
  /** Everything dockerd printed so far (for failure messages). */
  output(): string;
  /** Removes containers, stops dockerd and containerd, removes everything made. Idempotent. */
  stop(): Promise<void>;
}

/** True when the Debian docker.io daemon is installed (we never use an already running one). */
export function dockerdAvailable(): boolean {
  try {
    fs.accessSync(DOCKERD, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Directories dockerd 20.10 / containerd 1.6 create outside their roots whatever the flags.
const STRAY_DIRS = ['/run/docker/plugins', '/run/docker', '/run/containerd/s', '/run/containerd'];

function must(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
}

export async function startDockerd(opts: { execRootOnTmpfs?: boolean } = {}): Promise<Dockerd> {
  if (!dockerdAvailable()) throw new Error(`${DOCKERD} not found (apt-get install docker.io)`);
  const tag = randomBytes(3).toString('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `berth-dockerd-${tag}-`));
  const dataRoot = path.join(dir, 'data');
  const execRoot = path.join(dir, 'exec');
  const socket = path.join(dir, 'docker.sock');
  const pidfile = path.join(dir, 'docker.pid');
  const configFile = path.join(dir, 'daemon.json');
  const netns = `berth-dockerd-${tag}`;
  const cgroupParent = `/berth-dockerd-${tag}`;
  const strayBefore = new Set(STRAY_DIRS.filter((d) => fs.existsSync(d)));
  // Our own config, so that a user's /etc/docker/daemon.json cannot change what we measure; the
  // key path keeps dockerd 20.10 from writing /etc/docker/key.json (there is no flag for it).
  fs.writeFileSync(configFile, `${JSON.stringify({ 'deprecated-key-path': path.join(dir, 'key.json') })}\n`);

  let log = '';
  let child: ChildProcess | undefined;
  let netnsMade = false;
  let stopped: Promise<void> | undefined;

  const teardown = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(dir, 'cli') };
      const list = listContainerIds(env);
      if (list.length > 0) spawnSync('docker', ['rm', '-f', '-v', ...list], { env, timeout: 120_000 });
      const c = child;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    // containerd, shims and container processes whose command line names our directory.
    killProcessesNaming(dir, (pid) => pid === process.pid);
    unmountUnder(dir);
    if (netnsMade) spawnSync('ip', ['netns', 'del', netns]);
    removeCgroups(cgroupParent);
    fs.rmSync(dir, { recursive: true, force: true });
    // Only when no other dockerd or containerd runs: those may be using the same directories.
    const others = fs.readdirSync('/proc').some((p) => {
      try {
        return (
          /^\d+$/.test(p) && /^(dockerd|containerd)$/.test(fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim())
        );
      } catch {
        return false;
      }
    });
    for (const d of others ? [] : STRAY_DIRS) {
      if (strayBefore.has(d)) continue;
      try {
        fs.rmdirSync(d);
      } catch {
        // not empty (someone else's) or not there
      }
    }
  };

  const stop = () => {
    stopped ??= teardown();
    return stopped;
  };

  try {
    if (opts.execRootOnTmpfs) mountTmpfs(execRoot);
    must('ip', ['netns', 'add', netns]);
    netnsMade = true;
    must('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    const args = [
      `--net=/run/netns/${netns}`,
      DOCKERD,
      '--data-root',
      dataRoot,
      '--exec-root',
      execRoot,
      '-H',
      `unix://${socket}`,
      '--pidfile',
      pidfile,
      '--config-file',
      configFile,
      '--cgroup-parent',
      cgroupParent,
      '--iptables=false',
      '--ip6tables=false',
    ];
    // Own process group: a Ctrl-C aimed at the caller must not stop dockerd before stop() removes
    // its containers.
    const c = spawn('nsenter', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child = c;
    c.stdout?.on('data', (d) => (log += d));
    c.stderr?.on('data', (d) => (log += d));
    await waitForPing('dockerd', c, socket, () => log, { timeoutMs: 60_000, intervalMs: 100 });
    return {
      dir,
      dataRoot,
      execRoot,
      socket,
      host: `unix://${socket}`,
      env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(dir, 'cli') },
      netns,
      cgroupParent,
      pid: c.pid ?? 0,
      output: () => log,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
