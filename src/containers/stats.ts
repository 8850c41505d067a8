/**
 * `GET /containers/{id}/stats`: cgroup samples from the runtime with `precpu_stats` taken from
 * the sample before, as dockerd's collector does. `stream=0` takes two samples a short while
 * apart (the CLI's CPU % needs both; it times out after 2 s), `one-shot=1` just one; a stream
 * sends one sample a second. A container that is not running reports zeros, like dockerd.
 */

import type { StatsSample } from '../runtime/runtime.js';
import { blkioStats } from '../runtime/runtime.js';
import type { Container } from './containers.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';
/** Gap between the two samples of a `stream=0` answer. */
export const PRECPU_GAP_MS = 500;
export const STREAM_INTERVAL_MS = 1000;

function zeroCpu(): Record<string, unknown> {
  return {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

/** dockerd's answer for a container that does not run: a StatsJSON with only name and id. */
export function emptyStats(c: Pick<Container, 'id' | 'name'>): StatsSample {
  return {
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: blkioStats(null, null),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: zeroCpu(),
    precpu_stats: zeroCpu(),
    memory_stats: {},
    name: c.name,
    id: c.id,
  };
}

/** `sample` with name/id set and `previous`'s cpu_stats and read time as precpu_stats/preread. */
export function withPrevious(
  sample: StatsSample,
  previous: StatsSample | undefined,
  c: Pick<Container, 'id' | 'name'>,
): StatsSample {
  const out: StatsSample = { ...sample, name: c.name, id: c.id };
  if (previous) {
    out.precpu_stats = previous.cpu_stats;
    out.preread = previous.read;
  } else {
    out.precpu_stats = zeroCpu();
    out.preread = ZERO_TIME;
  }
  return out;
}
