/**
 * `docker diff`: the writable layer's changes minus what the engine itself put there.
 * dockerd keeps the mount points it needs (/etc/hosts, /etc/hostname, /etc/resolv.conf,
 * /dev, /proc, /sys, /.dockerenv) in an "init" layer under the container's, so they never
 * show up; runc creates missing ones in our writable layer, so they are left out here.
 */
import type { Change, DiffEntry } from '../snapshots/snapshots.js';

const ENGINE_PATHS = new Set([
  '/etc/hostname',
  '/etc/hosts',
  '/etc/resolv.conf',
  '/etc/mtab',
  '/.dockerenv',
  '/dev',
  '/dev/console',
  '/dev/pts',
  '/dev/shm',
  '/proc',
  '/sys',
]);

/** Drops the engine's mount points (when added) and directories changed only by them. */
export function userChanges(changes: readonly Change[]): Change[] {
  const dropped = changes.filter((c) => c.Kind === 1 && ENGINE_PATHS.has(c.Path));
  if (dropped.length === 0) return [...changes];
  const kept = changes.filter((c) => !dropped.includes(c));
  const parents = new Set(dropped.map((c) => c.Path.slice(0, c.Path.lastIndexOf('/')) || '/'));
  return kept.filter((c) => {
    if (c.Kind !== 0 || !parents.has(c.Path)) return true;
    // A directory modified only because a mount point was created in it.
    return kept.some((o) => o !== c && o.Path.startsWith(`${c.Path}/`));
  });
}

/**
 * A mount point runc created in the writable layer (an empty file or directory at one of the
 * engine's paths): left out of a commit, as dockerd's init layer keeps them out of its images.
 */
export function isEngineMountPoint(e: DiffEntry): boolean {
  if (!ENGINE_PATHS.has(`/${e.name}`)) return false;
  return e.type === 'directory' || (e.type === 'file' && (e.size ?? 0) === 0);
}
