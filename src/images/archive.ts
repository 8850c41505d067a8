/**
 * Reads an image archive (docker-archive or OCI layout, plain or gzip'd) from a stream.
 * The entries come in no useful order (manifest.json last, in docker save's archives), so
 * large files (layer tars, OCI blobs) are spooled to a private directory as they stream by,
 * hashed on the way (an OCI blob must hash to its name); small ones (manifest.json,
 * index.json, configs) stay in memory. The spool is removed when the load ends, so the
 * only layer tar kept is the one the snapshot store keeps (dockerd's load spools the same way).
 */

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import type { ContentStore } from '../content/content.js';
import { badRequest } from '../util/errors.js';
import { removeAll } from '../util/fsutil.js';

// tar-stream (CommonJS) is required at first use: an idle daemon that loads no image never needs it.
const requireCjs = createRequire(import.meta.url);
let tarStream: typeof import('tar-stream') | undefined;
function tarLib(): typeof import('tar-stream') {
  tarStream ??= requireCjs('tar-stream') as typeof import('tar-stream');
  return tarStream;
}

const IN_MEMORY_MAX = 1024 * 1024;

type ArchiveFile =
  | { kind: 'mem'; data: Buffer }
  | { kind: 'file'; path: string; digest: string; size: number };

export type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])))
    return 'xz';
  return 'none';
}

