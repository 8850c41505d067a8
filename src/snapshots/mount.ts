/**
 * Overlay mounts. mount(2) comes from the native helpers (util/syscalls.ts); without them,
 * util-linux `mount` does the same. Unmounting and the mount table are util/mounts.ts.
 */
import path from 'node:path';
import { internal } from '../util/errors.js';
import { runTool } from '../util/exec.js';
import * as sys from '../util/syscalls.js';

/**
 * Mounts an overlay. `options` may name directories relative to `cwd`: the kernel resolves
 * them against the mounting process's working directory, which keeps the option string (at
 * most one page) short enough for long layer chains, as Docker's overlay2 does.
 */
export async function mountOverlay(target: string, options: string, cwd: string): Promise<void> {
  // The system call resolves relative directories against the daemon's own working directory,
  // so they are made absolute; when that no longer fits a page, mount(8) runs in `cwd` instead.
  const parts = options.split(',');
  // `ro` is a mount flag (mount(8) converts it); overlay would refuse it among its own options.
  const flags = parts.includes('ro') ? MS_RDONLY : 0;
  const absolute = absoluteOverlayOptions(parts.filter((o) => o !== 'ro').join(','), cwd);
  if (absolute && absolute.length <= MAX_DATA && sys.available()) {
    try {
      await sys.mount('overlay', target, 'overlay', flags, absolute);
    } catch (e) {
      throw internal(`mounting the container's filesystem on ${target} failed: ${(e as Error).message}`);
    }
    return;
  }
  await runTool('mount', ['-t', 'overlay', 'overlay', '-o', options, target], { cwd });
}

const MS_RDONLY = 1;
/** mount(2) takes at most a page of option data, with its NUL. */
const MAX_DATA = 4095;
const DIR_OPTIONS = new Set(['lowerdir', 'upperdir', 'workdir']);

/**
 * Overlay options with lowerdir/upperdir/workdir made absolute against `cwd`; undefined when
 * `cwd` holds a character the option syntax gives a meaning (`,` `:` `\\` `=`).
 */
export function absoluteOverlayOptions(options: string, cwd: string): string | undefined {
  if (/[,:\\=]/.test(cwd)) return undefined;
  return options
    .split(',')
    .map((opt) => {
      const eq = opt.indexOf('=');
      if (eq < 0 || !DIR_OPTIONS.has(opt.slice(0, eq))) return opt;
      const dirs = opt
        .slice(eq + 1)
        .split(':')
        .map((d) => path.resolve(cwd, d));
      return `${opt.slice(0, eq)}=${dirs.join(':')}`;
    })
    .join(',');
}
