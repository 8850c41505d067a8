/**
 * The event bus behind `GET /events`: every container, image, network and volume action is
 * published here, kept in a bounded in-memory history (for `--since`/`--until` replays) and
 * handed to live subscribers in order.
 */
import type { Filters } from '../api/types.js';

export type EventType = 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'builder';

/** Docker's event message; container and image events also carry the legacy status/id/from trio. */
export interface EngineEvent {
  status?: string;
  id?: string;
  from?: string;
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

const HISTORY = 1024;

export class EventBus {
  private readonly history: EngineEvent[] = [];
  private readonly subscribers = new Set<(e: EngineEvent) => void>();
  private lastNano = 0n;

  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    // Strictly increasing timestamps keep --since/--until replays in publish order.
    let nano = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    if (nano <= this.lastNano) nano = this.lastNano + 1n;
    this.lastNano = nano;
    const event: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nano / 1_000_000_000n),
      timeNano: Number(nano),
    };
    if (type === 'container' || type === 'image') {
      event.status = action;
      event.id = id;
      if (attributes.image && type === 'container') event.from = attributes.image;
    }
    this.history.push(event);
    if (this.history.length > HISTORY) this.history.shift();
    for (const s of this.subscribers) s(event);
    return event;
  }

  /** Past events with since ≤ time ≤ until (unix seconds, fractional allowed). */
  past(since?: number, until?: number): EngineEvent[] {
    return this.history.filter(
      (e) =>
        (since === undefined || e.timeNano >= since * 1e9) &&
        (until === undefined || e.timeNano <= until * 1e9),
    );
  }

  subscribe(fn: (e: EngineEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
}

/** Docker's event filters: type, event, container, image, network, volume, label, daemon. */
export function eventMatches(e: EngineEvent, filters: Filters): boolean {
  for (const [key, values] of filters) {
    if (values.length === 0) continue;
    const attrs = e.Actor.Attributes;
    const ok = values.some((v) => {
      switch (key) {
        case 'type':
          return e.Type === v;
        case 'event':
          return e.Action === v || e.Action.startsWith(`${v}:`);
        case 'container':
          return e.Type === 'container' && (e.Actor.ID === v || e.Actor.ID.startsWith(v) || attrs.name === v);
        case 'image':
          return (
            (e.Type === 'image' && (e.Actor.ID === v || attrs.name === v)) ||
            (e.Type === 'container' && (attrs.image === v || attrs.image?.split(':')[0] === v))
          );
        case 'network':
          return e.Type === 'network' && (e.Actor.ID === v || attrs.name === v);
        case 'volume':
          return e.Type === 'volume' && e.Actor.ID === v;
        case 'label': {
          const [k, val] = v.split('=', 2) as [string, string | undefined];
          return val === undefined ? k in attrs : attrs[k] === val;
        }
        case 'daemon':
          return e.Type === 'daemon';
        default:
          return true;
      }
    });
    if (!ok) return false;
  }
  return true;
}