/** Tracks the blobs (image configs) a load or import added, so a failure removes exactly those. */
export class BlobTracker {
  readonly added = new Set<string>();
  constructor(private readonly content: ContentStore) {}
  async ingest(data: Buffer, digest: string): Promise<void> {
    const had = this.content.has(digest);
    await this.content.ingest(data, { digest });
    if (!had) this.added.add(digest);
  }
  discard(): void {
    for (const d of this.added) {
      try {
        this.content.delete(d);
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Reads the first n bytes of a stream without consuming them: resolves with those bytes and
 * a stream that still yields everything (the same one, or a replacement when it ended).
 */
export function peek(stream: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let len = 0;
    let ended = false;
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const done = () => {
      cleanup();
      const all = Buffer.concat(chunks);
      if (ended) resolve({ head: all.subarray(0, n), stream: Readable.from([all], { objectMode: false }) });
      else {
        if (all.length) stream.unshift(all);
        resolve({ head: all.subarray(0, n), stream });
      }
    };
    const onReadable = () => {
      let c: Buffer | null;
      while (len < n && (c = stream.read() as Buffer | null) !== null) {
        chunks.push(Buffer.from(c));
        len += c.length;
      }
      if (len >= n) done();
    };
    const onEnd = () => {
      ended = true;
      done();
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

export class Archive {
  readonly files = new Map<string, ArchiveFile>();
  readonly links = new Map<string, string>();

  /** `dir` holds the spooled files; `dispose` removes it. */
  constructor(readonly dir: string) {}

  has(name: string): boolean {
    return this.lookup(name) !== undefined;
  }

  private lookup(name: string): ArchiveFile | undefined {
    let p = normalize(name);
    for (let hops = 0; hops < 16 && p !== undefined; hops++) {
      const f = this.files.get(p);
      if (f) return f;
      p = this.links.get(p);
    }
    return undefined;
  }

  private file(name: string): ArchiveFile {
    const f = this.lookup(name);
    if (!f) throw badRequest(`invalid image archive: ${name} not found in the archive`);
    return f;
  }

  async readBuffer(name: string): Promise<Buffer> {
    const f = this.file(name);
    return f.kind === 'mem' ? f.data : fs.promises.readFile(f.path);
  }

  async readJson(name: string): Promise<unknown> {
    const buf = await this.readBuffer(name);
    try {
      return JSON.parse(buf.toString('utf8'));
    } catch (e) {
      throw badRequest(`invalid image archive: ${name}: ${(e as Error).message}`);
    }
  }

  open(name: string): Readable {
    const f = this.file(name);
    return f.kind === 'mem' ? Readable.from([f.data], { objectMode: false }) : fs.createReadStream(f.path);
  }

  head(name: string, n = 8): Buffer {
    const f = this.file(name);
    if (f.kind === 'mem') return f.data.subarray(0, n);
    const fd = fs.openSync(f.path, 'r');
    try {
      const b = Buffer.alloc(n);
      const got = fs.readSync(fd, b, 0, n, 0);
      return b.subarray(0, got);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The sha256 of a file's bytes as the archive holds them. */
  digest(name: string): string {
    const f = this.file(name);
    return f.kind === 'mem' ? sha256Of(f.data) : f.digest;
  }

  size(name: string): number {
    const f = this.file(name);
    return f.kind === 'mem' ? f.data.length : f.size;
  }

  /** Deletes the spooled files; the archive is unusable afterwards. */
  dispose(): void {
    removeAll(this.dir);
  }
}

const sha256Of = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Writes an entry to `file`, hashing it on the way. */
async function spool(entry: AsyncIterable<unknown>, file: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  await pipeline(
    Readable.from(entry, { objectMode: false }),
    hasher,
    fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }),
  );
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

function normalize(name: string): string | undefined {
  const p = path.posix.normalize(name.replace(/^\.?\/+/, '')).replace(/\/+$/, '');
  if (p === '.' || p === '') return undefined;
  return p;
}

function safeName(name: string): string | undefined {
  const p = normalize(name);
  if (p === undefined) return undefined;
  if (p.startsWith('../') || p === '..' || path.posix.isAbsolute(p)) {
    throw badRequest(`invalid image archive: entry '${name}' points outside the archive`);
  }
  return p;
}

/**
 * Reads the whole archive stream, spooling its large files under a new directory in
 * `spoolRoot`; rejects with a message naming what was wrong (and removes the spool).
 */
export async function readArchive(input: Readable, spoolRoot: string): Promise<Archive> {
  const archive = new Archive(fs.mkdtempSync(path.join(spoolRoot, 'berth-load-')));
  try {
    return await readInto(archive, input);
  } catch (e) {
    archive.dispose();
    throw e;
  }
}

async function readInto(archive: Archive, input: Readable): Promise<Archive> {
  const { head, stream: raw } = await peek(input, 8);
  if (head.length === 0) throw badRequest('invalid image archive: the tar is empty');
  const comp = detectCompression(head);
  let src: Readable = raw;
  if (comp === 'gzip') {
    const gunzip = zlib.createGunzip();
    raw.on('error', (e) => gunzip.destroy(e));
    src = raw.pipe(gunzip);
  } else if (comp !== 'none') {
    throw badRequest(
      `invalid image archive: ${comp}-compressed archives are not supported; decompress it first`,
    );
  }
  const extract = tarLib().extract();
  src.on('error', (e) => extract.destroy(e));
  src.pipe(extract);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const name = safeName(h.name);
      if (name === undefined) {
        entry.resume();
        continue;
      }
      if (h.type === 'file' || h.type === 'contiguous-file') {
        const big = name.startsWith('blobs/') || name.endsWith('.tar') || (h.size ?? 0) > IN_MEMORY_MAX;
        if (big) {
          const m = /^blobs\/(sha256)\/([a-f0-9]{64})$/.exec(name);
          const file = path.join(archive.dir, String(archive.files.size));
          const info = await spool(entry, file);
          if (h.size != null && info.size !== h.size)
            throw badRequest(`invalid image archive: ${name} is truncated`);
          if (m && info.digest !== `${m[1]}:${m[2]}`) {
            throw badRequest(
              `invalid image archive: blob ${name} has digest ${info.digest}, not the one its name says`,
            );
          }
          // A name seen twice: the later entry wins, as when tar extracts to a directory.
          archive.files.set(name, { kind: 'file', path: file, ...info });
        } else {
          const chunks: Buffer[] = [];
          for await (const c of entry) chunks.push(c as Buffer);
          const data = Buffer.concat(chunks);
          if (h.size !== undefined && data.length !== h.size)
            throw badRequest(`invalid image archive: ${name} is truncated`);
          archive.files.set(name, { kind: 'mem', data });
        }
      } else if (h.type === 'symlink' && h.linkname) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(name), h.linkname));
        archive.links.set(name, target);
        entry.resume();
      } else if (h.type === 'link' && h.linkname) {
        const target = safeName(h.linkname);
        if (target) archive.links.set(name, target);
        entry.resume();
      } else {
        entry.resume();
      }
    }
  } catch (e) {
    extract.destroy();
    const msg = (e as Error).message;
    if ((e as { status?: number }).status) throw e;
    throw badRequest(`invalid image archive: ${msg}`);
  }
  return archive;
}
