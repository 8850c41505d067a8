/**
 * `docker export`: the container's whole root filesystem as one tar, entries named like
 * dockerd's (`bin/`, `etc/passwd`, no `./` prefix), read from the mounted rootfs so the
 * image layers and the writable layer appear merged.
 */
import fs from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { runTar } from './archive.js';

export async function exportRootfs(root: string, consume: (tar: Readable) => Promise<void>): Promise<void> {
  const names = fs.readdirSync(root).sort();
  if (names.length === 0) {
    // GNU tar refuses to write an empty archive; two zero blocks are one.
    const empty = new PassThrough();
    empty.end(Buffer.alloc(1024));
    await consume(empty);
    return;
  }
  await runTar(root, ['--numeric-owner', '--one-file-system', '-cf', '-', '--', ...names], consume);
}
