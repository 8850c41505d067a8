/**
 * `GET /containers/{id}/logs`: the runtime's log records rendered the way dockerd sends them —
 * 8-byte stream frames unless the container has a TTY, `timestamps=1` putting the fixed-width
 * RFC3339Nano time and a space before each line, `details=1` a space. Frames are packed into
 * large writes (≥ 64 KiB while a backlog is being read), since per-line writes make a 100k-line
 * log several times slower than dockerd.
 */
import type { Writable } from 'node:stream';
import type { Query } from '../api/types.js';
import type { LogRecord } from '../runtime/runtime.js';
import { badRequest } from '../util/errors.js';

export interface LogsQuery {
  stdout: boolean;
  stderr: boolean;
  follow: boolean;
  timestamps: boolean;
  details: boolean;
  /** Unix seconds (fractional). */
  since?: number;
  until?: number;
  /** Last N lines; undefined = all. */
  tail?: number;
}

/** Docker's timestamps: unix seconds with an optional fraction, or RFC3339; 0/empty = unset. */
export function parseLogTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^-?\d+(\.\d+)?$/.test(value)) {
    const n = Number(value);
    return n === 0 ? undefined : n;
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw badRequest(`invalid value for ${name}: '${value}'`);
  return t / 1000;
}

export function parseLogsQuery(q: Query): LogsQuery {
  const stdout = q.bool('stdout');
  const stderr = q.bool('stderr');
  if (!stdout && !stderr) throw badRequest('Bad parameters: you must choose at least one stream');
  // dockerd: anything that is not a number (including "all") means every line; negative too.
  const tailRaw = q.get('tail');
  let tail: number | undefined;
  if (tailRaw !== undefined && /^-?\d+$/.test(tailRaw.trim())) {
    const n = Number(tailRaw.trim());
    tail = n < 0 ? undefined : n;
  }
  return {
    stdout,
    stderr,
    follow: q.bool('follow'),
    timestamps: q.bool('timestamps'),
    details: q.bool('details'),
    since: parseLogTime(q.get('since'), 'since'),
    until: parseLogTime(q.get('until'), 'until'),
    tail,
  };
}

const FLUSH_AT = 64 * 1024;
const SLAB = 256 * 1024;

/**
 * Packs frames into slabs and writes a slab when it holds 64 KiB, or once the producer has
 * stopped for a moment: a flush is scheduled with setImmediate when the slab becomes
 * non-empty, and immediates only run after the reader blocks on I/O, so a backlog goes out
 * in big writes while a follower still sees each new line at once.
 */
export class FrameWriter {
  private slab = Buffer.allocUnsafe(SLAB);
  private used = 0;
  private scheduled = false;

  constructor(
    private readonly out: Writable,
    private readonly multiplexed: boolean,
  ) {}

  /** Appends one message (`prefix` + `line`); returns a promise when the stream needs draining. */
  add(stream: 1 | 2, prefix: string, line: Buffer): Promise<void> | undefined {
    const size = (prefix.length === 0 ? 0 : Buffer.byteLength(prefix)) + line.length;
    const need = size + (this.multiplexed ? 8 : 0);
    let wait: Promise<void> | undefined;
    if (this.used + need > this.slab.length) {
      wait = this.flush();
      if (need > this.slab.length) this.slab = Buffer.allocUnsafe(need);
    }
    const s = this.slab;
    if (this.multiplexed) {
      const o = this.used;
      s[o] = stream;
      s[o + 1] = 0;
      s[o + 2] = 0;
      s[o + 3] = 0;
      s.writeUInt32BE(size, o + 4);
      this.used += 8;
    }
    if (prefix.length !== 0) this.used += s.write(prefix, this.used, 'utf8');
    line.copy(s, this.used);
    this.used += line.length;
    if (this.used >= FLUSH_AT) return this.flush() ?? wait;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
    return wait;
  }

  /** Writes what is buffered; the promise (if any) resolves once the stream drained. */
  flush(): Promise<void> | undefined {
    if (this.used === 0) return undefined;
    const chunk = this.slab.subarray(0, this.used);
    // The stream keeps a reference to the chunk until written: continue in a fresh slab.
    this.slab = Buffer.allocUnsafe(SLAB);
    this.used = 0;
    if (this.out.destroyed || this.out.writableEnded) return undefined;
    if (this.out.write(chunk)) return undefined;
    return new Promise<void>((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('close', done);
        resolve();
      };
      this.out.on('drain', done);
      this.out.on('close', done);
    });
  }
}

export interface RenderOptions {
  tty: boolean;
  timestamps: boolean;
  details: boolean;
}

/**
 * Streams `records` to `out` in Docker's log format and resolves when the records end or
 * `gone()` turns true (client disconnected). Does not end `out`.
 */
export async function writeLogRecords(
  records: AsyncIterable<LogRecord>,
  out: Writable,
  opts: RenderOptions,
  gone: () => boolean,
): Promise<void> {
  const w = new FrameWriter(out, !opts.tty);
  const details = opts.details ? ' ' : '';
  for await (const rec of records) {
    if (gone() || out.destroyed) break;
    const prefix = opts.timestamps ? `${rec.time} ${details}` : details;
    const wait = w.add(rec.stream, prefix, rec.line);
    if (wait) await wait;
  }
  await w.flush();
}
