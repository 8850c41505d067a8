/**
 * The composition root: opens every part on the configured roots, mounts their routes
 * on the API server, recovers containers left running by an earlier daemon, and shuts
 * down without stopping containers (live restore is the default, DESIGN.md decision 2).
 *
 * Start-up order follows the dependency order of DESIGN.md's parts table, bottom up:
 * store → content → snapshots → images → runtime → containers → API.
 */
import fs from 'node:fs';
import path from 'node:path';
import { containerInspectRoutes } from '../api/routes/container-inspect.js';
import { containerRoutes } from '../api/routes/containers.js';
import { imageRoutes } from '../api/routes/images.js';
import { systemRoutes } from '../api/routes/system.js';
import { ApiServer } from '../api/server.js';
import { ContainerCore } from '../containers/containers.js';
import { openContentStore } from '../content/content.js';
import { openImageService } from '../images/images.js';
import { hostFacts, openRuntime } from '../runtime/runtime.js';
import { openSnapshotStore } from '../snapshots/snapshots.js';
import { openStore, type Store } from '../store/store.js';
import { runTool } from '../util/exec.js';
import { mkdirp, writeFileAtomic } from '../util/fsutil.js';
import { newId } from '../util/ids.js';
import { logger } from '../util/log.js';
import type { DaemonConfig } from './config.js';
import { EventBus } from './events.js';

const log = logger('daemon');

export interface Daemon {
  config: DaemonConfig;
  /** Stops serving the API and closes the store; containers keep running. */
  shutdown(): Promise<void>;
}

function readOrCreateId(root: string): string {
  const file = path.join(root, 'engine-id');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    const id = newId()
      .slice(0, 32)
      .toUpperCase()
      .replace(/(.{4})(?!$)/g, '$1:');
    writeFileAtomic(file, id);
    return id;
  }
}

/** Refuses to start a second daemon on the same exec-root (its pid file names a live berthd). */
function lockExecRoot(execRoot: string): string {
  const pidFile = path.join(execRoot, 'berthd.pid');
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    if (pid > 0 && pid !== process.pid && fs.existsSync(`/proc/${pid}`)) {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes('berthd')) {
        throw new Error(`berthd is already running (pid ${pid}) with exec-root ${execRoot}`);
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  writeFileAtomic(pidFile, String(process.pid));
  return pidFile;
}

async function runcVersion(runc: string): Promise<string> {
  try {
    const { stdout } = await runTool(runc, ['--version']);
    return /runc version (\S+)/.exec(stdout)?.[1] ?? 'unknown';
  } catch {
    throw new Error(
      `the OCI runtime '${runc}' could not be run: install runc (apt-get install runc) or pass --runtime`,
    );
  }
}

export async function startDaemon(config: DaemonConfig): Promise<Daemon> {
  mkdirp(config.root, 0o711);
  mkdirp(config.execRoot, 0o711);
  const pidFile = lockExecRoot(config.execRoot);
  const store: Store = openStore(config.root);
  const events = new EventBus();
  const version = await runcVersion(config.runc);

  const content = openContentStore(config.root);
  const snapshots = openSnapshotStore(config.root, store);
  // Load/import spill large archive members here: on the root's disk, never a small tmpfs.
  const imageTmp = path.join(config.root, 'tmp');
  fs.rmSync(imageTmp, { recursive: true, force: true });
  mkdirp(imageTmp, 0o700);
  const images = openImageService({ store, content, snapshots, events, tmpDir: imageTmp });
  // A task's bundle (config.json, conmon's pid file, fifos and attach socket) is state of the
  // running task, not of the container: it lives under the exec root (a tmpfs on most hosts,
  // like containerd's /run/containerd), where creating those files costs no disk inode, and a
  // reboot clears it along with the tasks. What outlives the task (logs, /etc files, the
  // writable layer) stays in `<root>/containers/<id>`.
  const runtime = openRuntime({
    execRoot: config.execRoot,
    stateRoot: path.join(config.execRoot, 'tasks'),
    runc: config.runc,
    conmon: config.conmon,
  });
  const containers = new ContainerCore({
    root: config.root,
    store,
    runtime,
    snapshots,
    images,
    events,
    initPath: config.initPath,
    cgroupParent: config.cgroupParent,
  });
  images.setImageInUse((id) => containers.usersOfImage(id));

  const api = new ApiServer();
  systemRoutes(api, {
    config,
    events,
    daemonId: readOrCreateId(config.root),
    cgroupVersion: hostFacts().cgroupLayout === 'v2' ? '2' : '1',
    runcVersion: version,
    imageCount: () => images.count(),
    containerCounts: () => containers.counts(),
    diskUsage: async () => ({
      ...(await images.usage()),
      Containers: containers.listContainers({ all: true, limit: -1, size: true, filters: new Map() }),
      Volumes: [],
      BuildCache: [],
    }),
  });
  imageRoutes(api, images);
  containerRoutes(api, containers);
  const { execs } = containerInspectRoutes(api, { containers, runtime, snapshots, images, events });
  containers.setExecSessions(execs);
  // Live restore: adopt running tasks, record exits that happened while we were down.
  await containers.recover();
  // Layers a crash left without an image (a load cut short, an rmi -f half done) go now.
  void images
    .releaseUnusedLayers()
    .catch((e) => log.warn(`releasing unused layers: ${(e as Error).message}`));

  for (const host of config.hosts) await api.listen(host);
  log.info(`berthd ${process.pid} listening on ${config.hosts.join(', ')} (root ${config.root})`);

  return {
    config,
    async shutdown() {
      await api.close();
      await containers.settle();
      containers.close();
      runtime.close();
      store.close();
      fs.rmSync(pidFile, { force: true });
    },
  };
}
