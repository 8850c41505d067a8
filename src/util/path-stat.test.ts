import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePathStat, encodePathStat, isDirectory, MODE_DIR, MODE_SYMLINK } from './path-stat.js';

test('a path stat survives the header round trip and a directory reads as one', () => {
  const dir = {
    name: 'etc',
    size: 4096,
    mode: MODE_DIR + 0o755,
    mtime: '2024-01-02T03:04:05Z',
    linkTarget: '',
  };
  const back = decodePathStat(encodePathStat(dir));
  assert.deepEqual(back, dir);
  assert.equal(isDirectory(back!), true);
  assert.equal(isDirectory({ ...dir, mode: MODE_SYMLINK + 0o777 }), false);
  assert.equal(isDirectory({ ...dir, mode: 0o644 }), false);
});

test('a missing or garbled header decodes to null', () => {
  assert.equal(decodePathStat(undefined), null);
  assert.equal(decodePathStat(''), null);
  assert.equal(decodePathStat(['a', 'b']), null);
  assert.equal(decodePathStat('not base64 json'), null);
});
