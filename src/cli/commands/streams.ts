// Interactive streams for run, start -a, attach and exec: pumps the hijacked socket to the
// terminal (demultiplexing when there is no TTY), feeds stdin with docker's detach-key escape
// (ctrl-p,ctrl-q by default), puts the terminal in raw mode, follows its size and proxies signals.
import { spawnSync } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { Demuxer } from '../../client/demux.js';
import { CliError, type In, type Out } from './types.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** docker's term.ToBytes: "ctrl-p,ctrl-q" → [16, 17]; single characters stand for themselves. */
export function parseDetachKeys(keys: string): number[] {
  const out: number[] = [];
  for (const raw of keys.split(',')) {
    const k = raw.trim().toLowerCase();
    if (k.length > 1 && k.startsWith('ctrl-')) {
      const c = k.slice(5);
      if (c.length !== 1) throw new CliError(`Invalid detach keys (${keys}) provided`);
      const code = c.charCodeAt(0);
      if (c >= 'a' && c <= 'z') out.push(code - 96);
      else if (c === '@') out.push(0);
      else if (c === '[') out.push(27);
      else if (c === '\\') out.push(28);
      else if (c === ']') out.push(29);
      else if (c === '^') out.push(30);
      else if (c === '_') out.push(31);
      else throw new CliError(`Invalid detach keys (${keys}) provided`);
    } else if (raw.length === 1) out.push(raw.charCodeAt(0));
    else throw new CliError(`Invalid detach keys (${keys}) provided`);
  }
  return out;
}

/**
 * Watches stdin bytes for the detach sequence. Bytes that start the sequence are held back until
 * it either completes (→ detach) or breaks (→ the held bytes go through).
 */
export class EscapeProxy {
  private held: number[] = [];
  constructor(private readonly keys: number[]) {}

  /** Returns the bytes to forward and whether the sequence completed. */
  feed(chunk: Buffer): { forward: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (this.keys.length > 0 && b === this.keys[this.held.length]) {
        this.held.push(b);
        if (this.held.length === this.keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      out.push(...this.held);
      this.held = [];
      if (this.keys.length > 0 && b === this.keys[0]) {
        this.held.push(b);
        if (this.keys.length === 1) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      out.push(b);
    }
    return { forward: Buffer.from(out), detach: false };
  }
}

export interface PumpOptions {
  socket: Duplex;
  tty: boolean;
  /** null: stdin not attached (the client half-closes at once, like docker). */
  stdin: In | null;
  stdout: Out;
  stderr: Out;
  detachKeys?: string;
}

export type PumpResult = 'eof' | 'detached';

/** Runs until the daemon ends the output or the user detaches. */
export function pumpStreams(o: PumpOptions): Promise<PumpResult> {
  return new Promise((resolve, reject) => {
    const keys = parseDetachKeys(o.detachKeys || DEFAULT_DETACH_KEYS);
    const escaper = new EscapeProxy(keys);
    let settled = false;
    const cleanup = () => {
      if (o.stdin) {
        o.stdin.off('data', onStdin);
        o.stdin.off('end', onStdinEnd);
        o.stdin.pause();
      }
    };
    const finish = (r: PumpResult) => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(r);
    };
    const onStdin = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const { forward, detach } = escaper.feed(buf);
      if (forward.length) o.socket.write(forward);
      if (detach) {
        o.socket.end();
        o.socket.destroy();
        finish('detached');
      }
    };
    const onStdinEnd = () => {
      o.socket.end();
    };
    const demux = new Demuxer((kind, payload) => {
      (kind === 2 ? o.stderr : o.stdout).write(payload);
    });
    o.socket.on('data', (chunk: Buffer) => {
      if (o.tty) o.stdout.write(chunk);
      else demux.push(chunk);
    });
    o.socket.on('end', () => finish('eof'));
    o.socket.on('close', () => finish('eof'));
    o.socket.on('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') finish('eof');
      else {
        settled = true;
        cleanup();
        reject(e);
      }
    });
    if (o.stdin) {
      o.stdin.on('data', onStdin);
      o.stdin.on('end', onStdinEnd);
      o.stdin.resume();
    } else {
      o.socket.end();
    }
  });
}

/**
 * Puts a terminal stdin in raw mode like docker's term.MakeRaw; returns the function that restores
 * it. libuv's raw mode keeps output post-processing (ONLCR), which would turn the container's
 * "\r\n" into "\r\r\n", so `stty -opost` clears it too and `stty <saved>` restores everything.
 */
export function rawMode(stdin: In): () => void {
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') return () => {};
  const onTerminal = (args: string[]) =>
    spawnSync('stty', args, {
      stdio: [stdin === process.stdin ? 'inherit' : 'ignore', 'pipe', 'ignore'],
      encoding: 'utf8',
    });
  const saved = onTerminal(['-g']).stdout?.trim();
  stdin.setRawMode(true);
  onTerminal(['-opost']);
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    stdin.setRawMode?.(false);
    if (saved) onTerminal([saved]);
  };
}

/** Calls `resize(h, w)` now and on every SIGWINCH; returns the function that stops following. */
export function followTerminalSize(out: Out, resize: (h: number, w: number) => Promise<void>): () => void {
  if (!out.isTTY) return () => {};
  const send = () => {
    const h = out.rows ?? 24;
    const w = out.columns ?? 80;
    resize(h, w).catch(() => {});
  };
  send();
  process.on('SIGWINCH', send);
  return () => {
    process.off('SIGWINCH', send);
  };
}

const PROXIED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Forwards the signals berth receives to the container (docker's --sig-proxy). */
export function proxySignals(kill: (signal: string) => Promise<void>): () => void {
  const handlers = PROXIED_SIGNALS.map((sig) => {
    const h = () => {
      kill(sig.replace(/^SIG/, '')).catch(() => {});
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}
