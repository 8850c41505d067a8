import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../util/errors.js';
import { makeQuery, parseFilters } from './query.js';

test('filters: the CLI map form and the docker-py/dockerode list form give the same map', () => {
  const cli = parseFilters('{"label":{"a=b":true,"c":true},"dangling":{"true":true}}');
  const py = parseFilters('{"label":["a=b","c"],"dangling":["true"]}');
  assert.deepEqual([...cli], [...py]);
  assert.deepEqual(cli.get('label'), ['a=b', 'c']);
});

test('filters: malformed JSON is a 400 naming the value', () => {
  assert.throws(
    () => parseFilters('{nope'),
    (e: unknown) => e instanceof EngineError && e.status === 400 && e.message.includes('{nope'),
  );
});

test('query booleans accept 1/0, true/false and True/False', () => {
  const q = makeQuery(new URLSearchParams('a=1&b=True&c=false&d=0&e=true'));
  assert.deepEqual(
    ['a', 'b', 'c', 'd', 'e', 'missing'].map((k) => q.bool(k)),
    [true, true, false, false, true, false],
  );
  assert.throws(
    () => makeQuery(new URLSearchParams('x=maybe')).bool('x'),
    /invalid boolean value for parameter x/,
  );
});
