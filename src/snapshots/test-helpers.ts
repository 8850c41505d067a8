/** Helpers shared by this part's tests (not used by the engine). */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { type TarEntry, tarStream } from './tar-write.js';

export interface Cleanup {
  after(fn: () => void | Promise<void>): void;
}

/** A temporary directory removed when the test ends, pass or fail. */
export function tempDir(t: Cleanup, prefix = 'berth-snap-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A tar built from entries (with `content` for files), as bytes: lets tests craft hostile archives. */
export async function makeTar(
  entries: (Partial<TarEntry> & { name: string; content?: string })[],
): Promise<Buffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tarsrc-'));
  try {
    const full: TarEntry[] = entries.map((e, i) => {
      let source: string | undefined;
      if (e.content !== undefined) {
        source = path.join(dir, String(i));
        fs.writeFileSync(source, e.content);
      }
      return {
        type: 'file',
        mode: e.type === 'directory' ? 0o755 : 0o644,
        uid: 0,
        gid: 0,
        mtime: 1_600_000_000,
        ...e,
        size: e.content !== undefined ? Buffer.byteLength(e.content) : 0,
        source,
      };
    });
    const chunks: Buffer[] = [];
    for await (const c of tarStream(full)) chunks.push(c);
    return Buffer.concat(chunks);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export const streamOf = (b: Buffer) => Readable.from([b]);

export async function collect(r: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
