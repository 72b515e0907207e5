/** Builds the DirectTransfer port (see ./clients.ts for how the factory is laid out). */
import type { DirectTransfer } from '../ports';
import { createS3Client } from '../s3';
import { S3DirectTransfer } from '../s3-direct-transfer';
import { localEngine, type BucketConfig, type StorageClients } from './clients';

/** Bytes moving between clients and the bucket without a function: upload parts, download URLs. */
export function directTransfer(cfg: BucketConfig, clients: StorageClients = {}): DirectTransfer {
  if (cfg.storage === 'local') return localEngine(clients).directTransfer();
  return new S3DirectTransfer(clients.s3 ?? createS3Client(cfg), cfg.bucketName);
}
