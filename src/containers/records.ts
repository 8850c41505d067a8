/**
 * Container rows in SQLite (DESIGN.md decision 4). Each change of a container is one
 * UPDATE of its row, so a daemon killed at any point finds either the old or the new state.
 */
import type Database from 'better-sqlite3';
import type { Store } from '../store/store.js';
import type { Doc } from './config.js';
import type { Container, ContainerState } from './containers.js';

const SCHEMA = [
  `CREATE TABLE containers (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     created TEXT NOT NULL,
     image_id TEXT NOT NULL,
     image TEXT NOT NULL,
     config TEXT NOT NULL,
     host_config TEXT NOT NULL,
     state TEXT NOT NULL,
     restart_count INTEGER NOT NULL DEFAULT 0,
     extra TEXT NOT NULL DEFAULT '{}'
   )`,
  'CREATE INDEX containers_image ON containers (image_id)',
  // Containers removed from the API whose task, mount, writable layer and directory are still
  // being cleaned up; a daemon that dies meanwhile finishes the job at start-up.
  'CREATE TABLE container_removals (id TEXT PRIMARY KEY, dir TEXT NOT NULL, rootfs TEXT NOT NULL, image_id TEXT NOT NULL)',
];

/** A container that is gone from the API but not yet from the disk. */
export interface Removal {
  id: string;
  dir: string;
  rootfs: string;
  imageId: string;
}

/** Engine-side facts about a container that Docker keeps outside State. */
export interface Extra {
  /** The user stopped it: `unless-stopped` stays down, restarts stop (moby HasBeenManuallyStopped). */
  manuallyStopped: boolean;
  /** Set once the container has been started (for ps Status of a never-started container). */
  hasBeenStarted: boolean;
  /** Image's top layer chain (for re-mounting and df). */
  chainId: string | null;
  /** The image's size in bytes at create time (SizeRootFs). */
  imageSize: number;
}

export interface Record extends Container {
  extra: Extra;
}

interface Row {
  id: string;
  name: string;
  created: string;
  image_id: string;
  image: string;
  config: string;
  host_config: string;
  state: string;
  restart_count: number;
  extra: string;
}

type Statement = Database.Statement<unknown[]>;

export class Records {
  /** Prepared once: every state change of a container runs one of these. */
  private readonly q: {
    [K in 'all' | 'insert' | 'save' | 'delete' | 'removals' | 'addRemoval' | 'dropRemoval']: Statement;
  };

  constructor(
    private readonly store: Store,
    private readonly containersDir: string,
  ) {
    store.migrate('containers', SCHEMA);
    const db = store.db;
    this.q = {
      all: db.prepare('SELECT * FROM containers'),
      insert: db.prepare(
        `INSERT INTO containers (id, name, created, image_id, image, config, host_config, state, restart_count, extra)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      save: db.prepare(
        'UPDATE containers SET name = ?, config = ?, host_config = ?, state = ?, restart_count = ?, extra = ? WHERE id = ?',
      ),
      delete: db.prepare('DELETE FROM containers WHERE id = ?'),
      removals: db.prepare('SELECT id, dir, rootfs, image_id FROM container_removals'),
      addRemoval: db.prepare(
        'INSERT OR REPLACE INTO container_removals (id, dir, rootfs, image_id) VALUES (?, ?, ?, ?)',
      ),
      dropRemoval: db.prepare('DELETE FROM container_removals WHERE id = ?'),
    };
  }

  private fromRow(r: Row): Record {
    const dir = `${this.containersDir}/${r.id}`;
    return {
      id: r.id,
      name: r.name,
      created: r.created,
      imageId: r.image_id,
      image: r.image,
      config: JSON.parse(r.config) as Doc,
      hostConfig: JSON.parse(r.host_config) as Doc,
      state: JSON.parse(r.state) as ContainerState,
      restartCount: r.restart_count,
      dir,
      rootfs: `${dir}/rootfs`,
      logPath: `${dir}/ctr.log`,
      extra: JSON.parse(r.extra) as Extra,
    };
  }

  all(): Record[] {
    return (this.q.all.all() as Row[]).map((r) => this.fromRow(r));
  }

  /** Inserts a new row; the UNIQUE name constraint turns a racing duplicate into false. */
  insert(c: Record): boolean {
    try {
      this.q.insert.run(
        c.id,
        c.name,
        c.created,
        c.imageId,
        c.image,
        JSON.stringify(c.config),
        JSON.stringify(c.hostConfig),
        JSON.stringify(c.state),
        c.restartCount,
        JSON.stringify(c.extra),
      );
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return false;
      throw e;
    }
  }

  save(c: Record): void {
    this.q.save.run(
      c.name,
      JSON.stringify(c.config),
      JSON.stringify(c.hostConfig),
      JSON.stringify(c.state),
      c.restartCount,
      JSON.stringify(c.extra),
      c.id,
    );
  }

  delete(id: string): void {
    this.q.delete.run(id);
  }

  /**
   * Removes the row and records the pending clean-up in one transaction: from here on the
   * container is gone for the API (its name free), and a crash cannot leak what it leaves.
   */
  retire(c: Record): void {
    this.store.tx(() => {
      this.q.delete.run(c.id);
      this.q.addRemoval.run(c.id, c.dir, c.rootfs, c.imageId);
    });
  }

  /** Removals not finished yet (a daemon that stopped or died in the middle of one). */
  removals(): Removal[] {
    return (this.q.removals.all() as { id: string; dir: string; rootfs: string; image_id: string }[]).map(
      (r) => ({ id: r.id, dir: r.dir, rootfs: r.rootfs, imageId: r.image_id }),
    );
  }

  /** The clean-up of a retired container is done. */
  finishRemoval(id: string): void {
    this.q.dropRemoval.run(id);
  }
}
