/**
 * What a container changed, read from its overlay upper directory: whiteouts (0:0 char
 * devices) are deletions, opaque directories (trusted.overlay.opaque=y) replaced a lower
 * directory, everything else was added or modified. `changes` follows Docker's
 * archive.OverlayChanges; `diffEntries` is the same walk as tar entries (`.wh.` files for
 * whiteouts), for commit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { logger } from '../util/log.js';
import type { Change } from './snapshots.js';
import type { TarEntry } from './tar-write.js';
import { hasXattrTools, isOpaque, OPAQUE_XATTR, readXattrsTree } from './xattr.js';

const log = logger('snapshots');

interface UpperNode {
  /** Relative to the upper dir, no leading slash. */
  rel: string;
  abs: string;
  st: fs.Stats;
  whiteout: boolean;
  opaque: boolean;
  xattrs: Map<string, Buffer>;
}

/** Pre-order walk, names sorted at each level (deterministic, like Go's filepath.Walk). */
async function walkUpper(upper: string): Promise<UpperNode[]> {
  let attrs = new Map<string, Map<string, Buffer>>();
  if (hasXattrTools()) attrs = await readXattrsTree(upper);
  else log.warn('getfattr is not installed (package attr): opaque directories and xattrs are not seen');
  const out: UpperNode[] = [];
  const walk = (relDir: string) => {
    const absDir = relDir ? path.join(upper, relDir) : upper;
    for (const name of fs.readdirSync(absDir).sort()) {
      const rel = relDir ? `${relDir}/${name}` : name;
      const abs = path.join(upper, rel);
      const st = fs.lstatSync(abs);
      const x = attrs.get(abs) ?? new Map<string, Buffer>();
      out.push({
        rel,
        abs,
        st,
        whiteout: st.isCharacterDevice() && st.rdev === 0,
        opaque: st.isDirectory() && x.get(OPAQUE_XATTR)?.toString() === 'y',
        xattrs: new Map([...x].filter(([k]) => !k.startsWith('trusted.overlay.'))),
      });
      if (st.isDirectory()) walk(rel);
    }
  };
  walk('');
  return out;
}

/** What a lower chain (topmost first) has at `rel`; a whiteout above hides what is below. */
function lowerStat(lowers: string[], rel: string): fs.Stats | undefined {
  for (const lower of lowers) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(path.join(lower, rel));
    } catch {
      continue;
    }
    return st.isCharacterDevice() && st.rdev === 0 ? undefined : st;
  }
  return undefined;
}

export async function upperChanges(upper: string, lowers: string[]): Promise<Change[]> {
  const changes: Change[] = [];
  const changedDirs = new Set<string>();
  for (const n of await walkUpper(upper)) {
    const p = `/${n.rel}`;
    let kind: Change['Kind'];
    const lower = lowerStat(lowers, n.rel);
    if (n.whiteout) {
      kind = 2;
    } else if (lower) {
      // A directory is in the upper only because something below it changed: unless its own
      // metadata changed, it is reported through its children (as the parent rule below adds it).
      if (
        !n.opaque &&
        lower.isDirectory() &&
        n.st.isDirectory() &&
        lower.size === n.st.size &&
        lower.mode === n.st.mode &&
        lower.mtimeMs === n.st.mtimeMs
      ) {
        continue;
      }
      kind = 0;
    } else {
      kind = 1;
    }
    if (n.st.isDirectory()) changedDirs.add(p);
    if (kind !== 0) {
      const parent = path.posix.dirname(p);
      if (parent !== '/' && !changedDirs.has(parent)) {
        changes.push({ Path: parent, Kind: 0 });
        changedDirs.add(parent);
      }
    }
    changes.push({ Path: p, Kind: kind });
    // Docker (20.10, overlay2) reports what an opaque directory hides as deleted, one entry per name.
    if (n.opaque && lower?.isDirectory()) {
      const present = new Set(fs.readdirSync(n.abs));
      for (const name of await lowerNames(lowers, n.rel)) {
        if (!present.has(name)) changes.push({ Path: `${p}/${name}`, Kind: 2 });
      }
    }
  }
  // Walk order puts `/a/.wh.x`-style siblings apart; path order keeps parents first and is stable.
  return changes.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}

/** The names visible in directory `rel` of a lower chain (topmost first). */
async function lowerNames(lowers: string[], rel: string): Promise<string[]> {
  const decided = new Map<string, boolean>();
  for (const lower of lowers) {
    const dir = path.join(lower, rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(dir);
    } catch {
      continue;
    }
    if (!st.isDirectory()) break;
    for (const name of fs.readdirSync(dir)) {
      if (decided.has(name)) continue;
      const c = fs.lstatSync(path.join(dir, name));
      decided.set(name, !(c.isCharacterDevice() && c.rdev === 0));
    }
    if (hasXattrTools() && (await isOpaque(dir))) break;
  }
  return [...decided]
    .filter(([, visible]) => visible)
    .map(([name]) => name)
    .sort();
}

/** The upper directory as layer tar entries: whiteouts as `.wh.<name>`, opaque dirs with `.wh..wh..opq`. */
export async function* diffEntries(upper: string): AsyncGenerator<TarEntry> {
  const firstPathOfInode = new Map<string, string>();
  for (const n of await walkUpper(upper)) {
    const { st, rel } = n;
    const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
    if (n.whiteout) {
      const dir = path.posix.dirname(rel);
      const name = `${dir === '.' ? '' : `${dir}/`}.wh.${path.posix.basename(rel)}`;
      yield { ...base, name, type: 'file', mode: 0o600, size: 0 };
      continue;
    }
    const xattrs = n.xattrs;
    if (st.isDirectory()) {
      yield { ...base, name: rel, type: 'directory', xattrs };
      // Mode and zero time as Docker writes the marker.
      if (n.opaque)
        yield { ...base, name: `${rel}/.wh..wh..opq`, type: 'file', mode: base.mode & 0o777, mtime: 0 };
    } else if (st.isSymbolicLink()) {
      yield { ...base, name: rel, type: 'symlink', linkname: fs.readlinkSync(n.abs), xattrs };
    } else if (st.isFile()) {
      const inode = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? firstPathOfInode.get(inode) : undefined;
      if (first !== undefined) {
        yield { ...base, name: rel, type: 'link', linkname: first };
      } else {
        if (st.nlink > 1) firstPathOfInode.set(inode, rel);
        yield { ...base, name: rel, type: 'file', size: st.size, source: n.abs, xattrs };
      }
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const type = st.isCharacterDevice() ? 'char' : 'block';
      yield { ...base, name: rel, type, devmajor: devMajor(st.rdev), devminor: devMinor(st.rdev), xattrs };
    } else if (st.isFIFO()) {
      yield { ...base, name: rel, type: 'fifo', xattrs };
    } else {
      log.warn(`diff: skipping "${rel}", a socket or unknown file type`);
    }
  }
}

// Linux's new_encode_dev layout (glibc's gnu_dev_major/minor).
const devMajor = (rdev: number) => ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
const devMinor = (rdev: number) => (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
