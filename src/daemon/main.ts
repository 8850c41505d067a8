/** berthd's entry point: parse flags, start the daemon, stop cleanly on SIGTERM/SIGINT. */
import { ENGINE_VERSION } from '../api/server.js';
import { setLogLevel } from '../util/log.js';
import { DAEMON_USAGE, parseDaemonArgs } from './config.js';
import { startDaemon } from './daemon.js';

export async function main(argv: string[]): Promise<number> {
  let cfg: ReturnType<typeof parseDaemonArgs>;
  try {
    cfg = parseDaemonArgs(argv);
  } catch (e) {
    process.stderr.write(`berthd: ${(e as Error).message}\nSee 'berthd --help'.\n`);
    return 125;
  }
  if (cfg.help) {
    process.stdout.write(DAEMON_USAGE);
    return 0;
  }
  if (cfg.version) {
    process.stdout.write(`Berth version ${ENGINE_VERSION}\n`);
    return 0;
  }
  setLogLevel(cfg.logLevel);
  if (process.getuid?.() !== 0) {
    process.stderr.write('berthd: must run as root (it creates namespaces, mounts and cgroups)\n');
    return 1;
  }
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(cfg);
  } catch (e) {
    process.stderr.write(`berthd: failed to start: ${(e as Error).message}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`berthd: ${signal} received, shutting down (containers keep running)\n`);
      daemon.shutdown().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
