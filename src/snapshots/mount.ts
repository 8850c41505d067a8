/** Overlay mounts through util-linux `mount`/`umount`, and the kernel's mount table. */
import fs from 'node:fs';
import { runTool, ToolError } from '../util/exec.js';
import { logger } from '../util/log.js';

const log = logger('snapshots');

/**
 * Mounts an overlay. `options` may name directories relative to `cwd`: the kernel resolves
 * them against the mounting process's working directory, which keeps the option string (at
 * most one page) short enough for long layer chains, as Docker's overlay2 does.
 */
export async function mountOverlay(target: string, options: string, cwd: string): Promise<void> {
  await runTool('mount', ['-t', 'overlay', 'overlay', '-o', options, target], { cwd });
}

/** The mount points in this process's mount namespace. */
export function mountPoints(): Set<string> {
  const out = new Set<string>();
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const field = line.split(' ')[4];
    if (field)
      out.add(field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))));
  }
  return out;
}

/** Unmounts `target`; fine if it is not mounted; a busy mount is detached lazily. */
export async function unmount(target: string): Promise<void> {
  let real: string;
  try {
    real = fs.realpathSync(target);
  } catch {
    return;
  }
  if (!mountPoints().has(real)) return;
  try {
    await runTool('umount', [real]);
  } catch (e) {
    if (!(e instanceof ToolError)) throw e;
    if (!mountPoints().has(real)) return;
    log.warn(`umount ${real} failed (${e.stderr.trim()}); detaching lazily`);
    await runTool('umount', ['-l', real]);
  }
}
