import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../util/errors.js';
import { formatGoDuration } from '../util/units.js';
import {
  type HealthConfig,
  type HealthState,
  healthConfigOf,
  mergeHealthcheck,
  nextHealth,
  validateHealthcheck,
} from './health.js';

test('healthConfigOf: CMD and CMD-SHELL, NONE and empty mean none, Docker’s defaults', () => {
  assert.deepEqual(healthConfigOf({ Healthcheck: { Test: ['CMD-SHELL', 'curl -f x || exit 1'] } }), {
    args: ['/bin/sh', '-c', 'curl -f x || exit 1'],
    intervalMs: 30_000,
    timeoutMs: 30_000,
    startPeriodMs: 0,
    startIntervalMs: 5_000,
    retries: 3,
  });
  const cmd = healthConfigOf({ Healthcheck: { Test: ['CMD', 'true'], Interval: 2e8, Retries: 5 } });
  assert.deepEqual([cmd?.args, cmd?.intervalMs, cmd?.retries], [['true'], 200, 5]);
  assert.equal(healthConfigOf({ Healthcheck: { Test: ['NONE'] } }), undefined);
  assert.equal(healthConfigOf({ Healthcheck: { Test: [] } }), undefined);
  assert.equal(healthConfigOf({}), undefined);
});

test('mergeHealthcheck: an empty Test and zero fields come from the image', () => {
  const image = { Test: ['CMD', 'true'], Interval: 1e9, Retries: 4 };
  assert.deepEqual(mergeHealthcheck({}, image), image);
  assert.deepEqual(mergeHealthcheck({ Healthcheck: { Test: [], Timeout: 2e9 } }, image), {
    Test: ['CMD', 'true'],
    Interval: 1e9,
    Timeout: 2e9,
    StartPeriod: undefined,
    StartInterval: undefined,
    Retries: 4,
  });
  assert.deepEqual(mergeHealthcheck({ Healthcheck: { Test: ['NONE'] } }, image)?.Test, ['NONE']);
  assert.equal(mergeHealthcheck({}, undefined), undefined);
});

test('validateHealthcheck: dockerd’s limits', () => {
  const is400 = (re: RegExp) => (e: unknown) =>
    e instanceof EngineError && e.status === 400 && re.test(e.message);
  validateHealthcheck({ Healthcheck: { Test: ['CMD', 'true'], Interval: 1e6 } });
  assert.throws(
    () => validateHealthcheck({ Healthcheck: { Timeout: 5 } }),
    is400(/^Timeout in Healthcheck cannot be less than 1ms$/),
  );
  assert.throws(
    () => validateHealthcheck({ Healthcheck: { Retries: -2 } }),
    is400(/^Retries in Healthcheck cannot be negative$/),
  );
  assert.throws(() => validateHealthcheck({ Healthcheck: { Test: 'true' } }), is400(/Healthcheck.Test/));
});

test('nextHealth: successes heal, failures count after the start period, five entries kept', () => {
  const cfg: HealthConfig = {
    args: ['true'],
    intervalMs: 1000,
    timeoutMs: 1000,
    startPeriodMs: 10_000,
    startIntervalMs: 1000,
    retries: 2,
  };
  const started = Date.parse('2026-01-01T00:00:00Z');
  const at = (s: number, code: number) => ({
    Start: new Date(started + s * 1000).toISOString(),
    End: new Date(started + s * 1000 + 5).toISOString(),
    ExitCode: code,
    Output: '',
  });
  let h: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };
  h = nextHealth(h, cfg, at(1, 1), started);
  assert.deepEqual([h.Status, h.FailingStreak], ['starting', 0], 'inside the start period');
  h = nextHealth(h, cfg, at(11, 1), started);
  assert.deepEqual([h.Status, h.FailingStreak], ['starting', 1]);
  h = nextHealth(h, cfg, at(12, 1), started);
  assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 2]);
  h = nextHealth(h, cfg, at(13, 0), started);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 0]);
  h = nextHealth(h, cfg, at(14, 1), started);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 1], 'one failure is not yet unhealthy');
  h = nextHealth(h, cfg, at(15, 1), started);
  assert.equal(h.Status, 'unhealthy');
  assert.equal(h.Log.length, 5);
  assert.equal(h.Log[0]?.Start, at(11, 1).Start);
});

test('probe timeouts are printed like Go, as in dockerd’s message', () => {
  assert.deepEqual([300, 1000, 1500, 30_000, 90_000, 3_600_000].map(formatGoDuration), [
    '300ms',
    '1s',
    '1.5s',
    '30s',
    '1m30s',
    '1h0m0s',
  ]);
});
