/** Small file helpers for the runtime's own, regenerable files. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Replaces `file` by renaming a fully written temporary file over it, so readers never see a
 * partial file; no fsync, for files that are rewritten whenever they matter (a bundle's
 * config.json is written at each create and means nothing after an OS crash).
 */
export function writeFileReplace(file: string, data: string, mode = 0o644): void {
  const tmp = path.join(path.dirname(file), `.tmp-${path.basename(file)}-${randomBytes(4).toString('hex')}`);
  fs.writeFileSync(tmp, data, { mode });
  fs.renameSync(tmp, file);
}
