/** The image part's SQLite tables: images, references (tags and digests), layer references. */
import type { Store } from '../store/store.js';

const STEPS = [
  `CREATE TABLE images (
     id TEXT PRIMARY KEY,
     created TEXT NOT NULL,
     size INTEGER NOT NULL,
     parent TEXT NOT NULL DEFAULT '',
     config TEXT NOT NULL,
     last_tag_time TEXT NOT NULL DEFAULT '0001-01-01T00:00:00Z',
     added_at INTEGER NOT NULL
   );
   CREATE TABLE image_refs (
     ref TEXT PRIMARY KEY,
     image_id TEXT NOT NULL REFERENCES images(id),
     kind TEXT NOT NULL CHECK (kind IN ('tag', 'digest'))
   );
   CREATE INDEX image_refs_image ON image_refs(image_id);
   CREATE TABLE image_layers (
     image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     chain_id TEXT NOT NULL,
     diff_id TEXT NOT NULL,
     PRIMARY KEY (image_id, idx)
   );
   CREATE INDEX image_layers_chain ON image_layers(chain_id);
   CREATE INDEX image_layers_diff ON image_layers(diff_id);`,
];

export interface ImageRow {
  id: string;
  created: string;
  size: number;
  parent: string;
  config: string;
  last_tag_time: string;
  added_at: number;
}

export interface RefRow {
  ref: string;
  image_id: string;
  kind: 'tag' | 'digest';
}

export interface LayerRow {
  image_id: string;
  idx: number;
  chain_id: string;
  diff_id: string;
}

export interface NewImage {
  id: string;
  created: string;
  size: number;
  parent: string;
  config: string;
  chainIds: string[];
  diffIds: string[];
}

export class ImageDb {
  constructor(readonly store: Store) {
    store.migrate('images', STEPS);
  }

  private get db() {
    return this.store.db;
  }

  image(id: string): ImageRow | undefined {
    return this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
  }

  images(): ImageRow[] {
    return this.db.prepare('SELECT * FROM images').all() as ImageRow[];
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n;
  }

  /** IDs starting with `sha256:<prefix>`. */
  idsWithPrefix(hexPrefix: string): string[] {
    const rows = this.db
      .prepare('SELECT id FROM images WHERE substr(id, 1, ?) = ? LIMIT 2')
      .all(7 + hexPrefix.length, `sha256:${hexPrefix}`) as { id: string }[];
    return rows.map((r) => r.id);
  }

  children(id: string): string[] {
    return (this.db.prepare('SELECT id FROM images WHERE parent = ?').all(id) as { id: string }[]).map(
      (r) => r.id,
    );
  }

  ref(ref: string): RefRow | undefined {
    return this.db.prepare('SELECT * FROM image_refs WHERE ref = ?').get(ref) as RefRow | undefined;
  }

  /** References of one image, sorted like dockerd's reference store (lexically). */
  refsOf(imageId: string): RefRow[] {
    return this.db
      .prepare('SELECT * FROM image_refs WHERE image_id = ? ORDER BY ref')
      .all(imageId) as RefRow[];
  }

  allRefs(): RefRow[] {
    return this.db.prepare('SELECT * FROM image_refs ORDER BY ref').all() as RefRow[];
  }

  layers(imageId: string): LayerRow[] {
    return this.db
      .prepare('SELECT * FROM image_layers WHERE image_id = ? ORDER BY idx')
      .all(imageId) as LayerRow[];
  }

  allLayers(): LayerRow[] {
    return this.db.prepare('SELECT * FROM image_layers').all() as LayerRow[];
  }

  chainUsers(chainId: string): number {
    return (
      this.db.prepare('SELECT count(*) AS n FROM image_layers WHERE chain_id = ?').get(chainId) as {
        n: number;
      }
    ).n;
  }

  /** Adds an image unless it exists (same ID = same content). */
  addImage(img: NewImage): void {
    if (this.image(img.id)) return;
    this.db
      .prepare('INSERT INTO images (id, created, size, parent, config, added_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(img.id, img.created, img.size, img.parent, img.config, Date.now());
    const ins = this.db.prepare(
      'INSERT INTO image_layers (image_id, idx, chain_id, diff_id) VALUES (?, ?, ?, ?)',
    );
    for (const [i, c] of img.chainIds.entries()) ins.run(img.id, i, c, img.diffIds[i]);
  }

  setRef(ref: string, imageId: string, kind: 'tag' | 'digest'): void {
    this.db
      .prepare(
        'INSERT INTO image_refs (ref, image_id, kind) VALUES (?, ?, ?) ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id',
      )
      .run(ref, imageId, kind);
  }

  deleteRef(ref: string): boolean {
    return this.db.prepare('DELETE FROM image_refs WHERE ref = ?').run(ref).changes > 0;
  }

  setLastTagTime(id: string, time: string): void {
    this.db.prepare('UPDATE images SET last_tag_time = ? WHERE id = ?').run(time, id);
  }

  deleteImage(id: string): void {
    this.db.prepare('DELETE FROM image_refs WHERE image_id = ?').run(id);
    this.db.prepare('DELETE FROM image_layers WHERE image_id = ?').run(id);
    this.db.prepare("UPDATE images SET parent = '' WHERE parent = ?").run(id);
    this.db.prepare('DELETE FROM images WHERE id = ?').run(id);
  }
}
