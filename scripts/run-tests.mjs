#!/usr/bin/env node
// Runs the compiled tests with Node's test runner: unit tests (next to the code, dist/src/**
// and dist/bench/**)
// first, then the integration suites (dist/test/**), which start their own berthd each.
// Usage: node scripts/run-tests.mjs [--unit | --integration] [name-filter...]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const only = args.find((a) => a === '--unit' || a === '--integration');
const filters = args.filter((a) => !a.startsWith('--'));

function find(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...find(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

const pick = (files) => (filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files);
const unit = only === '--integration' ? [] : pick([...find('dist/src'), ...find('dist/bench')]);
const integration = only === '--unit' ? [] : pick(find('dist/test'));

let failed = false;
for (const [name, files, concurrency] of [
  ['unit', unit, 2],
  ['integration', integration, 1],
]) {
  if (files.length === 0) continue;
  console.log(`\n# ${name} tests: ${files.length} files`);
  const r = spawnSync(
    process.execPath,
    ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...files],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
