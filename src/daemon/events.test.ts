import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFilters } from '../api/query.js';
import { EventBus, eventMatches } from './events.js';

test('events keep order, carry the legacy trio for containers, and replay by time', () => {
  const bus = new EventBus();
  const seen: string[] = [];
  const off = bus.subscribe((e) => seen.push(e.Action));
  const a = bus.publish('container', 'create', 'c1', { image: 'busybox', name: 'web' });
  bus.publish('image', 'tag', 'sha256:1', { name: 'busybox:latest' });
  off();
  bus.publish('container', 'start', 'c1', { image: 'busybox', name: 'web' });
  assert.deepEqual(seen, ['create', 'tag']);
  assert.equal(a.status, 'create');
  assert.equal(a.from, 'busybox');
  assert.equal(bus.past(a.timeNano / 1e9).length, 3);
  assert.ok(bus.past(0).every((e, i, all) => i === 0 || e.timeNano > all[i - 1]!.timeNano));
});

test('event filters: type, event, container by name, label', () => {
  const bus = new EventBus();
  const e = bus.publish('container', 'die', 'abcdef', {
    name: 'web',
    image: 'busybox',
    tier: 'front',
    exitCode: '2',
  });
  assert.ok(eventMatches(e, parseFilters('{"type":{"container":true}}')));
  assert.ok(!eventMatches(e, parseFilters('{"type":["image"]}')));
  assert.ok(eventMatches(e, parseFilters('{"event":["die"],"container":["web"]}')));
  assert.ok(eventMatches(e, parseFilters('{"container":["abc"]}')));
  assert.ok(eventMatches(e, parseFilters('{"label":["tier=front"]}')));
  assert.ok(!eventMatches(e, parseFilters('{"label":["tier=back"]}')));
  assert.ok(eventMatches(e, parseFilters('{"image":["busybox"]}')));
});
