/** Device nodes and FIFOs through coreutils' `mknod` (Node cannot call mknod(2)). */
import { runTool } from '../util/exec.js';

export type NodeKind = 'char' | 'block' | 'fifo';

/** Creates a node with permission bits `mode` (the caller chowns and chmods afterwards for setuid bits). */
export async function mknod(file: string, kind: NodeKind, major = 0, minor = 0, mode = 0o644): Promise<void> {
  const m = (mode & 0o777).toString(8);
  if (kind === 'fifo') await runTool('mknod', ['-m', m, '--', file, 'p']);
  else
    await runTool('mknod', ['-m', m, '--', file, kind === 'char' ? 'c' : 'b', String(major), String(minor)]);
}

/** An overlayfs whiteout: a 0:0 character device that hides the same name in lower layers. */
export function mkWhiteout(file: string): Promise<void> {
  return mknod(file, 'char', 0, 0, 0o600);
}
