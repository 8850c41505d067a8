/**
 * Docker's restart manager (moby restartmanager): whether an exited container comes back,
 * and after how long. The delay starts at 100 ms and doubles per restart up to a minute;
 * a container that ran for 10 s or more starts again from 100 ms.
 */
import type { RestartPolicy } from './config.js';

const INITIAL_MS = 100;
const MAX_MS = 60_000;
const RESET_AFTER_MS = 10_000;

export interface ExitFacts {
  exitCode: number;
  /** The user stopped or killed it. */
  manuallyStopped: boolean;
  /** How long the task ran. */
  ranMs: number;
  restartCount: number;
}

export function shouldRestart(policy: RestartPolicy, f: ExitFacts): boolean {
  switch (policy.name) {
    case 'always':
      return !f.manuallyStopped;
    case 'unless-stopped':
      return !f.manuallyStopped;
    case 'on-failure':
      return (
        !f.manuallyStopped &&
        f.exitCode !== 0 &&
        (policy.maxRetries === 0 || f.restartCount < policy.maxRetries)
      );
    default:
      return false;
  }
}

/** At daemon start-up: `always` comes back even after a manual stop (Docker's documented rule). */
export function shouldRestartOnBoot(policy: RestartPolicy, f: ExitFacts): boolean {
  if (policy.name === 'always') return true;
  return shouldRestart(policy, f);
}

/** The back-off of one container, kept in memory like Docker's. */
export class Backoff {
  private delay = 0;

  next(ranMs: number): number {
    if (ranMs >= RESET_AFTER_MS) this.delay = 0;
    this.delay = this.delay === 0 ? INITIAL_MS : Math.min(this.delay * 2, MAX_MS);
    return this.delay;
  }
}
