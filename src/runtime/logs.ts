/**
 * Reading conmon's k8s-file logs (research/conmon.md §1.5, conmon-node.md §2) and rotating them.
 * A record is `<RFC3339Nano±hh:mm> <stdout|stderr> <F|P> <text>\n`; P records of one stream are
 * joined until its next F into one logical line (Docker's json-file view). Rotated files are
 * `<log>.1` (newest) … `<log>.N` (oldest); they are read oldest first. `tail` reads backwards.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { LogOptions, LogRecord } from './runtime.js';

export interface RawRecord {
  stream: 1 | 2;
  time: string;
  timeNano: bigint;
  partial: boolean;
  text: Buffer;
}

const TS_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;
const SP = 0x20;
const NL = 0x0a;
const NL_BUF = Buffer.from([NL]);

/** `stdout` → 1, `stderr` → 2, compared in place (this runs once per log line). */
function streamAt(line: Buffer, start: number, end: number): 1 | 2 | undefined {
  if (end - start !== 6 || line[start] !== 0x73 || line[start + 1] !== 0x74 || line[start + 2] !== 0x64)
    return undefined;
  const a = line[start + 3];
  const b = line[start + 4];
  const c = line[start + 5];
  if (a === 0x6f && b === 0x75 && c === 0x74) return 1; // out
  if (a === 0x65 && b === 0x72 && c === 0x72) return 2; // err
  return undefined;
}

/** Parses one record line (without its newline); undefined for lines that are not records. */
export function parseRecord(line: Buffer): RawRecord | undefined {
  const s1 = line.indexOf(SP);
  if (s1 < 0) return undefined;
  const s2 = line.indexOf(SP, s1 + 1);
  if (s2 < 0) return undefined;
  const stream = streamAt(line, s1 + 1, s2);
  if (!stream) return undefined;
  const tag = line[s2 + 1];
  if (tag !== 0x46 && tag !== 0x50) return undefined; // F | P
  if (s2 + 2 < line.length && line[s2 + 2] !== SP) return undefined;
  const ts = parseTimestamp(line.toString('latin1', 0, s1));
  if (!ts) return undefined;
  return {
    stream,
    time: ts.time,
    timeNano: ts.timeNano,
    partial: tag === 0x50,
    text: line.subarray(Math.min(s2 + 3, line.length)),
  };
}

/** The last second (with its zone) parsed: a log's records come in bursts within one second. */
let lastSecond = { key: '', iso: '', nano: 0n };

/** RFC3339 with an offset → Unix nanoseconds and the same instant as `…nnnnnnnnnZ`. */
export function parseTimestamp(s: string): { time: string; timeNano: bigint } | undefined {
  const m = TS_RE.exec(s);
  if (!m) return undefined;
  const key = `${m[1]}${m[3]}`;
  let second = lastSecond;
  if (second.key !== key) {
    const ms = Date.parse(key);
    if (Number.isNaN(ms)) return undefined;
    const secs = Math.floor(ms / 1000);
    second = {
      key,
      iso: new Date(secs * 1000).toISOString().slice(0, 19),
      nano: BigInt(secs) * 1_000_000_000n,
    };
    lastSecond = second;
  }
  const frac = m[2] === undefined ? '000000000' : m[2].length === 9 ? m[2] : m[2].padEnd(9, '0');
  return { time: `${second.iso}.${frac}Z`, timeNano: second.nano + BigInt(frac) };
}

/** `text` and a newline, in one buffer from the pool (Buffer.concat is slower per line). */
function withNewline(text: Buffer): Buffer {
  const out = Buffer.allocUnsafe(text.length + 1);
  text.copy(out, 0);
  out[text.length] = NL;
  return out;
}

/** Joins P chunks per stream until the stream's next F. */
class Merger {
  private pending = new Map<1 | 2, { first: RawRecord; chunks: Buffer[] }>();

  push(r: RawRecord): LogRecord | undefined {
    const p = this.pending.get(r.stream);
    if (r.partial) {
      if (p) p.chunks.push(r.text);
      else this.pending.set(r.stream, { first: r, chunks: [r.text] });
      return undefined;
    }
    if (!p) return { stream: r.stream, time: r.time, timeNano: r.timeNano, line: withNewline(r.text) };
    this.pending.delete(r.stream);
    const first = p.first;
    return {
      stream: r.stream,
      time: first.time,
      timeNano: first.timeNano,
      line: Buffer.concat([...p.chunks, r.text, NL_BUF]),
    };
  }

  /** Unfinished lines (output that ended without a newline), oldest first. */
  flush(): LogRecord[] {
    const out = [...this.pending.values()].map(({ first, chunks }) => ({
      stream: first.stream,
      time: first.time,
      timeNano: first.timeNano,
      line: Buffer.concat(chunks),
    }));
    this.pending.clear();
    return out.sort((a, b) => (a.timeNano < b.timeNano ? -1 : a.timeNano > b.timeNano ? 1 : 0));
  }
}

