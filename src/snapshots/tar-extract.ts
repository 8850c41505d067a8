/**
 * Unpacks a tar stream (plain, gzip or zstd) into a directory: image layers (with overlay
 * whiteouts) and `docker cp` into a container alike.
 *
 * Safety: every entry's path is made relative to the target (a leading `/` is dropped, as
 * Docker and GNU tar do); a path whose `..` climbs out of the target, or whose parent
 * directory is a symlink, is refused with 400 naming the entry. Parents are checked with
 * lstat, component by component, so no symlink (least of all one the tar itself created)
 * is ever followed. Files are created with O_EXCL after removing what was there.
 * The caller decides what survives a failure: snapshots unpack into a temporary directory.
 *
 * With `scopeRoot` (docker cp) symlinked parents are followed instead, but evaluated as if
 * the scope root were `/` (moby's FollowSymlinkInScope): `bin/x` under `bin -> usr/bin`
 * lands in `usr/bin/x`, and a link to `/` or `../../..` stays in the root. The entry's own
 * last element is never followed, so a symlink entry is created as a symlink. The resolved
 * parents are re-checked with lstat before writing; a process in a running container that
 * swaps a directory for a symlink in between can still win that race (as with Docker
 * before it paused containers for cp).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type tar from 'tar-stream';
import { badRequest, isEngineError } from '../util/errors.js';
import { logger } from '../util/log.js';
import { resolveInRootfs } from '../util/rootfs-path.js';
import { uncompressed } from './decompress.js';
import { mknod, mkWhiteout } from './mknod.js';
import { type TarEntryStream, type TarHeader, tarParser } from './tar-parse.js';
import { hasXattrTools, OPAQUE_XATTR, setXattr } from './xattr.js';

const log = logger('snapshots');

export interface ExtractOptions {
  /** Layer semantics: `.wh.<name>` becomes an overlay whiteout, `.wh..wh..opq` makes its directory opaque. */
  whiteouts: boolean;
  /**
   * Lower layers below the target, topmost first: a hardlink to a file not in this tar is
   * copied up from them; without setfattr, opaque directories are emulated from their listing.
   */
  parentLowerDirs?: string[];
  /** Refuse to replace a directory with a non-directory or the reverse (docker cp's rule). */
  noOverwriteDirNonDir?: boolean;
  /** Apply the entries' uid/gid (default true; only effective as root). */
  chown?: boolean;
  /** Also write the uncompressed tar to this new file (fsync'ed), to serve the layer byte for byte later. */
  keepTarAt?: string;
  /**
   * docker cp semantics: follow symlinks in entries' parent directories, evaluating them inside
   * this root (a container's rootfs). `targetDir` must be inside it. Not with `whiteouts`.
   */
  scopeRoot?: string;
}

export interface ExtractResult {
  /** `sha256:` digest of the uncompressed stream: the layer's diffID. */
  diffId: string;
  /** Bytes of the uncompressed stream. */
  tarSize: number;
}

const WH_PREFIX = '.wh.';
const WH_META_PREFIX = '.wh..wh.';
const WH_OPAQUE = '.wh..wh..opq';

export async function extractTar(
  input: Readable,
  targetDir: string,
  opts: ExtractOptions,
): Promise<ExtractResult> {
  const root = fs.realpathSync(targetDir);
  const scope = opts.scopeRoot === undefined ? undefined : targetScope(opts.scopeRoot, root, opts);
  const parser = tarParser();
  const ex = parser.extract;
  const unpacker = new Unpacker(root, opts, scope);
  const hash = createHash('sha256');
  let tarSize = 0;
  const keep = opts.keepTarAt ? await fs.promises.open(opts.keepTarAt, 'wx', 0o644) : undefined;
  let stopped = false;

  const pump = (async () => {
    try {
      for await (const chunk of await uncompressed(input)) {
        // The consumer destroys the parser when an entry is refused: nothing more to feed.
        if (stopped || isDestroying(ex)) break;
        hash.update(chunk);
        tarSize += chunk.length;
        if (keep) await keep.write(chunk);
        if (!ex.write(chunk)) await drained(ex);
      }
      ex.end(undefined);
    } catch (e) {
      ex.destroy(e as Error);
      throw e;
    }
  })();
  // The consumer below reports the error; this keeps a pump failure from being unhandled meanwhile.
  pump.catch(() => {});

  try {
    try {
      for await (const entry of ex as AsyncIterable<TarEntryStream>)
        await unpacker.entry(parser.header(entry), entry);
    } catch (e) {
      // A codec error surfaces here as the tar's error; the pump holds the real cause.
      await pump.catch((pe: unknown) => {
        if (isEngineError(pe) && !isEngineError(e)) throw pe;
      });
      throw isEngineError(e) ? e : badRequest(`invalid tar: ${(e as Error).message}`);
    }
    await pump;
    await unpacker.finish();
    if (keep) await keep.sync();
  } catch (e) {
    stopped = true;
    ex.destroy();
    input.destroy();
    throw e;
  } finally {
    await keep?.close();
  }
  return { diffId: `sha256:${hash.digest('hex')}`, tarSize };
}

