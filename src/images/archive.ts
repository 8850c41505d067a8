/**
 * Reads an image archive (docker-archive or OCI layout, plain or gzip'd) from a stream.
 * Large files (layer tars, OCI blobs) go straight into the content store as they stream
 * by; small ones (manifest.json, index.json, configs) stay in memory. Every blob this
 * read adds to the content store is recorded, so a failed load can take them back out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import type { ContentStore } from '../content/content.js';
import { badRequest } from '../util/errors.js';

const IN_MEMORY_MAX = 1024 * 1024;

type ArchiveFile = { kind: 'mem'; data: Buffer } | { kind: 'blob'; digest: string; size: number };

export type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])))
    return 'xz';
  return 'none';
}

/** Tracks blobs that a load added, so a failure can remove exactly those. */
export class BlobTracker {
  readonly added = new Set<string>();
  private readonly before: Set<string>;
  constructor(private readonly content: ContentStore) {
    this.before = new Set(content.list().map((b) => b.digest));
  }
  async ingest(data: Readable | Buffer, expected?: { digest?: string; size?: number }) {
    const info = await this.content.ingest(data, expected);
    if (!this.before.has(info.digest)) this.added.add(info.digest);
    return info;
  }
  /** Removes the added blobs except those in `keep`. */
  discard(keep: ReadonlySet<string> = new Set()): void {
    for (const d of this.added) {
      if (keep.has(d)) continue;
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

  constructor(
    private readonly content: ContentStore,
    readonly tracker: BlobTracker,
  ) {}

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
    return f.kind === 'mem' ? f.data : this.content.readBuffer(f.digest);
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
    return f.kind === 'mem' ? Readable.from([f.data], { objectMode: false }) : this.content.read(f.digest);
  }

  head(name: string, n = 8): Buffer {
    const f = this.file(name);
    if (f.kind === 'mem') return f.data.subarray(0, n);
    const fd = fs.openSync(this.content.path(f.digest), 'r');
    try {
      const b = Buffer.alloc(n);
      const got = fs.readSync(fd, b, 0, n, 0);
      return b.subarray(0, got);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The content-store digest of a file that was ingested whole, if it was. */
  blobDigest(name: string): string | undefined {
    const f = this.file(name);
    return f.kind === 'blob' ? f.digest : undefined;
  }

  async ingestFile(name: string): Promise<string> {
    const f = this.file(name);
    if (f.kind === 'blob') return f.digest;
    return (await this.tracker.ingest(f.data)).digest;
  }
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

/** Reads the whole archive stream; rejects with a message naming what was wrong. */
export async function readArchive(
  input: Readable,
  content: ContentStore,
  tracker: BlobTracker,
): Promise<Archive> {
  const archive = new Archive(content, tracker);
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
  const extract = tarExtract();
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
          const info = await tracker.ingest(Readable.from(entry, { objectMode: false }), {
            size: h.size ?? undefined,
          });
          if (m && info.digest !== `${m[1]}:${m[2]}`) {
            throw badRequest(
              `invalid image archive: blob ${name} has digest ${info.digest}, not the one its name says`,
            );
          }
          archive.files.set(name, { kind: 'blob', digest: info.digest, size: info.size });
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
