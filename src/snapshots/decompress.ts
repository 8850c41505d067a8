/**
 * Layer tars arrive plain, gzip- or zstd-compressed; the format is told by the first bytes
 * (as Docker's DetectCompression does), never by a media type that may lie.
 * zstd goes through the `zstd` tool: Node 20's zlib has no zstd.
 */
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { badRequest } from '../util/errors.js';
import { logger } from '../util/log.js';

const log = logger('snapshots');

export type Compression = 'none' | 'gzip' | 'zstd';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x28b52ffd) return 'zstd';
  return 'none';
}

/** The uncompressed bytes of `input`, whatever its compression. Errors of the codec are 400s. */
export async function uncompressed(input: Readable): Promise<AsyncIterable<Buffer>> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  let done = false;
  while (head.length < 4 && !done) {
    const r = await it.next();
    if (r.done) done = true;
    else head = Buffer.concat([head, r.value]);
  }
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (done) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  const kind = detectCompression(head);
  log.debug('layer compression', { kind });
  if (kind === 'none') return rest();
  if (kind === 'gzip') return guard(Readable.from(rest()).pipe(zlib.createGunzip()), 'gzip');
  return zstdDecompress(Readable.from(rest()));
}

async function* guard(stream: Readable, codec: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (e) {
    throw badRequest(`invalid ${codec} data: ${(e as Error).message}`);
  }
}

async function* zstdDecompress(src: Readable): AsyncGenerator<Buffer> {
  log.debug('zstd -d -c -q');
  const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; err?: Error }>((resolve) => {
    child.once('error', (err) => resolve({ code: null, err }));
    child.once('close', (code) => resolve({ code }));
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // zstd may exit early on bad input: then stdin reports EPIPE, and the exit status says why.
  child.stdin.on('error', () => {});
  let srcError: Error | undefined;
  src.on('error', (e) => {
    srcError = e;
    child.stdin.destroy();
  });
  src.pipe(child.stdin);
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    const { code, err } = await exited;
    if (srcError) throw srcError;
    if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw badRequest('zstd-compressed layers need the zstd tool, which is not installed');
    }
    if (err) throw err;
    if (code !== 0) throw badRequest(`invalid zstd data: ${stderr.trim() || `zstd exit code ${code}`}`);
  } finally {
    if (child.exitCode === null) child.kill();
    src.destroy();
  }
}