interface Scope {
  /** The scope root, symlinks resolved. */
  root: string;
  /** The target's path inside the scope root, `/`-rooted. */
  target: string;
}

/** Checks the caller's contract: a programming error, not the client's, when broken. */
function targetScope(scopeRoot: string, target: string, opts: ExtractOptions): Scope {
  if (opts.whiteouts) throw new Error('extractTar: scopeRoot cannot be combined with whiteouts');
  const root = fs.realpathSync(scopeRoot);
  const rel = path.relative(root, target);
  if (rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) {
    throw new Error(`extractTar: target ${target} is not inside scope root ${root}`);
  }
  return { root, target: `/${rel}` };
}

const isInside = (dir: string, p: string) => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** streamx's flag, set as soon as destroy() is called ('close' follows, once). */
const isDestroying = (ex: tar.Extract) =>
  ex.destroyed || (ex as { destroying?: boolean }).destroying === true;

function drained(ex: tar.Extract): Promise<void> {
  // A destroyed parser never drains, and its 'close' may already have fired.
  if (isDestroying(ex)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      ex.off('drain', done);
      ex.off('close', done);
      resolve();
    };
    ex.on('drain', done);
    ex.on('close', done);
  });
}

function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return null;
    throw e;
  }
}

const isWhiteoutStat = (st: fs.Stats) => st.isCharacterDevice() && st.rdev === 0;

/**
 * The entry's path relative to the target ('' for the target itself), or a 400 if it climbs
 * out. `a/../b` stays inside and is accepted; `../x`, `a/../../x` and `/../x` are not.
 */
export function entryPath(name: string, entryName = name): string {
  const rel = path.posix.normalize(name.replace(/^\/+/, '') || '.');
  if (rel === '..' || rel.startsWith('../')) throw escapes(entryName);
  return rel === '.' || rel === './' ? '' : rel.replace(/\/+$/, '');
}

const escapes = (name: string) => badRequest(`invalid tar entry "${name}": path escapes the target`);

class Unpacker {
  /** Relative directories checked to be real directories (not symlinks) inside the target. */
  private readonly safeDirs = new Set<string>(['']);
  /** Host paths of directories whose times are set at the end, once nothing more is written inside. */
  private readonly dirTimes = new Map<string, { atime: number; mtime: number }>();
  private readonly emulatedOpaque: string[] = [];
  private readonly chown: boolean;
  private warnedXattr = false;

  constructor(
    private readonly root: string,
    private readonly opts: ExtractOptions,
    private readonly scope?: Scope,
  ) {
    this.chown = opts.chown !== false && process.getuid?.() === 0;
  }

  async entry(h: TarHeader, body: TarEntryStream): Promise<void> {
    try {
      await this.unpack(h, body);
    } finally {
      // Whatever happened, the entry's bytes must be consumed for the parser to go on.
      body.resume();
    }
  }

  private async unpack(h: TarHeader, body: TarEntryStream): Promise<void> {
    const rel = entryPath(h.name);
    if (rel === '') return; // the target's own entry (`./`): Docker leaves the target as it is
    const base = path.posix.basename(rel);
    if (this.opts.whiteouts && base.startsWith(WH_PREFIX)) return this.whiteout(h, rel, base);

    const abs = this.placeEntry(rel, h.name);
    if (this.clearExisting(rel, abs, h) === 'keep-dir') {
      await this.applyMeta(abs, h);
      return;
    }
    switch (h.type) {
      case 'directory':
        fs.mkdirSync(abs, { mode: 0o700 });
        if (!this.scope) this.safeDirs.add(rel);
        break;
      case 'file':
        await writeFile(abs, body);
        break;
      case 'symlink':
        fs.symlinkSync(h.linkname, abs);
        break;
      case 'link':
        await this.hardlink(h, abs);
        break;
      case 'char':
      case 'block':
      case 'fifo':
        try {
          await mknod(abs, h.type, h.devmajor, h.devminor, h.mode);
        } catch (e) {
          log.warn(`skipping ${h.type} device "${h.name}": ${(e as Error).message}`);
          return;
        }
        break;
      default:
        log.warn(`skipping tar entry "${h.name}" of unsupported type ${h.rawType}`);
        return;
    }
    await this.applyMeta(abs, h);
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : path.join(this.root, rel);
  }

