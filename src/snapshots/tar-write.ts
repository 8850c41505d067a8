/**
 * A small tar writer (ustar headers, PAX records where ustar cannot hold a value). Our own
 * rather than tar-stream's pack because PAX values must be bytes: tar-stream writes them as
 * UTF-8 strings, which corrupts binary xattrs such as security.capability.
 */
import fs from 'node:fs';

export interface TarEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** File size for `file`; 0 otherwise. */
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
  /** Where the bytes of a `file` come from; absent means an empty file. */
  source?: string;
}

const TYPEFLAG: Record<TarEntry['type'], string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  directory: '5',
  fifo: '6',
};
const BLOCK = 512;
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

/** The tar bytes of `entries`, in order, ending with the two zero blocks. */
export async function* tarStream(
  entries: AsyncIterable<TarEntry> | Iterable<TarEntry>,
): AsyncGenerator<Buffer> {
  for await (const e of entries) {
    yield* headerBlocks(e);
    if (e.type === 'file' && e.source && (e.size ?? 0) > 0) {
      let written = 0;
      for await (const chunk of fs.createReadStream(e.source, { end: (e.size ?? 0) - 1 })) {
        written += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      // A file that shrank while being read would corrupt the archive: pad it to the size announced.
      if (written < (e.size ?? 0)) yield Buffer.alloc((e.size ?? 0) - written);
      const pad = padding(e.size ?? 0);
      if (pad) yield Buffer.alloc(pad);
    }
  }
  yield Buffer.alloc(BLOCK * 2);
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

export function headerBlocks(e: TarEntry): Buffer[] {
  const name = e.type === 'directory' && !e.name.endsWith('/') ? `${e.name}/` : e.name;
  const linkname = e.linkname ?? '';
  const size = e.type === 'file' ? (e.size ?? 0) : 0;
  const pax: [string, Buffer][] = [];
  const split = splitName(name);
  if (!split) pax.push(['path', Buffer.from(name)]);
  if (Buffer.byteLength(linkname) > 100 || !isAscii(linkname)) pax.push(['linkpath', Buffer.from(linkname)]);
  if (e.uid > MAX_OCTAL_7) pax.push(['uid', Buffer.from(String(e.uid))]);
  if (e.gid > MAX_OCTAL_7) pax.push(['gid', Buffer.from(String(e.gid))]);
  if (size > MAX_OCTAL_11) pax.push(['size', Buffer.from(String(size))]);
  for (const [k, v] of [...(e.xattrs ?? new Map<string, Buffer>())].sort(([a], [b]) => (a < b ? -1 : 1))) {
    pax.push([`SCHILY.xattr.${k}`, v]);
  }
  const out: Buffer[] = [];
  if (pax.length) {
    const body = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
    const paxName = `PaxHeaders/${name.replace(/\/$/, '').split('/').pop() ?? ''}`.slice(0, 99);
    out.push(
      ustar({
        name: paxName,
        prefix: '',
        typeflag: 'x',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: body.length,
        mtime: 0,
      }),
    );
    out.push(body, Buffer.alloc(padding(body.length)));
  }
  const ascii = (s: string) => (isAscii(s) ? s : '');
  out.push(
    ustar({
      name: split ? ascii(split.name) : ascii(name).slice(0, 100),
      prefix: split ? ascii(split.prefix) : '',
      typeflag: TYPEFLAG[e.type],
      mode: e.mode & 0o7777,
      uid: Math.min(e.uid, MAX_OCTAL_7),
      gid: Math.min(e.gid, MAX_OCTAL_7),
      size: size > MAX_OCTAL_11 ? 0 : size,
      mtime: Math.max(0, Math.min(Math.floor(e.mtime), MAX_OCTAL_11)),
      linkname: Buffer.byteLength(linkname) <= 100 ? ascii(linkname) : '',
      devmajor: e.devmajor ?? 0,
      devminor: e.devminor ?? 0,
    }),
  );
  return out;
}

function isAscii(s: string): boolean {
  return /^[\x00-\x7f]*$/.test(s);
}

/** ustar's name (100 bytes) + prefix (155 bytes) split at a slash, or null when it does not fit. */
function splitName(name: string): { name: string; prefix: string } | null {
  if (!isAscii(name)) return null;
  if (name.length <= 100) return { name, prefix: '' };
  for (let i = name.indexOf('/'); i >= 0 && i <= 155; i = name.indexOf('/', i + 1)) {
    const rest = name.slice(i + 1);
    if (rest.length > 0 && rest.length <= 100) return { name: rest, prefix: name.slice(0, i) };
  }
  return null;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const tail = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = tail.length + 1;
  while (String(len).length + tail.length !== len) len = String(len).length + tail.length;
  return Buffer.concat([Buffer.from(String(len)), tail]);
}

interface UstarFields {
  name: string;
  prefix: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

function ustar(f: UstarFields): Buffer {
  const b = Buffer.alloc(BLOCK);
  const oct = (v: number, width: number) => `${v.toString(8).padStart(width - 1, '0')}\0`;
  b.write(f.name, 0, 100, 'utf8');
  b.write(oct(f.mode, 8), 100, 'latin1');
  b.write(oct(f.uid, 8), 108, 'latin1');
  b.write(oct(f.gid, 8), 116, 'latin1');
  b.write(oct(f.size, 12), 124, 'latin1');
  b.write(oct(f.mtime, 12), 136, 'latin1');
  b.write('        ', 148, 'latin1');
  b.write(f.typeflag, 156, 'latin1');
  b.write(f.linkname ?? '', 157, 100, 'utf8');
  b.write('ustar\x0000', 257, 'latin1');
  b.write(oct(f.devmajor ?? 0, 8), 329, 'latin1');
  b.write(oct(f.devminor ?? 0, 8), 337, 'latin1');
  b.write(f.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}
