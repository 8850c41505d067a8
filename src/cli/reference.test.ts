import assert from 'node:assert/strict';
import { test } from 'node:test';
import { familiarString, fullName, parseReference, withDefaultTag } from './reference.js';

test('normalizes like docker', () => {
  const r = withDefaultTag(parseReference('busybox'));
  assert.equal(fullName(r), 'docker.io/library/busybox');
  assert.equal(r.tag, 'latest');
  assert.equal(familiarString(r), 'busybox:latest');
  const p = parseReference('localhost:5000/ar/x:v1');
  assert.deepEqual([p.domain, p.path, p.tag], ['localhost:5000', 'ar/x', 'v1']);
  assert.equal(familiarString(parseReference('docker.io/library/busybox:1')), 'busybox:1');
  assert.equal(familiarString(parseReference('user/app')), 'user/app');
  assert.throws(() => parseReference('Bad:x'), /repository name \(library\/Bad\) must be lowercase/);
  assert.throws(() => parseReference('a b'), /invalid reference format/);
});
