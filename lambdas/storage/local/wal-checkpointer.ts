/**
 * Checkpoints of a SQLite database's WAL on a thread of their own (https://www.sqlite.org/wal.html,
 * "Checkpointing"). By default the connection that commits past 1,000 WAL pages copies them into the
 * database file and fsyncs it, inside that commit: on the event loop, every ~70 Store requests, for
 * milliseconds. Here the writer's automatic checkpoints are off (`wal_autocheckpoint = 0`) and a
 * second connection, on a worker thread, runs a PASSIVE checkpoint every CHECKPOINT_INTERVAL_MS:
 * PASSIVE never blocks the writer or readers, and copies what no reader still needs.
 *
 * Should the thread fail, the writer's automatic checkpoints come back, so the WAL never grows
 * without bound. `journal_size_limit` trims the WAL file when a writer restarts it after a checkpoint.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { SqliteDatabase } from './sqlite';

/** How often the thread checkpoints: a PASSIVE checkpoint with nothing to copy reads a header only. */
const CHECKPOINT_INTERVAL_MS = 100;
/** The writer's automatic checkpoint threshold when no thread does it: SQLite's default, in pages. */
const AUTOCHECKPOINT_PAGES = 1000;
/** Largest WAL file kept after a restart (PRAGMA journal_size_limit), in bytes. */
const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

// CommonJS, evaluated on the thread: no loader needed, whatever runs the main thread (tsx, vitest).
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // SQLITE_BUSY or a transient I/O error: the next tick tries again.
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.postMessage('closed');
  parentPort.close();
});
`;

export class WalCheckpointer {
  private closing?: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    private readonly db: SqliteDatabase,
  ) {}

  /**
   * Takes over the checkpoints of `db` (a file database in WAL mode). Synchronous, so a database opened
   * lazily stays so: the thread opens its connection on its own time; one that fails hands the
   * checkpoints back to the writer.
   */
  static start(db: SqliteDatabase): WalCheckpointer {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { sqlite, path: db.name, intervalMs: CHECKPOINT_INTERVAL_MS },
    });
    const checkpointer = new WalCheckpointer(worker, db);
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
    db.pragma('wal_autocheckpoint = 0');
    const fallBack = () => {
      if (checkpointer.closing === undefined && db.open) db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    };
    worker.on('error', fallBack);
    worker.on('exit', fallBack);
    worker.unref();
    return checkpointer;
  }

  /** Stops the thread and closes its connection; the writer's automatic checkpoints come back. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      const closed = new Promise<void>((resolve) => {
        this.worker.once('message', () => resolve()); // 'closed': its connection is closed
        this.worker.once('exit', () => resolve());
      });
      this.worker.postMessage('close');
      await closed;
      await this.worker.terminate();
      if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    })());
  }
}