/** The rotated files of a log, oldest first (`log.3`, `log.2`, `log.1`), not the live file. */
export function rotatedFiles(logPath: string): string[] {
  const dir = path.dirname(logPath);
  const base = `${path.basename(logPath)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(base) && /^\d+$/.test(n.slice(base.length)))
    .map((n) => ({ n, i: Number(n.slice(base.length)) }))
    .sort((a, b) => b.i - a.i)
    .map(({ n }) => path.join(dir, n));
}

const BLOCK = 64 * 1024;

/** Reads lines forward from an open file, keeping an incomplete last line for the next call. */
class ForwardReader {
  private rest = Buffer.alloc(0);

  constructor(
    readonly fh: fsp.FileHandle,
    public pos: number,
  ) {}

  /** All complete lines available now; with `final`, also an unterminated last line. */
  async read(final: boolean): Promise<Buffer[]> {
    const lines: Buffer[] = [];
    for (;;) {
      // A fresh block per read: the lines are views into it, not copies.
      const buf = Buffer.allocUnsafeSlow(BLOCK);
      const { bytesRead } = await this.fh.read(buf, 0, BLOCK, this.pos);
      if (bytesRead === 0) break;
      this.pos += bytesRead;
      const data = this.rest.length
        ? Buffer.concat([this.rest, buf.subarray(0, bytesRead)])
        : buf.subarray(0, bytesRead);
      let start = 0;
      let nl = data.indexOf(NL, start);
      while (nl >= 0) {
        lines.push(data.subarray(start, nl));
        start = nl + 1;
        nl = data.indexOf(NL, start);
      }
      this.rest = Buffer.from(data.subarray(start));
    }
    if (final && this.rest.length) {
      lines.push(this.rest);
      this.rest = Buffer.alloc(0);
    }
    return lines;
  }
}

async function openIfExists(file: string): Promise<fsp.FileHandle | undefined> {
  try {
    return await fsp.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Raw records needed for the last `tail` logical lines: read backwards through the live file
 * (up to `liveEnd`) and then the rotated ones, until `tail` complete lines were seen and, for
 * each wanted stream, the F that ends the line before them (so no line is cut in half).
 */
async function tailRecords(
  files: { file: string; end?: number }[],
  tail: number,
  wanted: (s: 1 | 2) => boolean,
): Promise<RawRecord[]> {
  const collected: RawRecord[] = [];
  let complete = 0;
  let boundary: Set<1 | 2> | undefined;
  const take = (r: RawRecord): boolean => {
    if (!wanted(r.stream)) return true;
    if (boundary) {
      if (!boundary.has(r.stream)) return boundary.size > 0;
      if (!r.partial) {
        boundary.delete(r.stream);
        return boundary.size > 0;
      }
      collected.push(r);
      return true;
    }
    collected.push(r);
    if (!r.partial) complete++;
    if (complete >= tail) {
      boundary = new Set<1 | 2>([1, 2].filter((s) => wanted(s as 1 | 2)) as (1 | 2)[]);
    }
    return true;
  };
  outer: for (const { file, end } of files) {
    const fh = await openIfExists(file);
    if (!fh) continue;
    try {
      let pos = end ?? (await fh.stat()).size;
      let rest = Buffer.alloc(0);
      const buf = Buffer.alloc(BLOCK);
      let first = true;
      while (pos > 0) {
        const len = Math.min(BLOCK, pos);
        pos -= len;
        await fh.read(buf, 0, len, pos);
        const data = Buffer.concat([buf.subarray(0, len), rest]);
        let endIdx = data.length;
        if (first && data[endIdx - 1] === NL) endIdx--;
        first = false;
        // Lines after the block's first newline are whole; the head may continue in the block before.
        while (endIdx > 0) {
          const nl = data.lastIndexOf(NL, endIdx - 1);
          if (nl < 0) break;
          const r = endIdx > nl + 1 ? parseRecord(data.subarray(nl + 1, endIdx)) : undefined;
          if (r && !take({ ...r, text: Buffer.from(r.text) })) break outer;
          endIdx = nl;
        }
        rest = Buffer.from(data.subarray(0, endIdx));
      }
      if (rest.length) {
        const r = parseRecord(rest);
        if (r && !take({ ...r, text: Buffer.from(r.text) })) break;
      }
    } finally {
      await fh.close();
    }
  }
  return collected.reverse();
}

/** Reads a container's log as logical lines (see LogOptions). */
export async function* readLogs(logPath: string, opts: LogOptions): AsyncGenerator<LogRecord> {
  const wanted = (s: 1 | 2) => (s === 1 ? opts.stdout : opts.stderr);
  const since = opts.since !== undefined ? BigInt(Math.round(opts.since * 1e9)) : undefined;
  const until = opts.until !== undefined ? BigInt(Math.round(opts.until * 1e9)) : undefined;
  let stopped = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  opts.stopWhen?.then(stop, stop);
  let beyondUntil = false;
  const pass = (r: LogRecord): boolean => {
    if (until !== undefined && r.timeNano > until) {
      beyondUntil = true;
      return false;
    }
    return since === undefined || r.timeNano >= since;
  };

  const merger = new Merger();
  let live = await openIfExists(logPath);
  let reader: ForwardReader | undefined;
  try {
    if (opts.tail !== undefined) {
      if (opts.tail > 0) {
        const liveEnd = live ? (await live.stat()).size : 0;
        const files = [
          { file: logPath, end: liveEnd },
          ...rotatedFiles(logPath)
            .reverse()
            .map((file) => ({ file })),
        ];
        const records: LogRecord[] = [];
        for (const r of await tailRecords(files, opts.tail, wanted)) {
          const m = merger.push(r);
          if (m) records.push(m);
        }
        // An unfinished last line counts as a line; with follow it stays pending (its F may come).
        if (!opts.follow) records.push(...merger.flush());
        for (const r of records.slice(-opts.tail)) {
          if (pass(r)) yield r;
          else if (beyondUntil) return;
        }
        if (!opts.follow) return;
        reader = live ? new ForwardReader(live, liveEnd) : undefined;
      } else if (!opts.follow) {
        return;
      } else {
        reader = live ? new ForwardReader(live, (await live.stat()).size) : undefined;
      }
    } else {
      for (const file of rotatedFiles(logPath)) {
        const fh = await openIfExists(file);
        if (!fh) continue;
        try {
          for (const line of await new ForwardReader(fh, 0).read(true)) {
            const r = parseRecord(line);
            if (!r || !wanted(r.stream)) continue;
            const m = merger.push(r);
            if (m && pass(m)) yield m;
            if (beyondUntil) return;
          }
        } finally {
          await fh.close();
        }
      }
      reader = live ? new ForwardReader(live, 0) : undefined;
    }

    // Forward from the live file; with follow, keep reading (and follow rotations) until stopped.
    let watcher: fs.FSWatcher | undefined;
    const watch = () => {
      watcher?.close();
      try {
        watcher = fs.watch(logPath, () => wake?.());
        watcher.on('error', () => {});
      } catch {
        watcher = undefined;
      }
    };
    try {
      if (opts.follow) watch();
      for (;;) {
        const finalPass = !opts.follow || stopped;
        if (reader) {
          for (const line of await reader.read(finalPass)) {
            const r = parseRecord(line);
            if (!r || !wanted(r.stream)) continue;
            const m = merger.push(r);
            if (m && pass(m)) yield m;
            if (beyondUntil) return;
          }
        }
        // Rotation: the live path now names a new file; finish the old one, then switch.
        const st = await fsp.stat(logPath).catch(() => undefined);
        if (st && (!reader || (await reader.fh.stat()).ino !== st.ino)) {
          if (reader) {
            for (const line of await reader.read(true)) {
              const r = parseRecord(line);
              if (!r || !wanted(r.stream)) continue;
              const m = merger.push(r);
              if (m && pass(m)) yield m;
              if (beyondUntil) return;
            }
            await reader.fh.close();
          }
          live = await openIfExists(logPath);
          reader = live ? new ForwardReader(live, 0) : undefined;
          if (opts.follow) watch();
          continue;
        }
        if (finalPass) break;
        if (until !== undefined && BigInt(Date.now()) * 1_000_000n > until) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 250);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
          if (stopped) wake();
        });
        wake = undefined;
      }
    } finally {
      watcher?.close();
    }
    for (const r of merger.flush()) if (pass(r)) yield r;
  } finally {
    await reader?.fh.close().catch(() => {});
    if (live && live !== reader?.fh) await live.close().catch(() => {});
  }
}

/**
 * Docker's max-size/max-file: shift `log.N-1`→`log.N` …, rename the live log to `log.1`, then
 * ask conmon to reopen its log (`2 0 0` on ctl). Writes between rename and reopen land in
 * `log.1`, so nothing is lost (conmon-node.md §2.2). Returns whether it rotated.
 */
export function rotateIfNeeded(logPath: string, maxSize: number, maxFiles: number, ctlPath: string): boolean {
  let size: number;
  try {
    size = fs.statSync(logPath).size;
  } catch {
    return false;
  }
  if (size < maxSize) return false;
  const keep = Math.max(1, maxFiles) - 1;
  for (const old of rotatedFiles(logPath)) {
    const n = Number(old.slice(logPath.length + 1));
    if (n >= keep && n !== 1) fs.rmSync(old, { force: true });
  }
  for (let i = keep - 1; i >= 1; i--) {
    try {
      fs.renameSync(`${logPath}.${i}`, `${logPath}.${i + 1}`);
    } catch {
      // missing: fewer rotations so far
    }
  }
  fs.renameSync(logPath, `${logPath}.1`);
  writeCtl(ctlPath, '2 0 0\n');
  // max-file 1: the old content is dropped (Docker truncates); conmon has reopened by then or
  // writes its last bytes into an unlinked file.
  if (keep === 0) setTimeout(() => fs.rmSync(`${logPath}.1`, { force: true }), 100).unref();
  return true;
}

/** Writes one control line to conmon's ctl FIFO without ever blocking (ENXIO once conmon is gone). */
export function writeCtl(ctlPath: string, line: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(ctlPath, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    fs.writeSync(fd, line);
    return true;
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}
