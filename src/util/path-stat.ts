// Docker's ContainerPathStat: the X-Docker-Container-Path-Stat header of the archive API (base64
// JSON). The daemon writes it (containers/archive.ts), the CLI reads it (cli/commands/cp.ts); both
// take the shape and the Go os.FileMode bits from here, since the CLI may not import daemon parts.

export interface PathStat {
  name: string;
  size: number;
  /** A Go os.FileMode. */
  mode: number;
  mtime: string;
  linkTarget: string;
}

// Go's os.FileMode type bits.
export const MODE_DIR = 0x80000000;
export const MODE_SYMLINK = 0x08000000;
export const MODE_DEVICE = 0x04000000;
export const MODE_NAMED_PIPE = 0x02000000;
export const MODE_SOCKET = 0x01000000;
export const MODE_SETUID = 0x00800000;
export const MODE_SETGID = 0x00400000;
export const MODE_CHAR_DEVICE = 0x00200000;
export const MODE_STICKY = 0x00100000;

export function encodePathStat(s: PathStat): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}

/** The header's stat, or null when it is missing or not base64 JSON. */
export function decodePathStat(header: string | string[] | undefined): PathStat | null {
  if (typeof header !== 'string' || !header) return null;
  try {
    return JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as PathStat;
  } catch {
    return null;
  }
}

export function isDirectory(st: PathStat): boolean {
  return (st.mode & MODE_DIR) !== 0 || st.mode >= MODE_DIR;
}
