/**
 * The kernel's mount table and the mounts every part makes the same way: mount(2)/umount2(2)
 * from the native helpers (util/syscalls.ts), util-linux `mount`/`umount` without them.
 */
import fs from 'node:fs';
import { runTool, ToolError } from './exec.js';
import { unescapeMountField } from './fsutil.js';
import { logger } from './log.js';
import * as sys from './syscalls.js';

const log = logger('mounts');

export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;

/** The mount points in this process's mount namespace. */
export function mountPoints(): Set<string> {
  const out = new Set<string>();
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const field = line.split(' ')[4];
    if (field) out.add(unescapeMountField(field));
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
  const umount = sys.available()
    ? (p: string, lazy: boolean) => sys.umount2(p, lazy ? sys.MNT_DETACH : 0)
    : async (p: string, lazy: boolean) => {
        await runTool('umount', lazy ? ['-l', p] : [p]);
      };
  try {
    await umount(real, false);
  } catch (e) {
    if (!(e instanceof ToolError) && !(e instanceof sys.SyscallError)) throw e;
    if (!mountPoints().has(real)) return;
    const why = e instanceof ToolError ? e.stderr.trim() : e.message;
    log.warn(`unmounting ${real} failed (${why}); detaching lazily`);
    await umount(real, true);
  }
}

/** Mounts a tmpfs on `target` with nosuid, nodev, noexec and the tmpfs `options` (size=, mode=). */
export async function mountTmpfs(target: string, options: string): Promise<void> {
  if (sys.available()) {
    await sys.mount('tmpfs', target, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, options);
    return;
  }
  await runTool('mount', ['-t', 'tmpfs', '-o', `nosuid,nodev,noexec,${options}`, 'tmpfs', target]);
}
