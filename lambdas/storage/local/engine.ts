/**
 * The local engine of one process (STORAGE=local, docs/architecture.md "Storage model"): under the
 * data directory, the objects as files (`objects/`, laid out like the S3 keys) but for the instances'
 * DICOM JSON, kept with the metadata and NPI indexes in `index.sqlite` (./local-blobs.ts); the send
 * requests in `sends.sqlite`, the API key clients and share links in `clients.sqlite`, the uploads in
 * `uploads.sqlite` and their parts under `uploads/` (./file-transfer.ts). Each database is opened
 * once, on the first port that needs it, and shared by the ports built over it (one connection per
 * database per process, as SQLite's WAL mode expects).
 * Opened by the embedded runtime and handed to the factory (lambdas/storage/factory/clients.ts).
 */
import path from 'node:path';
import type { LocalEngine } from '../factory/clients';
import type { BlobStore, ClientStore, MetadataIndex, NpiIndex, SendRequestStore, ShareLinkStore, UploadStore } from '../ports';
import { FileBlobStore } from './file-blobs';
import { FileDirectTransfer } from './file-transfer';
import { LocalBlobStore } from './local-blobs';
import { closeSqlite, openSqlite, type SqliteDatabase } from './sqlite';
import { CLIENTS_MIGRATIONS, SqliteClientStore } from './sqlite-clients';
import { openIndexDatabase, SqliteMetadataIndex } from './sqlite-index';
import { SqliteNpiIndex } from './sqlite-npi-index';
import { FreshRows, SqliteObjects } from './sqlite-objects';
import { SEND_REQUESTS_MIGRATIONS, SqliteSendRequestStore } from './sqlite-send-requests';
import { SqliteShareLinkStore } from './sqlite-share-links';
import { SqliteUploadStore, UPLOADS_MIGRATIONS } from './sqlite-uploads';
import { WalCheckpointer } from './wal-checkpointer';

/** The files of the local engine's layout under the data directory. */
export const LOCAL_ENGINE_FILES = {
  objects: 'objects',
  index: 'index.sqlite',
  sends: 'sends.sqlite',
  clients: 'clients.sqlite',
  uploads: 'uploads.sqlite',
} as const;

/** Threads making the object files' calls: two keep a put's fsync from queueing behind another's. */
const OBJECT_FILE_THREADS = 2;

export interface OpenedLocalEngine extends LocalEngine {
  /** Closes the databases opened (checkpointing their WAL); the engine is not used afterwards. */
  close(): Promise<void>;
}

/** Opens the local engine under `dataDir` (absolute; created when missing). */
export async function openLocalEngine(dataDir: string): Promise<OpenedLocalEngine> {
  const file = (name: string) => path.join(dataDir, name);
  // Two threads make the file calls of the objects (file-io-threads.ts): one message per object.
  const files = await FileBlobStore.open(file(LOCAL_ENGINE_FILES.objects), { ioThreads: OBJECT_FILE_THREADS });
  const transfer = await FileDirectTransfer.open(dataDir, files);
  const opened: SqliteDatabase[] = [];
  const once = <T>(open: () => T): (() => T) => {
    let value: T | undefined;
    return () => (value ??= open());
  };
  const remember = (db: SqliteDatabase) => (opened.push(db), db);
  let checkpointer: WalCheckpointer | undefined;
  const indexDb = once(() => {
    const db = remember(openIndexDatabase(file(LOCAL_ENGINE_FILES.index)));
    // The index takes a commit per stored instance: its checkpoints run off the event loop.
    checkpointer = WalCheckpointer.start(db);
    return db;
  });
  const sendsDb = once(() => remember(openSqlite(file(LOCAL_ENGINE_FILES.sends), SEND_REQUESTS_MIGRATIONS)));
  const clientsDb = once(() => remember(openSqlite(file(LOCAL_ENGINE_FILES.clients), CLIENTS_MIGRATIONS)));
  // The instances' DICOM JSON in the index database, every other object a file (local-blobs.ts).
  const blobs = once(() => new LocalBlobStore(files, new SqliteObjects(indexDb())));
  const index = once((): MetadataIndex => new SqliteMetadataIndex(indexDb()));
  const npi = once((): NpiIndex => new SqliteNpiIndex(indexDb()));
  const sends = once((): SendRequestStore => new SqliteSendRequestStore(sendsDb()));
  const clients = once((): ClientStore => new SqliteClientStore(clientsDb()));
  const shareLinks = once((): ShareLinkStore => new SqliteShareLinkStore(clientsDb()));
  const uploads = once(
    (): UploadStore => new SqliteUploadStore(remember(openSqlite(file(LOCAL_ENGINE_FILES.uploads), UPLOADS_MIGRATIONS))),
  );
  return {
    dataDir,
    blobStore: (): BlobStore => blobs(),
    metadataIndex: index,
    npiIndex: npi,
    sendRequestStore: sends,
    clientStore: clients,
    shareLinkStore: shareLinks,
    directTransfer: () => transfer,
    uploadStore: uploads,
    close: async () => {
      await checkpointer?.close();
      await files.close();
      for (const db of opened.splice(0)) {
        FreshRows.writeAll(db);
        closeSqlite(db);
      }
    },
  };
}
