#!/usr/bin/env node
// The package registry these machines reach serves only the linux-x64 builds of packages
// with per-platform binaries (biome, node-unix-socket); `npm install` records the others
// as optional dependencies it could not resolve, and `npm ci` then refuses the lock file.
// Run this after changing dependencies: it drops optional dependencies that have no entry
// in package-lock.json, so `npm ci` accepts it.
import fs from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
for (const [name, entry] of Object.entries(lock.packages)) {
  const optional = entry.optionalDependencies;
  if (!optional) continue;
  const kept = Object.fromEntries(
    Object.entries(optional).filter(([dep]) => `node_modules/${dep}` in lock.packages),
  );
  const dropped = Object.keys(optional).filter((dep) => !(dep in kept));
  if (dropped.length) {
    entry.optionalDependencies = kept;
    console.log(`${name}: dropped ${dropped.join(', ')}`);
  }
}
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
