/**
 * Tar reading on top of tar-stream, with the header fields tar-stream leaves raw:
 * PAX uid/gid/mtime/atime overrides, and SCHILY.xattr.* values as bytes (tar-stream decodes
 * every PAX value as UTF-8, which corrupts binary xattrs such as security.capability).
 */
import { createRequire } from 'node:module';
import type tar from 'tar-stream';

// tar-stream (CommonJS) is required at first use: an idle daemon that loads no image never needs it.
const requireCjs = createRequire(import.meta.url);
let tarStream: typeof import('tar-stream') | undefined;
function tarLib(): typeof import('tar-stream') {
  tarStream ??= requireCjs('tar-stream') as typeof import('tar-stream');
  return tarStream;
}

export type EntryType = 'file' | 'directory' | 'symlink' | 'link' | 'char' | 'block' | 'fifo' | 'other';

export interface TarHeader {
  name: string;
  type: EntryType;
  /** The raw typeflag name from tar-stream, for messages about unsupported entries. */
  rawType: string;
  /** Permission bits including setuid/setgid/sticky. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch, fractional when the tar has a PAX mtime. */
  mtime: number;
  atime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
}

interface ExtractInternals {
  _header: { type: string };
  _pax: Record<string, string> | null;
  _paxGlobal: Record<string, string> | null;
  _decodeLongHeader(buf: Buffer): void;
}

/** One entry as tar-stream yields it: its header and its content bytes. */
export interface TarEntryStream extends AsyncIterable<Buffer> {
  header: tar.Header;
  resume(): unknown;
}

export interface TarParser {
  /** Write the uncompressed tar bytes here; iterate it for entries. */
  extract: tar.Extract;
  header(entry: TarEntryStream): TarHeader;
}

const XATTR_PREFIX = 'SCHILY.xattr.';

export function tarParser(): TarParser {
  // v7 tars have no ustar magic; Docker reads them, so do we.
  const extract = tarLib().extract({ allowUnknownFormat: true } as Parameters<typeof tar.extract>[0]);
  const rawXattrs = new WeakMap<object, Map<string, Buffer>>();
  const internals = extract as unknown as ExtractInternals;
  const original = internals._decodeLongHeader.bind(extract);
  // Pinned to tar-stream 3.2.x: replaces only its PAX record decoding with a byte-exact one.
  internals._decodeLongHeader = (buf: Buffer) => {
    const type = internals._header.type;
    if (type !== 'pax-header' && type !== 'pax-global-header') {
      original(buf);
      return;
    }
    const { strings, xattrs } = decodePax(buf);
    if (type === 'pax-global-header') {
      internals._paxGlobal = strings;
      return;
    }
    const pax = { ...(internals._paxGlobal ?? {}), ...strings };
    rawXattrs.set(pax, xattrs);
    internals._pax = pax;
  };
  return {
    extract,
    header(entry) {
      const h = entry.header as Partial<tar.Header> & { pax?: Record<string, string> | null };
      const pax = h.pax ?? {};
      const num = (key: string, fallback: number) => {
        const v = pax[key];
        const n = v === undefined ? Number.NaN : Number(v);
        return Number.isFinite(n) ? n : fallback;
      };
      const mtime = num('mtime', h.mtime ? h.mtime.getTime() / 1000 : 0);
      return {
        name: h.name ?? '',
        type: entryType(h.type),
        rawType: String(h.type),
        mode: (h.mode ?? 0) & 0o7777,
        uid: num('uid', h.uid ?? 0),
        gid: num('gid', h.gid ?? 0),
        size: h.size ?? 0,
        mtime,
        atime: num('atime', mtime),
        linkname: h.linkname ?? '',
        devmajor: h.devmajor ?? 0,
        devminor: h.devminor ?? 0,
        xattrs: (h.pax && rawXattrs.get(h.pax)) ?? new Map(),
      };
    },
  };
}

function entryType(t: string | undefined): EntryType {
  switch (t) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'link';
    case 'character-device':
      return 'char';
    case 'block-device':
      return 'block';
    case 'fifo':
      return 'fifo';
    default:
      return 'other';
  }
}

/** PAX records are `<len> <key>=<value>\n`; keys are UTF-8, xattr values arbitrary bytes. */
function decodePax(buf: Buffer): { strings: Record<string, string>; xattrs: Map<string, Buffer> } {
  const strings: Record<string, string> = {};
  const xattrs = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length) {
    const space = buf.indexOf(0x20, off);
    if (space < 0) break;
    const len = Number.parseInt(buf.subarray(off, space).toString('latin1'), 10);
    if (!(len > 0) || off + len > buf.length) break;
    const record = buf.subarray(space + 1, off + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq > 0) {
      const key = record.subarray(0, eq).toString('utf8');
      const value = record.subarray(eq + 1);
      if (key.startsWith(XATTR_PREFIX)) xattrs.set(key.slice(XATTR_PREFIX.length), Buffer.from(value));
      else strings[key] = value.toString('utf8');
    }
    off += len;
  }
  return { strings, xattrs };
}
