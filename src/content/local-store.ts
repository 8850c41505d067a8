/**
 * The content store on the local filesystem: `<root>/content/blobs/sha256/<hex>` for committed
 * blobs, `<root>/content/ingest/` for bytes still arriving. See content.ts for the life cycle.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { badRequest, notFound } from '../util/errors.js';
import { mkdirp, removeAll } from '../util/fsutil.js';
import { logger } from '../util/log.js';
import type { BlobInfo, ContentStore, Digest, Expected } from './content.js';

const log = logger('content');
const DIGEST_RE = /^sha256:([0-9a-f]{64})$/;

/** The hex part of a well-formed digest; 400 naming the value otherwise. */
export function parseDigest(digest: string): string {
  const m = DIGEST_RE.exec(digest);
  if (!m) throw badRequest(`invalid digest "${digest}": expected sha256:<64 hex digits>`);
  return m[1]!;
}

export function openContentStore(root: string): ContentStore {
  const blobDir = mkdirp(path.join(root, 'content', 'blobs', 'sha256'));
  const ingestDir = path.join(root, 'content', 'ingest');
  // Whatever is in ingest/ was being written when the daemon stopped; it never became visible.
  removeAll(ingestDir);
  mkdirp(ingestDir);

  const blobPath = (digest: Digest) => path.join(blobDir, parseDigest(digest));

  function info(digest: Digest): BlobInfo | undefined {
    if (!DIGEST_RE.test(digest)) return undefined;
    try {
      const st = fs.statSync(blobPath(digest));
      return st.isFile() ? { digest, size: st.size } : undefined;
    } catch {
      return undefined;
    }
  }

  function existingPath(digest: Digest): string {
    const p = blobPath(digest);
    if (!fs.existsSync(p)) throw notFound(`content ${digest}: not found`);
    return p;
  }

  async function ingest(data: Readable | Buffer, expected: Expected = {}): Promise<BlobInfo> {
    if (expected.digest !== undefined) parseDigest(expected.digest);
    if (expected.size !== undefined && (!Number.isSafeInteger(expected.size) || expected.size < 0)) {
      throw badRequest(`invalid size ${expected.size}: expected a non-negative integer`);
    }
    // Known content: the caller's stream is drained so its pipeline completes normally.
    if (expected.digest !== undefined) {
      const known = info(expected.digest);
      if (known && (expected.size === undefined || expected.size === known.size)) {
        if (!Buffer.isBuffer(data)) for await (const _ of data) void _;
        return known;
      }
    }

    const tmp = path.join(ingestDir, randomBytes(8).toString('hex'));
    const hash = createHash('sha256');
    let size = 0;
    const fh = await fs.promises.open(tmp, 'wx', 0o644);
    try {
      try {
        if (Buffer.isBuffer(data)) {
          hash.update(data);
          size = data.length;
          await fh.writeFile(data);
        } else {
          for await (const chunk of data) {
            const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
            hash.update(buf);
            size += buf.length;
            await fh.write(buf);
          }
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      const digest = `sha256:${hash.digest('hex')}`;
      if (expected.size !== undefined && size < expected.size) {
        throw badRequest(`unexpected EOF: expected ${expected.size} bytes, got ${size}`);
      }
      if (expected.size !== undefined && size > expected.size) {
        throw badRequest(`size mismatch: expected ${expected.size} bytes, got ${size}`);
      }
      if (expected.digest !== undefined && expected.digest !== digest) {
        throw badRequest(`digest mismatch: expected ${expected.digest}, got ${digest}`);
      }
      const final = blobPath(digest);
      if (fs.existsSync(final)) {
        fs.rmSync(tmp, { force: true });
      } else {
        fs.renameSync(tmp, final);
        syncDir(blobDir);
      }
      log.debug('blob committed', { digest, size });
      return { digest, size };
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  }

  return {
    ingest,
    has: (digest) => info(digest) !== undefined,
    info,
    path: existingPath,
    read: (digest) => fs.createReadStream(existingPath(digest)),
    readBuffer: (digest) => fs.promises.readFile(existingPath(digest)),
    delete(digest) {
      fs.rmSync(blobPath(digest), { force: true });
    },
    list() {
      const out: BlobInfo[] = [];
      for (const name of fs.readdirSync(blobDir)) {
        const i = info(`sha256:${name}`);
        if (i) out.push(i);
      }
      return out;
    },
  };
}

/** Makes a rename in `dir` durable (the new directory entry survives an OS crash). */
function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
