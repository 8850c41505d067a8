/**
 * A client of conmon's SEQPACKET attach socket (research/conmon.md §2.2, conmon-node.md §3).
 * Output packets are one stream byte (2 = stdout, 3 = stderr) plus ≤ 8192 bytes; input is raw
 * bytes, at most 32768 per packet. conmon blocks the container when a client stops reading,
 * so this client always reads and buffers (bounded) until someone listens.
 */
import fs from 'node:fs';
import type { SeqpacketSocket } from 'node-unix-socket';
import type { AttachConnection, AttachOptions } from './runtime.js';

const MAX_STDIN_PACKET = 32768;
/** Output kept for a listener that has not registered yet; beyond it, output is dropped. */
const MAX_EARLY_BUFFER = 1 << 20;
/** sun_path is 108 bytes; longer paths are reached through the bundle's directory fd. */
const MAX_SUN_PATH = 100;

/** Loaded at the first attach: the native addon costs a daemon that only runs detached
 *  containers about 3.5 MiB of resident memory. */
let addon: Promise<typeof import('node-unix-socket')> | undefined;

export async function connectAttach(socketPath: string, opts: AttachOptions): Promise<AttachConnection> {
  const { SeqpacketSocket } = await (addon ??= import('node-unix-socket'));
  return new Promise((resolve, reject) => {
    let dirFd: number | undefined;
    let target = socketPath;
    if (Buffer.byteLength(socketPath) > MAX_SUN_PATH) {
      const slash = socketPath.lastIndexOf('/');
      dirFd = fs.openSync(
        socketPath.slice(0, slash) || '/',
        fs.constants.O_RDONLY | fs.constants.O_DIRECTORY,
      );
      target = `/proc/self/fd/${dirFd}/${socketPath.slice(slash + 1)}`;
    }
    const closeDirFd = () => {
      if (dirFd !== undefined) fs.closeSync(dirFd);
      dirFd = undefined;
    };
    const sock = new SeqpacketSocket();
    let connected = false;
    sock.once('error', (e: Error) => {
      closeDirFd();
      if (!connected) reject(e);
    });
    try {
      sock.connect(target, () => {
        connected = true;
        closeDirFd();
        resolve(new Attach(sock, opts));
      });
    } catch (e) {
      closeDirFd();
      sock.destroy();
      reject(e);
    }
  });
}

class Attach implements AttachConnection {
  private dataListeners: ((stream: 1 | 2, data: Buffer) => void)[] = [];
  private endListeners: (() => void)[] = [];
  private early: [1 | 2, Buffer][] = [];
  private earlyBytes = 0;
  private ended = false;
  private stdinClosed = false;

  constructor(
    private readonly sock: SeqpacketSocket,
    private readonly opts: AttachOptions,
  ) {
    sock.on('data', (packet: Buffer) => this.onPacket(packet));
    sock.on('error', () => this.finish());
    sock.on('end', () => this.finish());
    sock.on('close', () => this.finish());
  }

  private onPacket(packet: Buffer): void {
    if (packet.length < 2) return;
    const stream: 1 | 2 = packet[0] === 3 ? 2 : 1;
    if (stream === 1 ? !this.opts.stdout : !this.opts.stderr) return;
    const data = packet.subarray(1);
    if (this.dataListeners.length === 0) {
      if (this.earlyBytes + data.length <= MAX_EARLY_BUFFER) {
        this.early.push([stream, Buffer.from(data)]);
        this.earlyBytes += data.length;
      }
      return;
    }
    for (const l of this.dataListeners) l(stream, data);
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.sock.destroy();
    } catch {
      // already closed
    }
    // Listeners that registered before the early buffer was flushed still get the data first.
    setImmediate(() => {
      for (const l of this.endListeners.splice(0)) l();
    });
  }

  onData(cb: (stream: 1 | 2, data: Buffer) => void): void {
    this.dataListeners.push(cb);
    if (this.early.length > 0) {
      const early = this.early;
      this.early = [];
      this.earlyBytes = 0;
      for (const [s, d] of early) cb(s, d);
    }
  }

  onEnd(cb: () => void): void {
    if (this.ended) setImmediate(cb);
    else this.endListeners.push(cb);
  }

  write(data: Buffer): void {
    if (!this.opts.stdin || this.stdinClosed || this.ended) return;
    for (let off = 0; off < data.length; off += MAX_STDIN_PACKET) {
      const chunk = data.subarray(off, Math.min(off + MAX_STDIN_PACKET, data.length));
      try {
        this.sock.write(chunk, 0, chunk.length);
      } catch {
        this.finish();
        return;
      }
    }
  }

  closeStdin(): void {
    if (this.stdinClosed || this.ended) return;
    this.stdinClosed = true;
    try {
      // SHUT_WR: conmon closes a StdinOnce container's stdin (conmon.md §3).
      this.sock.end();
    } catch {
      // the peer already closed (node-unix-socket throws synchronously)
    }
  }

  close(): void {
    this.finish();
  }
}
