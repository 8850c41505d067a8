import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { makeQuery } from '../api/query.js';
import type { LogRecord } from '../runtime/runtime.js';
import { parseLogsQuery, writeLogRecords } from './log-stream.js';

function rec(stream: 1 | 2, line: string, time = '2024-01-02T03:04:05.000000001Z'): LogRecord {
  return { stream, time, timeNano: 0n, line: Buffer.from(line) };
}

async function* gen(records: LogRecord[], pauseEvery = 0): AsyncGenerator<LogRecord> {
  let i = 0;
  for (const r of records) {
    if (pauseEvery && ++i % pauseEvery === 0) await new Promise((res) => setTimeout(res, 1));
    yield r;
  }
}

async function render(
  records: LogRecord[],
  opts: { tty?: boolean; timestamps?: boolean; details?: boolean },
  pauseEvery = 0,
) {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeLogRecords(
    gen(records, pauseEvery),
    out,
    { tty: false, timestamps: false, details: false, ...opts },
    () => false,
  );
  return { data: Buffer.concat(chunks), writes: chunks.length };
}

/** Splits a multiplexed stream into [stream, payload] frames. */
function frames(data: Buffer): [number, string][] {
  const out: [number, string][] = [];
  let o = 0;
  while (o < data.length) {
    const size = data.readUInt32BE(o + 4);
    out.push([data[o]!, data.subarray(o + 8, o + 8 + size).toString()]);
    o += 8 + size;
  }
  return out;
}

test('non-TTY logs are framed per line with the stream byte', async () => {
  const { data } = await render([rec(1, 'out\n'), rec(2, 'err\n'), rec(1, 'partial')], {});
  assert.deepEqual(frames(data), [
    [1, 'out\n'],
    [2, 'err\n'],
    [1, 'partial'],
  ]);
});

test('timestamps put the fixed-width time and a space before the line; details a space', async () => {
  const { data } = await render([rec(1, 'a\n')], { timestamps: true, details: true });
  assert.deepEqual(frames(data), [[1, '2024-01-02T03:04:05.000000001Z  a\n']]);
});

test('TTY logs are raw bytes', async () => {
  const { data } = await render([rec(1, 'x\r\n'), rec(1, 'y\r\n')], { tty: true });
  assert.equal(data.toString(), 'x\r\ny\r\n');
});

test('a large backlog is written in a few big chunks, in order', async () => {
  const records = Array.from({ length: 100_000 }, (_, i) => rec(1, `line ${i}\n`));
  const { data, writes } = await render(records, {}, 500);
  const f = frames(data);
  assert.equal(f.length, 100_000);
  assert.equal(f[99_999]![1], 'line 99999\n');
  assert.ok(writes < 400, `expected coalesced writes, got ${writes}`);
});

test('parseLogsQuery: tail, since/until, streams', () => {
  const q = (s: string) => parseLogsQuery(makeQuery(new URLSearchParams(s)));
  assert.throws(() => q('tail=all'), /you must choose at least one stream/);
  assert.equal(q('stdout=1&tail=all').tail, undefined);
  assert.equal(q('stdout=1&tail=5').tail, 5);
  assert.equal(q('stdout=1&tail=-1').tail, undefined);
  assert.equal(q('stdout=1&since=1700000000.5').since, 1700000000.5);
  assert.equal(q('stdout=1&since=0').since, undefined);
  assert.equal(q('stderr=1&until=2024-01-01T00:00:00Z').until, 1704067200);
  assert.throws(() => q('stdout=1&since=yesterday'), /invalid value for since/);
});
