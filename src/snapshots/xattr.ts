/**
 * Extended attributes through the `attr` package's tools (Node has no xattr API):
 * `setfattr` for layer xattrs and overlay's opaque marker, `getfattr` to read a whole
 * upper directory's attributes in one call. Without the tools, callers degrade (see hasXattrTools).
 */
import fs from 'node:fs';
import path from 'node:path';
import { runTool, ToolError } from '../util/exec.js';

let toolsPresent: boolean | undefined;

/** Whether setfattr and getfattr are on the PATH (Debian package `attr`). */
export function hasXattrTools(): boolean {
  if (toolsPresent === undefined) {
    const dirs = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':');
    const found = (tool: string) => dirs.some((d) => d && fs.existsSync(path.join(d, tool)));
    toolsPresent = found('setfattr') && found('getfattr');
  }
  return toolsPresent;
}

/** Sets `name` on `file` itself (never on what a symlink points to). */
export async function setXattr(file: string, name: string, value: Buffer): Promise<void> {
  await runTool('setfattr', ['-h', '-n', name, '-v', `0x${value.toString('hex')}`, '--', file]);
}

export const OPAQUE_XATTR = 'trusted.overlay.opaque';

/** Whether directory `dir` carries overlay's opaque marker. */
export async function isOpaque(dir: string): Promise<boolean> {
  try {
    const { stdout } = await runTool('getfattr', ['-P', '--only-values', '-n', OPAQUE_XATTR, '--', dir]);
    return stdout === 'y';
  } catch (e) {
    if (e instanceof ToolError) return false; // no such attribute
    throw e;
  }
}

/**
 * All extended attributes below `dir` (including trusted.*, as root), keyed by absolute path.
 * Files without attributes are absent from the map.
 */
export async function readXattrsTree(dir: string): Promise<Map<string, Map<string, Buffer>>> {
  let stdout: string;
  try {
    ({ stdout } = await runTool('getfattr', [
      '-R',
      '-P',
      '-d',
      '-m',
      '-',
      '-e',
      'hex',
      '--absolute-names',
      dir,
    ]));
  } catch (e) {
    // A file that vanished while walking makes getfattr exit 1; what it printed is still right.
    if (!(e instanceof ToolError)) throw e;
    stdout = e.stdout;
  }
  const out = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      out.set(unescapeName(line.slice(8)), current);
    } else if (current && line.includes('=')) {
      const i = line.indexOf('=');
      const value = line.slice(i + 1);
      current.set(
        line.slice(0, i),
        value.startsWith('0x') ? Buffer.from(value.slice(2), 'hex') : Buffer.alloc(0),
      );
    }
  }
  return out;
}

/** getfattr writes unusual bytes of file names as `\ooo` octal escapes (a backslash as `\134`). */
function unescapeName(escaped: string): string {
  const raw = Buffer.from(escaped, 'utf8');
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const oct = raw[i] === 0x5c ? raw.subarray(i + 1, i + 4).toString('latin1') : '';
    if (/^[0-7]{3}$/.test(oct)) {
      bytes.push(Number.parseInt(oct, 8));
      i += 3;
    } else {
      bytes.push(raw[i]!);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
