/**
 * Migrates a data directory of the emulator layout (s3/ for s3rver, dynamodb/ for dynalite) to the
 * local engine's (lambdas/storage/local/engine.ts): every Part 10 object of a stored instance, of the
 * Studies Service and of the Non-Patient Instance services, is stored again through the Store
 * services, so the new index is built exactly as a Store builds it; the API key clients and share
 * links are copied as they are (their secrets are hashes: every key and link keeps working). Send requests and tombstones are
 * not carried: a Send is a transaction of its day, and a tombstone only answers 410 for a while.
 *
 * The objects are listed from s3rver's directory on disk (ListObjectsV2 pagination of s3rver fails
 * on Node 17 and later) and read through the S3 adapter; an object that no index entry names (a
 * write interrupted before its entry, a Delete interrupted after) is skipped, as the old archive
 * never served it.
 */
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../lambdas/config';
import { StoreService } from '../../lambdas/dicomweb/store';
import { NpiService } from '../../lambdas/dicomweb/npi';
import { requireNpiCategory } from '../../lambdas/dicomweb/npi-categories';
import { bodyOf } from '../../lambdas/dicomweb/messages';
import { npiOptions, storeOptions } from '../../lambdas/handlers/service-options';
import { createAwsClients } from '../../lambdas/storage/clients';
import { DynamoClientStore } from '../../lambdas/storage/dynamodb-clients';
import { DynamoShareLinkStore } from '../../lambdas/storage/dynamodb-share-links';
import { DynamoMetadataIndex } from '../../lambdas/storage/dynamodb';
import { DynamoNpiIndex } from '../../lambdas/storage/npi-index';
import { openLocalEngine } from '../../lambdas/storage/local/engine';
import { S3BlobStore } from '../../lambdas/storage/s3';
import { layoutFound } from './data-layout';
import { startEmulators } from './emulators';
import { LOCAL_BUCKET, LOCAL_CLIENTS_TABLE, LOCAL_TABLE } from './storage';

export interface MigrateOptions {
  /** The emulator-layout data directory (read only: the emulators run over it, nothing is removed). */
  readonly from: string;
  /** The local engine's new data directory (created; must not hold the emulator layout). */
  readonly to: string;
  /** Settings of lambdas/config.ts the old archive ran with (INDEX_SHARDS, BULKDATA_THRESHOLD). */
  readonly env?: Readonly<Record<string, string>>;
  readonly log?: (line: string) => void;
}

export interface MigrateReport {
  readonly instances: number;
  readonly npiInstances: number;
  readonly clients: number;
  readonly shareLinks: number;
  /** Objects no index entry names: not carried. */
  readonly skipped: number;
  /** SOP Instance UIDs the Store refused, with its reason. */
  readonly failed: readonly { readonly key: string; readonly reason: string }[];
}

/** s3rver keeps each object as `{bucket}/{key}._S3rver_object` under its directory. */
const S3RVER_OBJECT = '._S3rver_object';

