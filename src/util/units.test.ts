import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bytesSize,
  formatGoDuration,
  humanDuration,
  humanSize,
  humanSizeWithPrecision,
  parseGoDuration,
  parseHumanSize,
  parseRamInBytes,
} from './units.js';

test('decimal sizes match docker images SIZE column', () => {
  assert.equal(humanSizeWithPrecision(0, 3), '0B');
  assert.equal(humanSizeWithPrecision(999, 3), '999B');
  assert.equal(humanSizeWithPrecision(1000, 3), '1kB');
  assert.equal(humanSizeWithPrecision(5580, 3), '5.58kB');
  assert.equal(humanSizeWithPrecision(1240000, 3), '1.24MB');
  assert.equal(humanSizeWithPrecision(4261890, 3), '4.26MB');
  assert.equal(humanSizeWithPrecision(77_800_000, 3), '77.8MB');
  // Go's %g switches to an exponent when rounding reaches 1000: docker prints this too.
  assert.equal(humanSizeWithPrecision(999_999, 3), '1e+03kB');
  assert.equal(humanSize(2_746_000), '2.746MB');
  assert.equal(humanSize(796_000), '796kB');
});

test('binary sizes match docker stats', () => {
  assert.equal(bytesSize(0), '0B');
  assert.equal(bytesSize(1536), '1.5KiB');
  assert.equal(bytesSize(1610612736), '1.5GiB');
  assert.equal(bytesSize(454656), '444KiB');
});

test('parse sizes like go-units', () => {
  assert.equal(parseRamInBytes('200m'), 209715200);
  assert.equal(parseRamInBytes('1g'), 1073741824);
  assert.equal(parseRamInBytes('32'), 32);
  assert.equal(parseRamInBytes('1.5KiB'), 1536);
  assert.equal(parseRamInBytes('30mb'), 31457280);
  // docker 28 (go-units 0.5): `docker run -m 10q` says "invalid suffix: 'q'"
  assert.throws(() => parseRamInBytes('10q'), /invalid suffix: 'q'/);
  assert.throws(() => parseRamInBytes('abc'), /invalid size: 'abc'/);
  assert.throws(() => parseRamInBytes('-1'), /invalid size: '-1'/);
  assert.equal(parseHumanSize('44kB'), 44000);
});

test('human durations', () => {
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(47_000), '47 seconds');
  assert.equal(humanDuration(60_000), 'About a minute');
  assert.equal(humanDuration(119_000), 'About a minute');
  assert.equal(humanDuration(2 * 60_000), '2 minutes');
  assert.equal(humanDuration(59 * 60_000), '59 minutes');
  assert.equal(humanDuration(60 * 60_000), 'About an hour');
  assert.equal(humanDuration(3 * 3600_000), '3 hours');
  assert.equal(humanDuration(2 * 86400_000), '2 days');
  assert.equal(humanDuration(3 * 7 * 86400_000), '3 weeks');
  assert.equal(humanDuration(4 * 30 * 86400_000), '4 months');
  assert.equal(humanDuration(2 * 365 * 86400_000), '2 years');
});

test('go durations', () => {
  assert.equal(parseGoDuration('1h30m'), 5400_000);
  assert.equal(parseGoDuration('500ms'), 500);
  assert.equal(parseGoDuration('0'), 0);
  assert.throws(() => parseGoDuration('10'), /missing unit/);
  assert.throws(() => parseGoDuration('abc'), /invalid duration/);
  assert.equal(formatGoDuration(0), '0s');
  assert.equal(formatGoDuration(90_000), '1m30s');
  assert.equal(formatGoDuration(30_000), '30s');
  assert.equal(formatGoDuration(3600_000), '1h0m0s');
});
