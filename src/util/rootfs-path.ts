/**
 * Path resolution inside an untrusted root filesystem: symlinks are followed as if `root`
 * were `/` (like moby's FollowSymlinkInScope), so `/etc/passwd -> /../../host/file`
 * stays inside the rootfs. The file is then opened with O_NOFOLLOW.
 */
import fs from 'node:fs';
import path from 'node:path';

const MAX_SYMLINKS = 255;

/** The host path of `p` (a path inside the container) with every symlink resolved within `root`. */
export function resolveInRootfs(root: string, p: string): string {
  const base = path.resolve(root);
  // Components still to walk, first to last; symlink targets are spliced in front.
  const pending = p.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = path.join(base, ...done, part);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(candidate);
    } catch {
      st = undefined;
    }
    if (st?.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw new Error(`too many symlinks resolving ${p} in ${root}`);
      const target = fs.readlinkSync(candidate);
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
      continue;
    }
    done.push(part);
  }
  return path.join(base, ...done);
}

/**
 * Reads a regular file at `p` inside `root`, or undefined if it is missing or not a
 * regular file. `maxBytes` guards against a huge file planted in an image.
 */
export function readFileInRootfs(root: string, p: string, maxBytes = 16 * 1024 * 1024): string | undefined {
  const hostPath = resolveInRootfs(root, p);
  let fd: number;
  try {
    fd = fs.openSync(hostPath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return undefined;
    const size = Math.min(st.size, maxBytes);
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = fs.readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}
