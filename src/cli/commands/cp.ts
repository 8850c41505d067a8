// cp: copies between a container and the host through the archive API (HEAD for the stat,
// GET for a tar out of the container, PUT for a tar into it), following docker's rules: a
// trailing "/." copies a directory's contents, a missing destination takes the source's content
// under the new name, and a destination ending in "/" must be an existing directory.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ApiError, type DockerClient } from '../../client/client.js';
import { decodePathStat, isDirectory, type PathStat } from '../../util/path-stat.js';
import { humanSize } from '../../util/units.js';
import { CliError, type Ctx } from './types.js';
import { pipeToOut } from './util.js';

export interface CpArg {
  container: string;
  path: string;
}

/** docker's splitCpArg: "ctr:path" names a container unless the text looks like a local path. */
export function splitCpArg(arg: string): CpArg {
  if (arg.startsWith('/') || arg.startsWith('.')) return { container: '', path: arg };
  const i = arg.indexOf(':');
  if (i < 0) return { container: '', path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

function runTar(args: string[], input?: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('tar', args, { stdio: [input ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    if (input && p.stdin) {
      input.on('error', reject);
      input.pipe(p.stdin);
    }
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0 ? resolve() : reject(new CliError(err.trim() || `tar exited with ${code}`)),
    );
  });
}

function tarStream(args: string[]): Readable {
  const p = spawn('tar', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return p.stdout;
}

/** Does `p` name a directory's contents ("dir/.")? */
function endsWithDot(p: string): boolean {
  return p === '.' || p.endsWith('/.');
}

async function fromContainer(ctx: Ctx, client: DockerClient, src: CpArg, dest: string): Promise<void> {
  let res: Awaited<ReturnType<DockerClient['stream']>>;
  try {
    res = await client.stream('GET', `/containers/${src.container}/archive`, { query: { path: src.path } });
  } catch (e) {
    if (e instanceof ApiError) throw new CliError(`Error response from daemon: ${e.message}`);
    throw e;
  }
  if (dest === '-') {
    await pipeToOut(res, ctx.stdout);
    return;
  }
  const st = decodePathStat(res.headers['x-docker-container-path-stat']);
  const srcIsDir = st ? isDirectory(st) : false;
  let destStat: fs.Stats | undefined;
  try {
    destStat = fs.statSync(dest);
  } catch {
    destStat = undefined;
  }
  const copyUid = ctx.flags.bool('archive') ? [] : ['--no-same-owner'];
  if (destStat?.isDirectory()) {
    if (srcIsDir && endsWithDot(src.path))
      await runTar(['-x', '-C', dest, '--strip-components=1', ...copyUid], res);
    else await runTar(['-x', '-C', dest, ...copyUid], res);
  } else if (destStat) {
    if (srcIsDir) {
      res.destroy();
      throw new CliError(`cannot copy directory to file: "${dest}"`);
    }
    await extractRenamed(res, dest, copyUid);
  } else {
    if (dest.endsWith('/')) {
      res.destroy();
      throw new CliError(`destination directory "${dest}" must exist: no such directory`);
    }
    const parent = path.dirname(path.resolve(dest));
    if (!fs.existsSync(parent)) {
      res.destroy();
      throw new CliError(`lstat ${parent}: no such file or directory`);
    }
    if (srcIsDir) {
      fs.mkdirSync(dest);
      await runTar(['-x', '-C', dest, '--strip-components=1', ...copyUid], res);
    } else await extractRenamed(res, dest, copyUid);
  }
  if (ctx.stderr.isTTY && !ctx.flags.bool('quiet'))
    ctx.stderr.write(`Successfully copied ${humanSize(st?.size ?? 0)} to ${dest}\n`);
}

/** Extracts a one-file tar next to `dest` and renames the file into place. */
async function extractRenamed(tar: Readable, dest: string, extra: string[]): Promise<void> {
  const parent = path.dirname(path.resolve(dest));
  const tmp = fs.mkdtempSync(path.join(parent, '.berth-cp-'));
  try {
    await runTar(['-x', '-C', tmp, ...extra], tar);
    const entries = fs.readdirSync(tmp);
    if (entries.length !== 1 || entries[0] === undefined) throw new CliError('unexpected archive content');
    fs.renameSync(path.join(tmp, entries[0]), dest);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function statInContainer(client: DockerClient, container: string, p: string): Promise<PathStat | null> {
  try {
    const res = await client.request('HEAD', `/containers/${container}/archive`, { query: { path: p } });
    return decodePathStat(res.headers['x-docker-container-path-stat']);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    if (e instanceof ApiError) throw new CliError(`Error response from daemon: ${e.message}`);
    throw e;
  }
}

async function toContainer(ctx: Ctx, client: DockerClient, src: string, dest: CpArg): Promise<void> {
  const put = async (dir: string, body: Readable) => {
    try {
      await client.request('PUT', `/containers/${dest.container}/archive`, {
        query: { path: dir, noOverwriteDirNonDir: true, copyUIDGID: ctx.flags.bool('archive') || undefined },
        body,
        headers: { 'Content-Type': 'application/x-tar' },
      });
    } catch (e) {
      if (e instanceof ApiError) throw new CliError(`Error response from daemon: ${e.message}`);
      throw e;
    }
  };
  const destStat = await statInContainer(client, dest.container, dest.path);
  if (src === '-') {
    if (!destStat || !isDirectory(destStat))
      throw new CliError(`destination "${dest.container}:${dest.path}" must be a directory`);
    await put(dest.path, ctx.stdin);
    return;
  }
  let local: fs.Stats;
  try {
    local = ctx.flags.bool('follow-link') ? fs.statSync(src) : fs.lstatSync(src);
  } catch {
    throw new CliError(`lstat ${path.resolve(src)}: no such file or directory`);
  }
  const srcAbs = path.resolve(src);
  const base = path.basename(srcAbs);
  const parent = path.dirname(srcAbs);
  const deref = ctx.flags.bool('follow-link') ? ['-h'] : [];
  if (destStat && isDirectory(destStat)) {
    if (local.isDirectory() && endsWithDot(src))
      await put(dest.path, tarStream(['-c', ...deref, '-C', srcAbs, '.']));
    else await put(dest.path, tarStream(['-c', ...deref, '-C', parent, base]));
  } else {
    if (!destStat && dest.path.endsWith('/'))
      throw new CliError(`destination "${dest.container}:${dest.path}" must be a directory`);
    if (destStat && local.isDirectory()) throw new CliError('cannot copy directory to file');
    const target = path.posix.basename(dest.path);
    const dir = path.posix.dirname(dest.path);
    const sedEscape = (t: string) => t.replace(/[\\,&.^$*[\]]/g, '\\$&');
    const targetEsc = target.replace(/[\\,&]/g, '\\$&');
    const args =
      local.isDirectory() && endsWithDot(src)
        ? ['-c', ...deref, '-C', srcAbs, `--transform=s,^\\.,${targetEsc},`, '.']
        : ['-c', ...deref, '-C', parent, `--transform=s,^${sedEscape(base)},${targetEsc},`, base];
    await put(dir, tarStream(args));
  }
  if (ctx.stderr.isTTY && !ctx.flags.bool('quiet'))
    ctx.stderr.write(`Successfully copied to ${dest.container}:${dest.path}\n`);
}

export async function cpCmd(ctx: Ctx): Promise<number> {
  const [a, b] = ctx.args as [string, string];
  const src = splitCpArg(a);
  const dest = splitCpArg(b);
  if (src.container && dest.container) throw new CliError('copying between containers is not supported');
  if (!src.container && !dest.container) throw new CliError('must specify at least one container source');
  const client = await ctx.client();
  if (src.container) {
    if (!src.path) throw new CliError('source path cannot be empty');
    await fromContainer(ctx, client, src, dest.path);
  } else {
    if (!dest.path) throw new CliError('destination path cannot be empty');
    await toContainer(ctx, client, src.path, dest);
  }
  return 0;
}
