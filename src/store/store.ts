/**
 * The metadata store: one SQLite database (WAL) under the daemon's root.
 *
 * Life cycle: `openStore(root)` opens or creates `<root>/berth.db`; each part then calls
 * `store.migrate(part, steps)` once at start-up with its own ordered list of schema steps
 * (applied steps are remembered per part, so a part only ever appends to its list).
 * Changes that touch several rows go through `store.tx(fn)`, so a crash (even kill -9)
 * leaves either the old or the new state, never a torn one (DESIGN.md decision 4).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

export interface Store {
  readonly db: Db;
  /** Applies the part's schema steps that have not run yet, each in its own transaction. */
  migrate(part: string, steps: readonly string[]): void;
  /** Runs fn in one transaction (nested calls join the outer one). */
  tx<T>(fn: () => T): T;
  close(): void;
}

export function openStore(root: string): Store {
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  const db = new Database(path.join(root, 'berth.db'));
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives a crash of the process; only an OS crash can lose the last commit.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS schema_steps (part TEXT PRIMARY KEY, applied INTEGER NOT NULL)');
  return {
    db,
    migrate(part, steps) {
      const row = db.prepare('SELECT applied FROM schema_steps WHERE part = ?').get(part) as
        | { applied: number }
        | undefined;
      const applied = row?.applied ?? 0;
      for (let i = applied; i < steps.length; i++) {
        db.transaction(() => {
          db.exec(steps[i]!);
          db.prepare(
            'INSERT INTO schema_steps (part, applied) VALUES (?, ?) ON CONFLICT(part) DO UPDATE SET applied = excluded.applied',
          ).run(part, i + 1);
        })();
      }
    },
    tx(fn) {
      return db.transaction(fn)();
    },
    close() {
      db.close();
    },
  };
}
