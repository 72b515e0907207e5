/**
 * The factory's STORAGE branch (lambdas/storage/factory): with STORAGE=local every port is the local
 * engine's the caller opened, the same object for the ports of one process; without an engine, a
 * ConfigError, never an AWS adapter in its place.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../lambdas/config';
import { blobStore } from '../../../../lambdas/storage/factory/blob-store';
import { createClientStore, optionalClientStore } from '../../../../lambdas/storage/factory/client-store';
import type { LocalEngine } from '../../../../lambdas/storage/factory/clients';
import { ensureIndexNameTerms, metadataIndex } from '../../../../lambdas/storage/factory/metadata-index';
import { npiIndex } from '../../../../lambdas/storage/factory/npi-index';
import { sendRequestStore } from '../../../../lambdas/storage/factory/send-request-store';
import { optionalShareLinkStore } from '../../../../lambdas/storage/factory/share-link-store';
import { directTransfer } from '../../../../lambdas/storage/factory/direct-transfer';
import { uploadStore } from '../../../../lambdas/storage/factory/upload-store';
import { DynamoUploadStore } from '../../../../lambdas/storage/dynamodb-uploads';
import { S3BlobStore } from '../../../../lambdas/storage/s3';
import { S3DirectTransfer } from '../../../../lambdas/storage/s3-direct-transfer';

const ports = {
  blobs: { kind: 'blobs' },
  index: { kind: 'index' },
  npi: { kind: 'npi' },
  sends: { kind: 'sends' },
  clients: { kind: 'clients' },
  shares: { kind: 'shares' },
  transfer: { kind: 'transfer' },
  uploads: { kind: 'uploads' },
};
const engine = {
  dataDir: '/data',
  blobStore: () => ports.blobs,
  metadataIndex: () => ports.index,
  npiIndex: () => ports.npi,
  sendRequestStore: () => ports.sends,
  clientStore: () => ports.clients,
  shareLinkStore: () => ports.shares,
  directTransfer: () => ports.transfer,
  uploadStore: () => ports.uploads,
} as unknown as LocalEngine;

const local = { storage: 'local' as const, region: 'us-east-1', bucketName: 'b', tableName: 't', indexShards: 8 };

describe('STORAGE=local', () => {
  it("builds every port from the caller's engine", async () => {
    expect(blobStore(local, { local: engine })).toBe(ports.blobs);
    expect(metadataIndex(local, { local: engine })).toBe(ports.index);
    expect(npiIndex(local, { local: engine })).toBe(ports.npi);
    expect(sendRequestStore(local, { local: engine })).toBe(ports.sends);
    // The engine keeps its clients without CLIENTS_TABLE_NAME.
    expect(createClientStore(local, { local: engine })).toBe(ports.clients);
    expect(optionalClientStore(local, { local: engine })).toBe(ports.clients);
    expect(optionalShareLinkStore(local, { local: engine })).toBe(ports.shares);
    expect(directTransfer(local, { local: engine })).toBe(ports.transfer);
    expect(uploadStore(local, { local: engine })).toBe(ports.uploads);
    // The SQLite index holds the name terms from its first schema.
    expect(await ensureIndexNameTerms(local, { local: engine })).toBe(false);
  });

  it('refuses to build a port without an engine (a Lambda function configured STORAGE=local)', () => {
    for (const build of [
      () => blobStore(local),
      () => metadataIndex(local),
      () => npiIndex(local),
      () => sendRequestStore(local),
      () => createClientStore(local),
      () => optionalShareLinkStore(local),
      () => directTransfer(local),
      () => uploadStore(local),
    ]) {
      expect(build).toThrow(ConfigError);
      expect(build).toThrow(/STORAGE=local runs in the embedded runtime/);
    }
  });

  it('STORAGE=aws (or unset) keeps the AWS adapters, whatever engine is passed', () => {
    expect(blobStore({ ...local, storage: 'aws' }, { local: engine })).toBeInstanceOf(S3BlobStore);
    expect(blobStore({ region: 'us-east-1', bucketName: 'b' }, { local: engine })).toBeInstanceOf(S3BlobStore);
    expect(directTransfer({ ...local, storage: 'aws' }, { local: engine })).toBeInstanceOf(S3DirectTransfer);
    expect(uploadStore({ ...local, storage: 'aws' }, { local: engine })).toBeInstanceOf(DynamoUploadStore);
  });
});
