/**
 * Container rows in SQLite (DESIGN.md decision 4). Each change of a container is one
 * UPDATE of its row, so a daemon killed at any point finds either the old or the new state.
 */
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
];

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

export class Records {
  constructor(
    private readonly store: Store,
    private readonly containersDir: string,
  ) {
    store.migrate('containers', SCHEMA);
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
    return (this.store.db.prepare('SELECT * FROM containers').all() as Row[]).map((r) => this.fromRow(r));
  }

  /** Inserts a new row; the UNIQUE name constraint turns a racing duplicate into false. */
  insert(c: Record): boolean {
    try {
      this.store.db
        .prepare(
          `INSERT INTO containers (id, name, created, image_id, image, config, host_config, state, restart_count, extra)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
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
    this.store.db
      .prepare(
        'UPDATE containers SET name = ?, config = ?, host_config = ?, state = ?, restart_count = ?, extra = ? WHERE id = ?',
      )
      .run(
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
    this.store.db.prepare('DELETE FROM containers WHERE id = ?').run(id);
  }
}
