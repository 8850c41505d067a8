import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseRecord, parseTimestamp, readLogs, rotatedFiles, rotateIfNeeded } from './logs.js';
import type { LogOptions } from './runtime.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-logs-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const ts = (i: number) =>
  `2026-11-22T17:45:${String(10 + Math.floor(i / 1e6)).padStart(2, '0')}.${String(i % 1e6).padStart(6, '0')}000+00:00`;

async function read(file: string, o: Partial<LogOptions> = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const r of readLogs(file, { stdout: true, stderr: true, follow: false, ...o })) {
    out.push(`${r.stream}:${r.line.toString()}`);
  }
  return out;
}

test('parseTimestamp normalises offsets to UTC and keeps nanoseconds', () => {
  const t = parseTimestamp('2026-11-23T05:27:17.083594508+05:30');
  assert.equal(t?.time, '2026-11-22T23:57:17.083594508Z');
  assert.equal(t?.timeNano, BigInt(Date.parse('2026-11-22T23:57:17Z')) * 1_000_000n + 83594508n);
  assert.equal(parseTimestamp('yesterday'), undefined);
});

test('parseRecord reads stream, tag and text, including empty text', () => {
  const r = parseRecord(Buffer.from('2026-11-22T17:45:27.855768744+00:00 stderr P a b '));
  assert.equal(r?.stream, 2);
  assert.equal(r?.partial, true);
  assert.equal(r?.text.toString(), 'a b ');
  assert.equal(parseRecord(Buffer.from('2026-11-22T17:45:27.855768744+00:00 stdout F'))?.text.length, 0);
  assert.equal(parseRecord(Buffer.from('garbage line')), undefined);
});

test('tail across 64 KiB blocks and rotated files matches a full read', async () => {
  const file = path.join(tmp, 'big.log');
  const lines: string[] = [];
  let i = 0;
  // Interleaved partial chains of both streams, long lines, across three files.
  for (const f of [`${file}.2`, `${file}.1`, file]) {
    const recs: string[] = [];
    for (let n = 0; n < 1500; n++, i++) {
      if (n % 7 === 0) {
        recs.push(`${ts(i)} stdout P ${'x'.repeat(100)}-${i}`);
        recs.push(`${ts(i)} stderr F err-${i}`);
        recs.push(`${ts(i)} stdout F tail-${i}`);
      } else {
        recs.push(`${ts(i)} ${n % 3 ? 'stdout' : 'stderr'} F line-${i}`);
      }
    }
    lines.push(...recs);
    fs.writeFileSync(f, `${recs.join('\n')}\n`);
  }
  assert.deepEqual(rotatedFiles(file), [`${file}.2`, `${file}.1`]);
  const all = await read(file);
  assert.equal(all.length, 4500 + Math.ceil(1500 / 7) * 3);
  for (const n of [1, 2, 3, 10, 500, 2000, 4000, 10000]) {
    assert.deepEqual(await read(file, { tail: n }), all.slice(-n), `tail ${n}`);
  }
  const out = all.filter((l) => l.startsWith('1:'));
  assert.deepEqual(await read(file, { tail: 777, stderr: false }), out.slice(-777));
});

test('rotation shifts files and keeps at most max-file', () => {
  const file = path.join(tmp, 'rot.log');
  const ctl = path.join(tmp, 'no-ctl');
  for (let n = 0; n < 5; n++) {
    fs.writeFileSync(file, `gen-${n}\n`);
    assert.equal(rotateIfNeeded(file, 1, 3, ctl), true);
  }
  assert.equal(fs.readFileSync(`${file}.1`, 'utf8'), 'gen-4\n');
  assert.equal(fs.readFileSync(`${file}.2`, 'utf8'), 'gen-3\n');
  assert.equal(fs.existsSync(`${file}.3`), false);
  assert.equal(rotateIfNeeded(file, 1, 3, ctl), false, 'no live file, nothing to rotate');
});
