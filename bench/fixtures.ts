/**
 * The bench's images, written into the cache dir (.bench/) as docker-archive tars that both
 * daemons load, so the image IDs are the same on both sides:
 * - busybox: the tests' busybox image (test/fixtures/busybox-image.ts);
 * - bench/big: five layers of 40 MiB each of seeded pseudo-random (incompressible) bytes,
 *   streamed to disk (built once, then reused; deterministic, so a rebuild has the same IDs).
 */
import { createCipheriv, createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import tar from 'tar-stream';
import { makeBusyboxImageTar } from '../test/fixtures/busybox-image.js';

export const BUSYBOX_REF = 'busybox:latest';
export const BIG_REF = 'bench/big:latest';
const BIG_LAYERS = 5;
const BIG_LAYER_BYTES = 40 * 1024 * 1024;
// Fixed timestamps keep the generated tars (and so the digests) identical from one build to the next.
const EPOCH = new Date('2024-01-01T00:00:00Z');

export interface BenchImages {
  busyboxTar: string;
  bigTar: string;
  bigBytes: number;
}

/** Builds (or reuses) the bench images under `cacheDir`. */
export async function prepareImages(cacheDir: string): Promise<BenchImages> {
  fs.mkdirSync(cacheDir, { recursive: true });
  // The tests' busybox (test/fixtures): 2 MB, deterministic, so rewriting it each time is cheap.
  const busyboxTar = path.join(cacheDir, 'busybox.tar');
  fs.writeFileSync(`${busyboxTar}.tmp`, makeBusyboxImageTar({ tags: [BUSYBOX_REF] }));
  fs.renameSync(`${busyboxTar}.tmp`, busyboxTar);
  const bigTar = path.join(cacheDir, 'big-v1.tar');
  if (!fs.existsSync(bigTar)) {
    const layers: string[] = [];
    for (let i = 0; i < BIG_LAYERS; i++) {
      const file = path.join(cacheDir, `big-layer-${i}.tar`);
      await writeRandomLayer(file, i);
      layers.push(file);
    }
    await writeDockerArchive(
      bigTar,
      BIG_REF,
      layers,
      layers.map((_, i) => `/bin/sh -c #(nop) ADD random-${i}.bin /data/`),
    );
    for (const l of layers) fs.rmSync(l);
  }
  return { busyboxTar, bigTar, bigBytes: fs.statSync(bigTar).size };
}

/** AES-256-CTR over zeros: fast, incompressible, and the same bytes for the same seed. */
function* seededBytes(seed: string, total: number): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let left = total; left > 0; left -= zeros.length) {
    yield cipher.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
  }
}

type EntrySource = { header: tar.Header | HeaderArg; body: Buffer | (() => Readable) };
type HeaderArg = Parameters<tar.Pack['entry']>[0];

/** Streams one entry into the pack, honouring its back-pressure. */
function writeEntry(pack: tar.Pack, header: HeaderArg, body: Readable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    (async () => {
      for await (const chunk of body) {
        if (!sink.write(chunk)) await new Promise<void>((r) => sink.once('drain', () => r()));
      }
      sink.end(undefined);
    })().catch(reject);
  });
}

/** Writes a tar atomically and returns the sha256 (hex) of its bytes. */
async function writeTar(file: string, entries: EntrySource[]): Promise<string> {
  const tmp = `${file}.tmp`;
  const pack = tar.pack();
  const hash = createHash('sha256');
  const out = fs.createWriteStream(tmp);
  const written = (async () => {
    for await (const chunk of pack) {
      hash.update(chunk as Buffer);
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await finished(out);
  })();
  try {
    for (const e of entries) {
      const header = { mode: 0o644, uid: 0, gid: 0, mtime: EPOCH, ...e.header };
      const body = e.body;
      if (Buffer.isBuffer(body)) {
        await new Promise<void>((resolve, reject) =>
          pack.entry({ ...header, size: body.length }, body, (err) => (err ? reject(err) : resolve())),
        );
      } else {
        await writeEntry(pack, header, body());
      }
    }
    pack.finalize();
    await written;
  } catch (err) {
    pack.destroy();
    out.destroy();
    await written.catch(() => undefined);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.renameSync(tmp, file);
  return hash.digest('hex');
}

async function writeRandomLayer(file: string, index: number): Promise<void> {
  await writeTar(file, [
    { header: { name: 'data/', type: 'directory', mode: 0o755 }, body: Buffer.alloc(0) },
    {
      header: { name: `data/random-${index}.bin`, size: BIG_LAYER_BYTES },
      body: () => Readable.from(seededBytes(`berth-bench-big-layer-${index}`, BIG_LAYER_BYTES)),
    },
  ]);
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    fs.createReadStream(file)
      .on('data', (d) => hash.update(d))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/**
 * A docker-archive (the `docker save` format both daemons load): manifest.json naming the
 * config blob and one `<diffid>/layer.tar` per layer (uncompressed, so diff ID = file digest).
 */
async function writeDockerArchive(
  file: string,
  ref: string,
  layers: string[],
  history: string[],
): Promise<void> {
  const diffIds: string[] = [];
  for (const l of layers) diffIds.push(await sha256File(l));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: EPOCH.toISOString(),
      config: {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Cmd: ['sh'],
      },
      rootfs: { type: 'layers', diff_ids: diffIds.map((d) => `sha256:${d}`) },
      history: history.map((h) => ({ created: EPOCH.toISOString(), created_by: h })),
    }),
  );
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  const manifest = Buffer.from(
    JSON.stringify([{ Config: configName, RepoTags: [ref], Layers: diffIds.map((d) => `${d}/layer.tar`) }]),
  );
  const entries: EntrySource[] = [];
  layers.forEach((l, i) => {
    const id = diffIds[i]!;
    entries.push({ header: { name: `${id}/`, type: 'directory', mode: 0o755 }, body: Buffer.alloc(0) });
    entries.push({
      header: { name: `${id}/layer.tar`, size: fs.statSync(l).size },
      body: () => fs.createReadStream(l),
    });
  });
  entries.push({ header: { name: configName }, body: config });
  entries.push({ header: { name: 'manifest.json' }, body: manifest });
  await writeTar(file, entries);
}