/** The keys of the bucket's objects, from s3rver's files. */
export async function s3rverKeys(s3Dir: string, bucket: string): Promise<string[]> {
  const root = path.join(s3Dir, bucket);
  const files = await readdir(root, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return files
    .filter((f) => f.endsWith(S3RVER_OBJECT))
    .map((f) => f.slice(0, -S3RVER_OBJECT.length).split(path.sep).join('/'))
    .sort();
}

/** studies/{study}/series/{series}/instances/{sop}[.{version}].dcm */
const STUDY_OBJECT = /^studies\/([^/]+)\/series\/([^/]+)\/instances\/([^/]+?)(?:\.[^./]+)?\.dcm$/;
/** npi/{category}/{sop}[.{version}].dcm; a SOP Instance UID holds dots, a version none */
const NPI_OBJECT = /^npi\/([^/]+)\/(.+)\.dcm$/;

export async function migrateEmulatorData(opts: MigrateOptions): Promise<MigrateReport> {
  const log = opts.log ?? (() => {});
  const from = path.resolve(opts.from);
  const to = path.resolve(opts.to);
  if (from === to) throw new Error('--from and --to must be two directories');
  if (layoutFound(from, 'aws-emulators').length < 2) {
    throw new Error(`${from} does not hold the emulator layout (s3/ and dynamodb/): nothing to migrate`);
  }
  const toFound = layoutFound(to, 'aws-emulators');
  if (toFound.length) throw new Error(`${to} holds the emulator layout (${toFound.join(', ')}): migrate into a new directory`);

  const settings = { BUCKET_NAME: LOCAL_BUCKET, TABLE_NAME: LOCAL_TABLE, AWS_REGION: 'us-east-1', ...opts.env };
  // Every instance that was stored is stored again, however large: no request limit applies here.
  const config = loadConfig({ ...settings, STORAGE: 'local', DATA_DIR: to, MAX_REQUEST_BYTES: String(2 ** 40) });
  const emulators = await startEmulators({
    dataDir: from,
    bucketName: LOCAL_BUCKET,
    tableName: LOCAL_TABLE,
    clientsTableName: LOCAL_CLIENTS_TABLE,
  });
  const aws = createAwsClients({ region: 'us-east-1', s3Endpoint: emulators.s3Endpoint, dynamodbEndpoint: emulators.dynamodbEndpoint });
  const engine = await openLocalEngine(to);
  try {
    const old = {
      blobs: new S3BlobStore(aws.s3, LOCAL_BUCKET),
      index: new DynamoMetadataIndex(aws.dynamodb, LOCAL_TABLE, config.indexShards),
      npi: new DynamoNpiIndex(aws.dynamodb, LOCAL_TABLE),
      clients: new DynamoClientStore(aws.dynamodb, LOCAL_CLIENTS_TABLE),
      shareLinks: new DynamoShareLinkStore(aws.dynamodb, LOCAL_CLIENTS_TABLE),
    };
    const store = new StoreService(engine.metadataIndex(), engine.blobStore(), storeOptions(config));
    const npi = new NpiService(engine.npiIndex(), engine.blobStore(), npiOptions(config));
    const baseUrl = 'http://localhost';
    const failed: { key: string; reason: string }[] = [];
    let instances = 0;
    let npiInstances = 0;
    let skipped = 0;

    const keys = await s3rverKeys(path.join(from, 's3'), LOCAL_BUCKET);
    for (const key of keys) {
      const study = STUDY_OBJECT.exec(key);
      const npiMatch = study ? null : NPI_OBJECT.exec(key);
      if (!study && !npiMatch) continue; // metadata JSON (rebuilt by the Store), Send manifests and outcomes
      const entry = study
        ? (await old.index.getInstance(study[1]!, study[2]!, study[3]!))?.instance
        : (await old.npi.getInstance(npiMatch![1]!, sopOf(npiMatch![2]!)))?.instance;
      if (entry?.objectKey !== key) {
        skipped++;
        continue;
      }
      const part10 = await old.blobs.get(key);
      if (!part10) {
        failed.push({ key, reason: 'the index names it but the object is missing' });
        continue;
      }
      if (study) {
        const outcome = await store.storeInstance(part10, { baseUrl });
        if ('failed' in outcome) failed.push({ key, reason: `Failure Reason ${hex(outcome.failed.failureReason)}` });
        else if (++instances % 500 === 0) log(`  ${instances} instances stored`);
      } else {
        const category = requireNpiCategory(npiMatch![1]!);
        const result = await npi.storeInstances({ category, ...onePart(part10), baseUrl });
        if (result.stored === 1) npiInstances++;
        else failed.push({ key, reason: `Store answered ${result.status}` });
      }
    }

    let clients = 0;
    const target = engine.clientStore();
    for (const client of await old.clients.list()) {
      if (await target.get(client.id)) continue; // a migration run again
      await target.create(client);
      clients++;
    }
    let shareLinks = 0;
    const links = engine.shareLinkStore();
    for (const link of await old.shareLinks.list()) {
      if (await links.get(link.id)) continue; // a migration run again
      await links.create(link);
      shareLinks++;
    }
    const report = { instances, npiInstances, clients, shareLinks, skipped, failed };
    log(
      `Migrated ${instances} instances, ${npiInstances} Non-Patient Instances and ${clients} API key clients and ${shareLinks} share links from ${from} to ${to}` +
        (skipped ? `; ${skipped} objects no index entry named were left (interrupted or deleted writes)` : ''),
    );
    log('Not carried: send requests (their results and tombstones) and the tombstones of deleted instances.');
    for (const f of failed) log(`  not migrated: ${f.key}: ${f.reason}`);
    return report;
  } finally {
    await engine.close();
    aws.s3.destroy();
    aws.dynamodb.destroy();
    await emulators.close();
  }
}

/** `{sop}.{version}` or `{sop}` (objects of releases without versions): the version is 16 hex digits, '-', 8. */
function sopOf(name: string): string {
  return name.replace(/\.[0-9a-f]{16}-[0-9a-f]{8}$/, '');
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/** One Part 10 instance as a Store request body (PS3.18 8.6.1.2, multipart/related; type="application/dicom"). */
function onePart(part10: Uint8Array): { contentType: string; body: ReturnType<typeof bodyOf> } {
  const boundary = `migrate-${randomUUID()}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
    body: bodyOf(Buffer.concat([head, part10, tail])),
  };
}