  /** The host path where entry `rel` goes, its parents made and checked to be real directories. */
  private placeEntry(rel: string, entryName: string): string {
    if (!this.scope) {
      this.ensureParents(rel, entryName, true);
      return this.abs(rel);
    }
    const [parentRel, base] = this.scopedParent(rel);
    this.ensureParents(parentRel ? `${parentRel}/${base}` : base, entryName, true, this.scope.root);
    return path.join(this.scope.root, parentRel, base);
  }

  /**
   * The parent of `rel` with symlinks evaluated inside the scope root, as a path relative to
   * it, and the entry's last element (never followed).
   */
  private scopedParent(rel: string): [string, string] {
    const scope = this.scope as Scope;
    const dir = path.posix.dirname(rel);
    const parent = resolveInRootfs(scope.root, path.posix.join(scope.target, dir === '.' ? '' : dir));
    // resolveInRootfs cannot leave the root; this guards the guarantee the rest relies on.
    if (!isInside(scope.root, parent)) throw new Error(`resolved ${rel} outside ${scope.root}`);
    return [path.relative(scope.root, parent), path.posix.basename(rel)];
  }

  /**
   * Checks (and with `create`, makes) each parent of `rel` as a real directory inside the target.
   * Returns false when a parent is missing and `create` is off.
   */
  private ensureParents(rel: string, entryName: string, create: boolean, base = this.root): boolean {
    const parts = rel.split('/').slice(0, -1);
    // In scope mode entries' relative names do not map to places, so nothing is cached.
    const cache = base === this.root && !this.scope;
    let prefix = '';
    for (const part of parts) {
      prefix = prefix ? `${prefix}/${part}` : part;
      if (cache && this.safeDirs.has(prefix)) continue;
      const st = lstatOrNull(path.join(base, prefix));
      if (st === null) {
        if (!create) return false;
        fs.mkdirSync(path.join(base, prefix), { mode: 0o755 });
      } else if (st.isSymbolicLink()) {
        throw escapes(entryName);
      } else if (!st.isDirectory()) {
        if (!create) return false;
        throw badRequest(`invalid tar entry "${entryName}": "${prefix}" is not a directory`);
      }
      if (cache) this.safeDirs.add(prefix);
    }
    return true;
  }

  /** Removes what is at `abs` unless both it and the entry are directories (then they merge). */
  private clearExisting(rel: string, abs: string, h: TarHeader): 'keep-dir' | 'clear' {
    const st = lstatOrNull(abs);
    if (st === null) return 'clear';
    const entryIsDir = h.type === 'directory';
    if (this.opts.noOverwriteDirNonDir && st.isDirectory() !== entryIsDir) {
      throw badRequest(
        st.isDirectory()
          ? `cannot overwrite directory "/${rel}" with non-directory "${h.name}"`
          : `cannot overwrite non-directory "/${rel}" with directory "${h.name}"`,
      );
    }
    if (st.isDirectory() && entryIsDir) return 'keep-dir';
    this.remove(abs);
    if (st.isDirectory()) {
      this.safeDirs.clear();
      this.safeDirs.add('');
    }
    return 'clear';
  }

  /**
   * Removes `abs` and forgets the directory times recorded below it: the name may become a
   * symlink, and setting those times at the end would then follow it out of the target.
   */
  private remove(abs: string): void {
    fs.rmSync(abs, { recursive: true, force: true });
    for (const dir of this.dirTimes.keys()) if (isInside(abs, dir)) this.dirTimes.delete(dir);
  }

