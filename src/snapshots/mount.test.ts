import assert from 'node:assert/strict';
import { test } from 'node:test';
import { absoluteOverlayOptions } from './mount.js';

test('absoluteOverlayOptions resolves the directory options against the working directory', () => {
  assert.equal(
    absoluteOverlayOptions(
      'lowerdir=a/fs:b/fs,upperdir=rw/x/upper,workdir=rw/x/work,index=off',
      '/var/lib/berth/snapshots',
    ),
    'lowerdir=/var/lib/berth/snapshots/a/fs:/var/lib/berth/snapshots/b/fs,upperdir=/var/lib/berth/snapshots/rw/x/upper,workdir=/var/lib/berth/snapshots/rw/x/work,index=off',
  );
  assert.equal(absoluteOverlayOptions('lowerdir=/abs:rel', '/base'), 'lowerdir=/abs:/base/rel');
});

test('absoluteOverlayOptions gives up on a base the option syntax cannot carry', () => {
  for (const base of ['/a,b', '/a:b', '/a=b', '/a\\b'])
    assert.equal(absoluteOverlayOptions('lowerdir=x', base), undefined);
});
