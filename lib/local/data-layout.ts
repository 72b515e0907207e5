/**
 * What a data directory holds, so that `npm start` never silently ignores data of the other storage:
 * the local engine's layout (objects/, index.sqlite, sends.sqlite, clients.sqlite) or the emulators'
 * (s3/ for s3rver, dynamodb/ for dynalite). A directory holding the other layout is refused at start
 * with the commands that serve or migrate it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

/** How `npm start` keeps its data: the local engine, or the AWS adapters on s3rver and dynalite. */
export const ARCHIVE_STORAGES = ['local', 'aws-emulators'] as const;
export type ArchiveStorage = (typeof ARCHIVE_STORAGES)[number];
/** `npm start`'s storage when STORAGE is unset. */
export const DEFAULT_ARCHIVE_STORAGE: ArchiveStorage = 'local';

/** The entries of each layout, directly under the data directory. */
export const LAYOUT_ENTRIES: Readonly<Record<ArchiveStorage, readonly string[]>> = {
  local: ['objects', 'index.sqlite', 'sends.sqlite', 'clients.sqlite'],
  'aws-emulators': ['s3', 'dynamodb'],
};

/** STORAGE as `npm start` takes it; a ConfigError-like refusal for anything else. */
export function archiveStorage(value: string | undefined): ArchiveStorage {
  const v = value?.trim() || DEFAULT_ARCHIVE_STORAGE;
  if ((ARCHIVE_STORAGES as readonly string[]).includes(v)) return v as ArchiveStorage;
  throw new Error(
    `STORAGE=${v}: npm start keeps its data with STORAGE=local (the local engine) or STORAGE=aws-emulators ` +
      '(the AWS adapters on s3rver and dynalite); STORAGE=aws is for the functions deployed in AWS',
  );
}

/** The entries of `storage`'s layout present in `dataDir`. */
export function layoutFound(dataDir: string, storage: ArchiveStorage): string[] {
  return LAYOUT_ENTRIES[storage].filter((entry) => existsSync(path.join(dataDir, entry)));
}

/**
 * Refuses a data directory holding the other storage's layout (and none of this one's): its data
 * would not be seen. Names what was found and the commands that serve or migrate it.
 */
export function refuseOtherLayout(dataDir: string, storage: ArchiveStorage): void {
  const other: ArchiveStorage = storage === 'local' ? 'aws-emulators' : 'local';
  const found = layoutFound(dataDir, other);
  if (found.length === 0 || layoutFound(dataDir, storage).length > 0) return;
  const entries = found.map((e) => (e.includes('.') ? e : `${e}/`)).join(', ');
  const what = other === 'local' ? 'the local engine layout' : 'the emulator layout';
  const migrate =
    other === 'aws-emulators'
      ? `, or migrate it to the local engine: \`npm run migrate-data -- --from ${dataDir} --to NEW_DIR\`, then \`STORAGE=local DATA_DIR=NEW_DIR npm start\``
      : '';
  throw new Error(`DATA_DIR ${dataDir} holds ${what} (${entries}): run \`STORAGE=${other} npm start\` on it${migrate}`);
}
