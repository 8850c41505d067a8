/** Small filesystem helpers shared by the parts that keep data under the state root. */

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes data to `file` atomically: a temporary file in the same directory, renamed into place,
 * so readers never see a partial file. `durable: false` skips the fsync, for files rewritten
 * whenever they matter (a bundle's config.json is written at each create and means nothing
 * after an OS crash).
 */
export function writeFileAtomic(
  file: string,
  data: string | Buffer,
  mode = 0o644,
  opts: { durable?: boolean } = {},
): void {
  const tmp = path.join(path.dirname(file), `.tmp-${path.basename(file)}-${randomBytes(4).toString('hex')}`);
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (opts.durable !== false) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export function mkdirp(dir: string, mode = 0o755): string {
  fs.mkdirSync(dir, { recursive: true, mode });
  return dir;
}

/** Removes a file or tree; missing paths are fine. */
export function removeAll(p: string): void {
  fs.rmSync(p, { recursive: true, force: true });
}

/** Total bytes of regular files below dir (not following symlinks; hardlinks counted once). */
export function diskUsage(dir: string): number {
  let total = 0;
  const seen = new Set<string>();
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = fs.lstatSync(p);
        if (st.nlink > 1) {
          const key = `${st.dev}:${st.ino}`;
          if (seen.has(key)) continue;
          seen.add(key);
        }
        total += st.size;
      }
    }
  };
  walk(dir);
  return total;
}

/** A path field of /proc/PID/mountinfo: the kernel writes space, tab, newline and backslash as octal escapes. */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}
