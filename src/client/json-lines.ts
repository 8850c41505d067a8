// JSON-line streams (progress, events, stats): one JSON value per line, split across reads.
import type { Readable } from 'node:stream';

export async function* jsonLines<T = unknown>(input: Readable): AsyncGenerator<T> {
  let rest = '';
  for await (const chunk of input) {
    rest += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    let nl = rest.indexOf('\n');
    while (nl >= 0) {
      const line = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      if (line) yield JSON.parse(line) as T;
      nl = rest.indexOf('\n');
    }
  }
  const last = rest.trim();
  if (last) yield JSON.parse(last) as T;
}
