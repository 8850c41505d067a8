/**
 * One client attached to a container (docker-api.md §0.3–0.5, §4.1): stdin that arrives
 * before the container starts is buffered and delivered once the task exists; output is
 * framed (8-byte stdcopy headers) unless the container has a TTY; the client's half-close
 * closes the process's stdin (StdinOnce), ends the session (stdin without StdinOnce) or is
 * ignored (no stdin); detach keys end the session and leave the container running.
 */
import type { RawConnection } from '../api/types.js';
import type { AttachConnection } from '../runtime/runtime.js';
import { badRequest } from '../util/errors.js';

export interface AttachSessionOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  stdinOnce: boolean;
  detachKeys: number[];
}

/** Docker's `--detach-keys` syntax: `ctrl-p,ctrl-q`, `a`, `ctrl-@`, `ctrl-[`. */
export function parseDetachKeys(spec: string | undefined): number[] {
  const s = spec && spec !== '' ? spec : 'ctrl-p,ctrl-q';
  const out: number[] = [];
  for (const key of s.split(',')) {
    if (key.length > 1 && key.startsWith('ctrl-')) {
      const c = key.slice(5).toLowerCase();
      const special: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };
      if (c.length === 1 && c >= 'a' && c <= 'z') out.push(c.charCodeAt(0) - 96);
      else if (c in special) out.push(special[c]!);
      else throw badRequest(`Invalid escape keys (${s}) provided`);
    } else if (key.length === 1) out.push(key.charCodeAt(0));
    else throw badRequest(`Invalid escape keys (${s}) provided`);
  }
  return out;
}

export function frame(stream: 0 | 1 | 2, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

export class AttachSession {
  private conn: AttachConnection | undefined;
  private pending: Buffer[] = [];
  private inputEnded = false;
  private done = false;
  private held: number[] = [];
  private readonly doneListeners: (() => void)[] = [];

  constructor(
    private readonly raw: RawConnection,
    private readonly opts: AttachSessionOptions,
  ) {
    raw.input.on('data', (chunk: Buffer) => this.onInput(chunk));
    raw.input.on('end', () => this.onInputEnd());
    raw.input.on('error', () => this.finish());
    raw.input.on('close', () => {
      // A full close without a FIN first means the client went away.
      if (!this.inputEnded) this.finish();
    });
    raw.output.on('error', () => this.finish());
    raw.output.on('close', () => this.finish());
  }

  get closed(): boolean {
    return this.done;
  }

  /** Output written before the live stream (logs=1 replay). */
  writeOutput(stream: 1 | 2, data: Buffer): void {
    if (this.done) return;
    if (stream === 1 ? !this.opts.stdout : !this.opts.stderr) return;
    this.raw.output.write(this.opts.tty ? data : frame(stream, data));
  }

  onDone(cb: () => void): void {
    if (this.done) cb();
    else this.doneListeners.push(cb);
  }

  /** Hands the session the task's attach connection; buffered stdin goes first. */
  connect(conn: AttachConnection): void {
    if (this.done) {
      conn.close();
      return;
    }
    this.conn = conn;
    conn.onData((stream, data) => this.writeOutput(stream, data));
    conn.onEnd(() => this.finish());
    for (const chunk of this.pending.splice(0)) conn.write(chunk);
    if (this.inputEnded) this.applyInputEnd();
  }

  /** Ends the session: our FIN to the client, the attach connection closed. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    try {
      this.conn?.close();
    } catch {
      // already closed
    }
    try {
      this.raw.end();
    } catch {
      this.raw.destroy();
    }
    for (const l of this.doneListeners.splice(0)) l();
  }

  private onInput(chunk: Buffer): void {
    if (!this.opts.stdin || this.done) return;
    const out: number[] = [];
    const keys = this.opts.detachKeys;
    for (const b of chunk) {
      if (keys.length > 0 && b === keys[this.held.length]) {
        this.held.push(b);
        if (this.held.length === keys.length) {
          this.held = [];
          if (out.length > 0) this.deliver(Buffer.from(out));
          this.finish();
          return;
        }
        continue;
      }
      if (this.held.length > 0) {
        out.push(...this.held);
        this.held = [];
      }
      out.push(b);
    }
    if (out.length > 0) this.deliver(Buffer.from(out));
  }

  private deliver(data: Buffer): void {
    if (this.conn) this.conn.write(data);
    else this.pending.push(data);
  }

  private onInputEnd(): void {
    this.inputEnded = true;
    if (this.held.length > 0) {
      this.deliver(Buffer.from(this.held));
      this.held = [];
    }
    if (this.conn) this.applyInputEnd();
  }

  private applyInputEnd(): void {
    if (!this.opts.stdin) return;
    if (this.opts.stdinOnce) this.conn?.closeStdin();
    else this.finish();
  }
}
