/**
 * Keeps the kernel ready for cgroup attaches while runc starts tasks.
 *
 * Every write to a `cgroup.procs` file takes the kernel's global `cgroup_threadgroup_rwsem`
 * for writing. That lock is a per-CPU rwsem: when no writer has used it lately, the first
 * writer waits a whole RCU grace period to move readers onto the slow path (measured on the
 * 2-core VM: 16 ms, the largest single wait of a container start). For about a grace period
 * after a writer leaves, the next writer gets in at once. `runc create` and `runc exec` write
 * the new process's pid into the container's cgroup(s), so each cold start paid that wait.
 *
 * While a hold is taken, berthd writes its own pid into its own cgroup every few ms (a move
 * to where it already is: nothing changes but the lock's mode). The first such write pays
 * the grace period in a thread-pool thread, overlapping conmon and runc starting up; runc's
 * write then finds the lock warm. This is what the cgroup2 `favordynmods` mount option does
 * for a whole host, limited to the moments berthd starts something. Any failure (no cgroup
 * file, a read-only cgroupfs, a kernel that refuses) turns it off for good: it only ever
 * saves time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { unescapeMountField } from '../util/fsutil.js';
import { logger } from '../util/log.js';

const log = logger('runtime');

/** Well under one grace period, so the lock never falls back to its fast-reader mode. */
const INTERVAL_MS = 3;
/** A hold nobody released (a create that hangs) stops warming after this. */
const MAX_HOLD_MS = 30_000;

export interface CgroupWarmer {
  /** Keeps the lock warm until the returned function is called (holds nest). */
  hold(): () => void;
}

/** A warmer writing `pid` to `procsFile`; undefined file = one that does nothing. */
export function cgroupWarmer(
  procsFile: string | undefined = selfProcsFile(),
  pid = process.pid,
): CgroupWarmer {
  let fd: number | undefined;
  let disabled = procsFile === undefined;
  let holders = 0;
  let running = false;
  const payload = Buffer.from(String(pid));

  const disable = (why: string) => {
    if (disabled) return;
    disabled = true;
    log.debug(`cgroup attach warm-up off (${procsFile}): ${why}`);
    if (fd !== undefined) fs.close(fd, () => {});
    fd = undefined;
  };

  const tick = () => {
    if (holders === 0 || disabled || fd === undefined) {
      running = false;
      return;
    }
    fs.write(fd, payload, 0, payload.length, 0, (err) => {
      if (err) disable(err.message);
      setTimeout(tick, INTERVAL_MS).unref();
    });
  };

  return {
    hold() {
      if (disabled) return () => {};
      holders++;
      if (fd === undefined) {
        try {
          fd = fs.openSync(procsFile as string, fs.constants.O_WRONLY);
        } catch (e) {
          holders--;
          disable((e as Error).message);
          return () => {};
        }
      }
      if (!running) {
        running = true;
        tick();
      }
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        clearTimeout(expiry);
        holders--;
      };
      const expiry = setTimeout(release, MAX_HOLD_MS);
      expiry.unref();
      return release;
    },
  };
}

/**
 * The `cgroup.procs` file of the cgroup this process is in: the unified hierarchy's when one
 * is mounted (pure v2, or hybrid's /sys/fs/cgroup/unified), else the first v1 hierarchy's.
 * Read from /proc/self/cgroup and /proc/self/mountinfo, so a daemon in a container or a
 * systemd slice finds its own directory.
 */
export function selfProcsFile(
  cgroupText = readOr('/proc/self/cgroup'),
  mountinfoText = readOr('/proc/self/mountinfo'),
): string | undefined {
  // mountinfo: id parent major:minor root mountpoint options - fstype source superoptions
  const mounts: { root: string; point: string; fstype: string; superOpts: string[] }[] = [];
  for (const line of mountinfoText.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const fstype = right[0] ?? '';
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    mounts.push({
      root: unescapeMountField(left[3] ?? '/'),
      point: unescapeMountField(left[4] ?? ''),
      fstype,
      superOpts: (right[2] ?? '').split(','),
    });
  }
  const candidates: { mount: (typeof mounts)[number]; cgPath: string }[] = [];
  for (const line of cgroupText.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, hid, controllers, cgPath] = m as unknown as [string, string, string, string];
    const mount =
      hid === '0' && controllers === ''
        ? mounts.find((x) => x.fstype === 'cgroup2')
        : mounts.find(
            (x) => x.fstype === 'cgroup' && controllers.split(',').every((c) => x.superOpts.includes(c)),
          );
    if (mount) candidates.push({ mount, cgPath });
  }
  candidates.sort((a, b) => Number(b.mount.fstype === 'cgroup2') - Number(a.mount.fstype === 'cgroup2'));
  for (const { mount, cgPath } of candidates) {
    const root = mount.root === '/' ? '' : mount.root;
    if (root && cgPath !== root && !cgPath.startsWith(`${root}/`)) continue;
    const file = path.join(mount.point, cgPath.slice(root.length), 'cgroup.procs');
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
