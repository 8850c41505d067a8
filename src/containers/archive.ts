/**
 * `docker cp` (the archive API) and `docker export` on a container's mounted root filesystem.
 *
 * Paths are resolved the way moby's container.ResolvePath does: the directory part has every
 * symlink evaluated *inside* the rootfs (a link to `/etc` means `<rootfs>/etc`, `..` stops at
 * the root), the last element is taken as is unless the path ends in `/` or `/.`, so copying
 * a symlink copies the link. Archives are written by GNU tar run on the resolved host path
 * (it never follows symlinks it meets); uploads go through the snapshots part's extractor,
 * which refuses entries that climb out or pass through a symlink.
 *
 * Resolving and then using a path is only safe while nothing changes the tree in between: the
 * API routes freeze a running container for the copy (ContainerService.withRootfs `freeze`),
 * so its processes cannot swap a directory for a symlink meanwhile (CVE-2018-15664). A writer
 * outside the container (a bind mount shared with another one) is not stopped by that.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { extractTar } from '../snapshots/snapshots.js';
import { badRequest, type EngineError, internal, notFound } from '../util/errors.js';
import {
  encodePathStat,
  MODE_CHAR_DEVICE,
  MODE_DEVICE,
  MODE_DIR,
  MODE_NAMED_PIPE,
  MODE_SETGID,
  MODE_SETUID,
  MODE_SOCKET,
  MODE_STICKY,
  MODE_SYMLINK,
  type PathStat,
} from '../util/path-stat.js';
import { resolveInRootfs } from '../util/rootfs-path.js';

export { encodePathStat, type PathStat };

/** A Unix st_mode as Go's os.FileMode (what the CLI decodes). */
export function goFileMode(stMode: number): number {
  let m = stMode & 0o777;
  switch (stMode & 0o170000) {
    case 0o040000:
      m += MODE_DIR;
      break;
    case 0o120000:
      m += MODE_SYMLINK;
      break;
    case 0o060000:
      m += MODE_DEVICE;
      break;
    case 0o020000:
      m += MODE_DEVICE + MODE_CHAR_DEVICE;
      break;
    case 0o010000:
      m += MODE_NAMED_PIPE;
      break;
    case 0o140000:
      m += MODE_SOCKET;
      break;
  }
  if (stMode & 0o4000) m += MODE_SETUID;
  if (stMode & 0o2000) m += MODE_SETGID;
  if (stMode & 0o1000) m += MODE_STICKY;
  return m;
}

/** Go's time.RFC3339Nano in UTC: nanoseconds without trailing zeros. */
export function rfc3339Nano(ns: bigint): string {
  const secs = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  return `${base}${frac ? `.${frac}` : ''}Z`;
}

export interface ResolvedPath {
  /** The host path: directory part resolved in scope, last element appended as given. */
  resolved: string;
  /** The absolute path inside the container, keeping a trailing `/` or `/.`. */
  abs: string;
}

/** moby's archive.PreserveTrailingDotOrSeparator + container.ResolvePath. */
export function resolveContainerPath(root: string, p: string): ResolvedPath {
  if (p === '') throw badRequest('Path cannot be empty');
  let abs = path.posix.join('/', p);
  if (p.endsWith('/.') || p === '.') abs = abs === '/' ? '/.' : `${abs}/.`;
  else if (p.endsWith('/') && abs !== '/') abs = `${abs}/`;
  const slash = abs.lastIndexOf('/');
  const dir = abs.slice(0, slash + 1);
  const base = abs.slice(slash + 1);
  const resolvedDir = resolveInRootfs(root, dir);
  return { resolved: base === '' ? `${resolvedDir}/` : path.join(resolvedDir, base), abs };
}

