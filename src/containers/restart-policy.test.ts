import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, shouldRestart, shouldRestartOnBoot } from './restart-policy.js';

const exit = (exitCode: number, restartCount = 0, manuallyStopped = false) => ({
  exitCode,
  restartCount,
  manuallyStopped,
  ranMs: 100,
});

test('policies decide like Docker’s restart manager', () => {
  assert.equal(shouldRestart({ name: 'no', maxRetries: 0 }, exit(1)), false);
  assert.equal(shouldRestart({ name: 'always', maxRetries: 0 }, exit(0)), true);
  assert.equal(shouldRestart({ name: 'always', maxRetries: 0 }, exit(0, 0, true)), false);
  assert.equal(shouldRestart({ name: 'unless-stopped', maxRetries: 0 }, exit(0, 0, true)), false);
  assert.equal(shouldRestart({ name: 'on-failure', maxRetries: 2 }, exit(0)), false);
  assert.equal(shouldRestart({ name: 'on-failure', maxRetries: 2 }, exit(1, 1)), true);
  assert.equal(shouldRestart({ name: 'on-failure', maxRetries: 2 }, exit(1, 2)), false);
  assert.equal(shouldRestart({ name: 'on-failure', maxRetries: 0 }, exit(1, 99)), true);
  // At daemon start-up, `always` comes back even after a manual stop; unless-stopped does not.
  assert.equal(shouldRestartOnBoot({ name: 'always', maxRetries: 0 }, exit(0, 0, true)), true);
  assert.equal(shouldRestartOnBoot({ name: 'unless-stopped', maxRetries: 0 }, exit(0, 0, true)), false);
});

test('back-off doubles from 100 ms to a minute and resets after 10 s of running', () => {
  const b = new Backoff();
  assert.deepEqual([b.next(0), b.next(0), b.next(0), b.next(0)], [100, 200, 400, 800]);
  for (let i = 0; i < 20; i++) b.next(0);
  assert.equal(b.next(0), 60_000);
  assert.equal(b.next(10_000), 100);
});