  private async whiteout(h: TarHeader, rel: string, base: string): Promise<void> {
    this.ensureParents(rel, h.name, true);
    const dir = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);
    if (base === WH_OPAQUE) {
      if (hasXattrTools()) await setXattr(this.abs(dir), OPAQUE_XATTR, Buffer.from('y'));
      else this.emulatedOpaque.push(dir);
      return;
    }
    if (base.startsWith(WH_META_PREFIX)) return; // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs)
    const name = base.slice(WH_PREFIX.length);
    // `.wh..` would name the directory itself, `.wh...` its parent: never a file to hide.
    if (name === '.' || name === '..' || name === '') {
      throw badRequest(`invalid tar entry "${h.name}": whiteout of "${name}"`);
    }
    const target = dir ? `${dir}/${name}` : name;
    const abs = this.abs(target);
    if (lstatOrNull(abs) !== null) this.remove(abs);
    this.safeDirs.clear();
    this.safeDirs.add('');
    await mkWhiteout(abs);
  }

  private async hardlink(h: TarHeader, abs: string): Promise<void> {
    const linkRel = entryPath(h.linkname, h.name);
    if (linkRel === '') throw badRequest(`invalid tar entry "${h.name}": hardlink to the target directory`);
    if (this.scope) return this.scopedHardlink(h, linkRel, abs);
    if (this.ensureParents(linkRel, h.name, false)) {
      const st = lstatOrNull(this.abs(linkRel));
      if (st?.isDirectory()) throw badRequest(`invalid tar entry "${h.name}": hardlink to a directory`);
      if (st) {
        fs.linkSync(this.abs(linkRel), abs);
        return;
      }
    }
    // Not in this layer: the file lives in a lower layer, and a layer cannot link across, so copy it up.
    for (const lower of this.opts.parentLowerDirs ?? []) {
      if (!this.ensureParents(linkRel, h.name, false, lower)) continue;
      const src = path.join(lower, linkRel);
      const st = lstatOrNull(src);
      if (st === null) continue;
      if (isWhiteoutStat(st)) break;
      if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(src), abs);
      else if (st.isFile()) fs.copyFileSync(src, abs, fs.constants.COPYFILE_EXCL);
      else
        throw badRequest(`invalid tar entry "${h.name}": hardlink to "${h.linkname}", which is not a file`);
      return;
    }
    throw badRequest(`invalid tar entry "${h.name}": hardlink target "${h.linkname}" not found`);
  }

  /**
   * docker cp's hardlink: the target's parents resolved inside the scope, its last element
   * not followed (link(2) links a symlink itself), so the link can only name a file in the root.
   */
  private scopedHardlink(h: TarHeader, linkRel: string, abs: string): void {
    const [parentRel, base] = this.scopedParent(linkRel);
    const srcRel = parentRel ? `${parentRel}/${base}` : base;
    const scopeRoot = (this.scope as Scope).root;
    const st = this.ensureParents(srcRel, h.name, false, scopeRoot)
      ? lstatOrNull(path.join(scopeRoot, srcRel))
      : null;
    if (st === null)
      throw badRequest(`invalid tar entry "${h.name}": hardlink target "${h.linkname}" not found`);
    if (st.isDirectory()) throw badRequest(`invalid tar entry "${h.name}": hardlink to a directory`);
    fs.linkSync(path.join(scopeRoot, srcRel), abs);
  }

  private async applyMeta(abs: string, h: TarHeader): Promise<void> {
    const st = fs.lstatSync(abs);
    const isLink = st.isSymbolicLink();
    if (this.chown) fs.lchownSync(abs, h.uid, h.gid);
    // After chown, which clears setuid/setgid bits.
    if (!isLink) fs.chmodSync(abs, h.mode);
    for (const [name, value] of h.xattrs) {
      if (name.startsWith('trusted.overlay.')) {
        log.debug(`ignoring overlay xattr ${name} of "${h.name}"`);
        continue;
      }
      if (!hasXattrTools()) {
        if (!this.warnedXattr)
          log.warn('setfattr is not installed (package attr): tar xattrs are not applied');
        this.warnedXattr = true;
        continue;
      }
      try {
        await setXattr(abs, name, value);
      } catch (e) {
        log.warn(`cannot set xattr ${name} on "${h.name}": ${(e as Error).message}`);
      }
    }
    if (st.isDirectory()) this.dirTimes.set(abs, { atime: h.atime, mtime: h.mtime });
    else if (isLink) fs.lutimesSync(abs, h.atime, h.mtime);
    else fs.utimesSync(abs, h.atime, h.mtime);
  }

  /** Work that must follow all entries: opaque emulation, then directory times (writing inside changes them). */
  async finish(): Promise<void> {
    for (const dir of this.emulatedOpaque) await this.emulateOpaque(dir);
    for (const [abs, t] of this.dirTimes) {
      const st = lstatOrNull(abs);
      if (st?.isDirectory()) fs.utimesSync(abs, t.atime, t.mtime);
    }
  }

  /** Without xattr tools an opaque directory becomes whiteouts for every name the lower layers have there. */
  private async emulateOpaque(dir: string): Promise<void> {
    const names = new Set<string>();
    for (const lower of this.opts.parentLowerDirs ?? []) {
      const d = dir ? path.join(lower, dir) : lower;
      if (dir && !this.ensureParents(`${dir}/x`, dir, false, lower)) continue;
      if (!lstatOrNull(d)?.isDirectory()) continue;
      for (const n of fs.readdirSync(d)) names.add(n);
    }
    for (const n of names) {
      const abs = path.join(this.abs(dir), n);
      if (lstatOrNull(abs) === null) await mkWhiteout(abs);
    }
  }
}

async function writeFile(abs: string, body: TarEntryStream): Promise<void> {
  const fh = await fs.promises.open(abs, 'wx', 0o600);
  try {
    for await (const chunk of body) await fh.write(chunk as Buffer);
  } finally {
    await fh.close();
  }
}