/** Go's filepath.Base: trailing slashes dropped, "/" stays "/". */
function goBase(p: string): string {
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function fileNotFound(p: string, container: string): EngineError {
  return notFound(`Could not find the file ${p} in container ${container}`);
}

function lstatOrNotFound(hostPath: string, p: string, container: string): fs.BigIntStats {
  try {
    return fs.lstatSync(hostPath, { bigint: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw fileNotFound(p, container);
    throw internal(`stat ${p}: ${(e as Error).message}`);
  }
}

/** HEAD /containers/{id}/archive: the stat of `p` (404 with Docker's text when missing). */
export function statContainerPath(root: string, p: string, container: string): PathStat {
  const { resolved, abs } = resolveContainerPath(root, p);
  const st = lstatOrNotFound(resolved, p, container);
  let linkTarget = '';
  if (st.isSymbolicLink()) {
    const hostPath = resolveInRootfs(root, abs);
    linkTarget = path.posix.join('/', path.relative(path.resolve(root), hostPath));
  }
  return {
    name: goBase(abs),
    size: Number(st.size),
    mode: goFileMode(Number(st.mode)),
    mtime: rfc3339Nano(st.mtimeNs),
    linkTarget,
  };
}

/** Escapes a string for a GNU tar --transform ERE (delimiter ','). */
function ereEscape(s: string): string {
  return s.replace(/[.[\]()*+?{}|^$\\,]/g, '\\$&');
}

function replacementEscape(s: string): string {
  return s.replace(/[\\&,]/g, '\\$&');
}

/** The tar command that archives `p`, entries named as Docker names them. */
export function archiveCommand(root: string, p: string): { cwd: string; args: string[] } {
  const { resolved, abs } = resolveContainerPath(root, p);
  const clean = path.resolve(resolved);
  const rebase = goBase(abs);
  const common = ['--numeric-owner', '--one-file-system', '-cf', '-'];
  // The whole root, or `dir/.`: the directory's contents as `./…`.
  if (clean === path.resolve(root) || rebase === '.' || rebase === '/') {
    return { cwd: clean, args: [...common, '--', '.'] };
  }
  const sourceBase = path.basename(clean);
  const args = [...common];
  if (sourceBase !== rebase) {
    // The last element was a symlink followed because of a trailing '/': keep the name asked for.
    args.push('--transform', `s,^${ereEscape(sourceBase)}(/|$),${replacementEscape(rebase)}\\1,xS`);
  }
  args.push('--', sourceBase);
  return { cwd: path.dirname(clean), args };
}

/** Runs GNU tar and hands its stdout to `consume`; resolves when both are done. */
export async function runTar(
  cwd: string,
  args: string[],
  consume: (tar: Readable) => Promise<void>,
): Promise<void> {
  const child = spawn('tar', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
  try {
    await consume(child.stdout);
  } catch (e) {
    child.kill('SIGKILL');
    await exited.catch(() => 0);
    throw e;
  }
  const code = await exited;
  // 1 = "some files differ / changed as we read them": the archive is complete.
  if (code > 1) throw internal(`tar failed: ${stderr.trim() || `exit code ${code}`}`);
}

/** GET /containers/{id}/archive: stat first (404 before any byte), then the tar of `p`. */
export async function archiveContainerPath(
  root: string,
  p: string,
  container: string,
  send: (stat: PathStat, tar: Readable) => Promise<void>,
): Promise<void> {
  const stat = statContainerPath(root, p, container);
  const { cwd, args } = archiveCommand(root, p);
  await runTar(cwd, args, (tar) => send(stat, tar));
}

export interface ExtractOptions {
  noOverwriteDirNonDir: boolean;
  /** The container runs with --read-only (dockerd refuses to write into its rootfs). */
  readonlyRootfs: boolean;
}

/** PUT /containers/{id}/archive: unpacks `tar` into directory `p` inside the container. */
export async function extractToContainerPath(
  root: string,
  p: string,
  container: string,
  tar: Readable,
  opts: ExtractOptions,
): Promise<void> {
  if (p === '') throw badRequest('Path cannot be empty');
  const target = resolveInRootfs(root, path.posix.join('/', p));
  const st = lstatOrNotFound(target, p, container);
  if (!st.isDirectory()) throw badRequest('extraction point is not a directory');
  if (opts.readonlyRootfs) throw internal('container rootfs is marked read-only');
  await extractTar(tar, target, {
    whiteouts: false,
    noOverwriteDirNonDir: opts.noOverwriteDirNonDir,
    chown: true,
    scopeRoot: root,
  });
}
