/**
 * mount(2) and umount2(2) from the small native addon in native/ (built by `npm ci` through the
 * package's install script). When the addon is missing — not built, or built for another
 * Node ABI — `available()` is false and callers use the mount(8)/umount(8) binaries instead,
 * which is slower (a fork of the daemon per call) but equivalent.
 */
import { createRequire } from 'node:module';
import util from 'node:util';
import { logger } from './log.js';

const log = logger('syscalls');

/** umount2 flag: detach now, clean up when no longer busy. */
export const MNT_DETACH = 2;

interface Addon {
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): Promise<number>;
  umount2(target: string, flags: number): Promise<number>;
  x32Syscalls(): boolean;
}

const ADDON = new URL('../../../native/build/Release/berth_sys.node', import.meta.url);

let addon: Addon | null | undefined;

function load(): Addon | null {
  if (addon !== undefined) return addon;
  try {
    addon = createRequire(import.meta.url)(ADDON.pathname) as Addon;
  } catch (e) {
    log.debug(`native helpers not loaded (${(e as Error).message.split('\n')[0]}); using mount(8)`);
    addon = null;
  }
  return addon;
}

/** Whether the native calls can be used. */
export function available(): boolean {
  return load() !== null;
}

/** An Error shaped like Node's own system errors: code, errno, syscall, path. */
export class SyscallError extends Error {
  readonly code: string;
  readonly errno: number;
  constructor(
    readonly syscall: string,
    errno: number,
    readonly path: string,
  ) {
    const code = util.getSystemErrorName(-errno);
    super(`${syscall} ${path}: ${code} (${util.getSystemErrorMap().get(-errno)?.[1] ?? 'unknown error'})`);
    this.code = code;
    this.errno = -errno;
  }
}

function addonOrThrow(): Addon {
  const a = load();
  if (!a) throw new Error('native helpers are not built (npm run build:native)');
  return a;
}

/** mount(2) on the thread pool (it waits for the kernel's namespace lock, which runc's set-ups hold). */
export async function mount(
  source: string,
  target: string,
  fstype: string,
  flags: number,
  data: string,
): Promise<void> {
  const rc = await addonOrThrow().mount(source, target, fstype, flags, data);
  if (rc !== 0) throw new SyscallError('mount', rc, target);
}

/** umount2(2) on the thread pool (an overlay's unmount syncs its upper filesystem). */
export async function umount2(target: string, flags = 0): Promise<void> {
  const rc = await addonOrThrow().umount2(target, flags);
  if (rc !== 0) throw new SyscallError('umount2', rc, target);
}

let x32: boolean | undefined;

/**
 * Whether this kernel runs x32 system calls (x86_64 only; a forked child tries one, once).
 * Undefined without the addon: then nobody knows, and callers keep Docker's behaviour.
 */
export function x32Syscalls(): boolean | undefined {
  const a = load();
  if (!a) return undefined;
  x32 ??= a.x32Syscalls();
  return x32;
}
