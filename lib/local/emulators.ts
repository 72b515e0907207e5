/**
 * The embedded runtime's S3 and DynamoDB: s3rver and dynalite, in this process, on 127.0.0.1
 * ephemeral ports, keeping their data under one directory so a restart finds it again. They speak
 * the real wire protocols, so the adapters in lambdas/storage/ run unchanged (docs/architecture.md).
 */
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient } from '../../lambdas/storage/dynamodb-table';
import { CLIENTS_PARTITION_KEY } from '../../lambdas/storage/clients-table-schema';
import { GLOBAL_SECONDARY_INDEXES, TABLE_PARTITION_KEY, TABLE_SORT_KEY } from '../../lambdas/storage/table-schema';
import { installS3rverMultipart, writeHashed } from './s3rver-multipart';

// Both emulators are CommonJS without type declarations: load them through require, typed here
// with the part of their API this module uses.
interface S3rverOptions {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string; configs: string[] }[];
}
interface S3rver {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
interface DynaliteOptions {
  path: string;
  createTableMs: number;
  deleteTableMs: number;
  updateTableMs: number;
}
const require = createRequire(import.meta.url);
const S3rverServer = require('s3rver') as new (options: S3rverOptions) => S3rver;

/**
 * s3rver acknowledges a PUT before the object's file is written (it resolves when the request body
 * has been read, not when the file is flushed), so a crash right after loses an object that S3 would
 * have kept. The archive's write order (object first, then index) relies on S3's guarantee, so the
 * embedded S3 waits for the file, as S3 waits for durability, before it answers.
 */
interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | NodeJS.ReadableStream;
  metadata: unknown;
}
interface FilesystemStoreInternals {
  getResourcePath(bucket: string, key: string, kind: 'object'): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
}
const FilesystemStore = require('s3rver/lib/stores/filesystem') as { prototype: FilesystemStoreInternals & Record<string, unknown> };
FilesystemStore.prototype.putObject = async function putObject(this: FilesystemStoreInternals, object: S3rverObject) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await mkdir(dirname(objectPath), { recursive: true });
  const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  const written = await writeHashed(source, objectPath);
  await this.putMetadata(object.bucket, object.key, object.metadata, written.md5);
  return written;
};
// ListParts, AbortMultipartUpload, UploadPartCopy, S3's checks of a multipart upload, and UploadPart
// answering once its part is written (s3rver-multipart.ts).
installS3rverMultipart();
const dynalite = require('dynalite') as (options: DynaliteOptions) => Server;

/**
 * The iterators dynalite's LevelDB hands out (abstract-level, through level and classic-level), and
 * the base their next() and close() live on.
 */
export function dynaliteLevelIterators(): { readonly prototype: LevelIterator } {
  const fromDynalite = createRequire(require.resolve('dynalite'));
  const fromClassicLevel = createRequire(createRequire(fromDynalite.resolve('level')).resolve('classic-level'));
  const { AbstractIterator } = fromClassicLevel('abstract-level') as { AbstractIterator: { prototype: object } };
  // AbstractIterator, AbstractKeyIterator and AbstractValueIterator share one base with next() and close().
  return { prototype: Object.getPrototypeOf(AbstractIterator.prototype) as LevelIterator };
}
interface LevelIterator {
  next(): Promise<unknown>;
  close(): Promise<void>;
  return?: () => Promise<void>;
}

/**
 * dynalite 4 reads every Query and Scan through a LevelDB iterator wrapped in a stream whose destroy
 * calls `iterator.return()`, which abstract-level 3's iterators do not have (they end with close()),
 * so without this patch no iterator is closed. Each open iterator pins the LevelDB version it reads
 * (the files compaction has replaced cannot be deleted) and its native buffers, so a long load grows
 * memory and the data directory without bound (figures in docs/testing.md). With the return()
 * dynalite calls, each iterator closes when its stream ends or is cut short.
 */
const levelIterator = dynaliteLevelIterators().prototype;
if (typeof levelIterator.return !== 'function') {
  levelIterator.return = function (this: LevelIterator) {
    return this.close();
  };
}

