// Docker's multiplexed stream (docker-api.md §4.2): frames of [stream, 0, 0, 0, size BE32]
// followed by size bytes. Frames need not align with reads, so bytes are kept until complete.
import type { Readable, Writable } from 'node:stream';

export type StreamType = 0 | 1 | 2;

export class Demuxer {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: StreamType, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      const kind = this.buf[0];
      const payload = this.buf.subarray(8, 8 + size);
      this.buf = this.buf.subarray(8 + size);
      this.onFrame(kind === 2 ? 2 : kind === 0 ? 0 : 1, payload);
    }
  }

  /** Bytes of an incomplete frame left at the end of the stream. */
  get pending(): number {
    return this.buf.length;
  }
}

/** Copies a multiplexed stream to stdout/stderr until it ends. */
export async function demux(input: Readable, stdout: Writable, stderr: Writable): Promise<void> {
  const d = new Demuxer((kind, payload) => {
    (kind === 2 ? stderr : stdout).write(payload);
  });
  for await (const chunk of input) d.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
}
