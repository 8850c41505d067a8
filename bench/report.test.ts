/** The bench's pure parts: options, hyperfine's JSON, ratios against targets, the table. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExport } from './hyperfine.js';
import { parseArgs } from './options.js';
import { judge, markdownTable, notes, type Row } from './report.js';

test('parseArgs reads --only, --runs and --no-dockerd and rejects bad values by name', () => {
  assert.deepEqual(parseArgs([]), { dockerd: true });
  const o = parseArgs(['--only', 'run|exec', '--runs=3', '--no-dockerd']);
  assert.ok(o !== 'help');
  assert.equal(o.runs, 3);
  assert.equal(o.dockerd, false);
  assert.ok(o.only?.test('run-batch') && o.only.test('EXEC') && !o.only.test('images'));
  assert.equal(parseArgs(['--help']), 'help');
  assert.throws(() => parseArgs(['--runs', '0']), /--runs: .*"0"/);
  assert.throws(() => parseArgs(['--runs']), /--runs needs a value/);
  assert.throws(() => parseArgs(['--only', '(']), /--only: not a valid pattern/);
  assert.throws(() => parseArgs(['--fast']), /unknown option "--fast"/);
});

test('parseExport takes the median from hyperfine --export-json', () => {
  const t = parseExport(
    JSON.stringify({
      results: [
        {
          command: 'x',
          mean: 0.2,
          stddev: null,
          median: 0.15,
          min: 0.1,
          max: 0.35,
          times: [0.1, 0.15, 0.35],
        },
      ],
    }),
  );
  assert.equal(t.median, 0.15);
  assert.equal(t.stddev, 0);
  assert.deepEqual(t.times, [0.1, 0.15, 0.35]);
  assert.throws(() => parseExport('{"results":[]}'), /no results/);
  assert.throws(() => parseExport('{"results":[{"median":"fast"}]}'), /bad median/);
});

const row = (berth: number, dockerd: number, target?: Row['target']): Row => ({
  id: 'x',
  title: '`docker x`',
  issue: 3,
  unit: 'seconds',
  target,
  berth: { status: 'ok', value: berth },
  dockerd: { status: 'ok', value: dockerd },
});

test('judge compares the berth/dockerd ratio with the target', () => {
  const third = { op: '<=' as const, ratio: 1 / 3, text: '≤ 0.33' };
  assert.equal(judge(row(0.1, 0.3, third)).pass, true);
  assert.equal(judge(row(0.2, 0.3, third)).pass, false);
  assert.equal(judge(row(0.3, 0.3, { op: '<', ratio: 1, text: '< 1' })).pass, false);
  assert.equal(judge(row(0.2, 0.4)).ratio, 0.5);
  assert.equal(judge(row(0.2, 0.4)).pass, undefined);
  const na = judge({ ...row(0, 0.3, third), berth: { status: 'n/a', reason: 'not implemented' } });
  assert.equal(na.ratio, undefined);
});

test('the table shows medians, ratio, target and a mark; failures are listed once per cause', () => {
  const rows = [
    judge(row(0.05, 0.2, { op: '<=', ratio: 1 / 3, text: '≤ 0.33' })),
    judge({ ...row(0, 1.5), berth: { status: 'n/a', reason: 'not implemented' } }),
    judge({
      ...row(0, 2.5),
      unit: 'KiB',
      berth: { status: 'failed', reason: 'boom' },
      dockerd: { status: 'ok', value: 10240 },
    }),
  ];
  const t = markdownTable(rows, true).split('\n');
  assert.equal(t[0], '| scenario | berth | dockerd | berth/dockerd | target |  |');
  assert.equal(t[2], '| `docker x` | 50.0 ms | 200.0 ms | 0.25 | ≤ 0.33 | ✓ |');
  assert.equal(t[3], '| `docker x` | n/a (not implemented) | 1.50 s | — | — |  |');
  assert.equal(t[4], '| `docker x` | failed | 10.0 MiB | — | — |  |');
  assert.deepEqual(notes(rows), ['- `docker x` on berth failed: boom']);
  assert.equal(markdownTable(rows, false).split('\n')[0], '| scenario | berth | target |');
});