export interface EmulatorOptions {
  /** Directory holding the data: `s3/` (s3rver files) and `dynamodb/` (dynalite LevelDB). */
  readonly dataDir: string;
  readonly bucketName: string;
  readonly tableName: string;
  /** The API key clients' table (clients-table-schema.ts), created beside the archive's when named. */
  readonly clientsTableName?: string;
  readonly host?: '127.0.0.1';
}

export interface Emulators {
  readonly s3Endpoint: string;
  readonly dynamodbEndpoint: string;
  /** Stops both servers (and closes the LevelDB), so the process can exit. */
  close(): Promise<void>;
}

/** The archive's table: keys and GSIs of table-schema.ts, each with its projection, on-demand capacity. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const keyNames = [TABLE_PARTITION_KEY, TABLE_SORT_KEY, ...GLOBAL_SECONDARY_INDEXES.flatMap((g) => [g.partitionKey, g.sortKey])];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keyNames.map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: TABLE_PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: TABLE_SORT_KEY, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: GLOBAL_SECONDARY_INDEXES.map((g) => ({
      IndexName: g.indexName,
      KeySchema: [
        { AttributeName: g.partitionKey, KeyType: 'HASH' },
        { AttributeName: g.sortKey, KeyType: 'RANGE' },
      ],
      Projection:
        g.projection.type === 'KEYS_ONLY'
          ? { ProjectionType: 'KEYS_ONLY' }
          : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...g.projection.nonKeyAttributes] },
    })),
  };
}

/** The API key clients' table: partition key `id` alone, on-demand capacity, no index (clients-table-schema.ts). */
export function createClientsTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: CLIENTS_PARTITION_KEY, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: CLIENTS_PARTITION_KEY, KeyType: 'HASH' }],
  };
}

export async function startEmulators(opts: EmulatorOptions): Promise<Emulators> {
  const host = opts.host ?? '127.0.0.1';
  const s3Dir = join(opts.dataDir, 's3');
  const dynamoDir = join(opts.dataDir, 'dynamodb');
  await Promise.all([mkdir(s3Dir, { recursive: true }), mkdir(dynamoDir, { recursive: true })]);

  // configureBuckets creates the bucket at start unless it already exists on disk.
  const s3rver = new S3rverServer({
    address: host,
    port: 0,
    silent: true,
    directory: s3Dir,
    configureBuckets: [{ name: opts.bucketName, configs: [] }],
  });
  const s3Address = await s3rver.run();

  const dynamoServer = dynalite({ path: dynamoDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  try {
    await new Promise<void>((resolve, reject) => {
      dynamoServer.once('error', reject);
      dynamoServer.listen(0, host, () => resolve());
    });
  } catch (error) {
    await s3rver.close();
    throw error;
  }
  const dynamoAddress = dynamoServer.address() as AddressInfo;

  const emulators: Emulators = {
    s3Endpoint: `http://${host}:${s3Address.port}`,
    dynamodbEndpoint: `http://${host}:${dynamoAddress.port}`,
    close: async () => {
      await Promise.all([
        s3rver.close(),
        new Promise<void>((resolve, reject) => dynamoServer.close((err) => (err ? reject(err) : resolve()))),
      ]);
    },
  };

  const dynamodb = createDynamoDbClient({ region: 'us-east-1', dynamodbEndpoint: emulators.dynamodbEndpoint });
  try {
    await ensureTable(dynamodb, opts.tableName);
    if (opts.clientsTableName) await ensureTable(dynamodb, opts.clientsTableName, createClientsTableInput(opts.clientsTableName));
  } catch (error) {
    await emulators.close();
    throw error;
  } finally {
    dynamodb.destroy();
  }
  return emulators;
}

/** Creates the table (the archive's unless `input` says otherwise) unless it exists, then waits until it is ACTIVE. */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  input: CreateTableCommandInput = createTableInput(tableName),
): Promise<void> {
  try {
    await client.send(new CreateTableCommand(input));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (Table?.TableStatus === 'ACTIVE') return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    await sleep(20);
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}
