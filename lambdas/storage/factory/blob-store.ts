/** Builds the BlobStore port (see ./clients.ts for how the factory is laid out). */
import type { BlobStore } from '../ports';
import { createS3Client, S3BlobStore } from '../s3';
import { localEngine, type BucketConfig, type StorageClients } from './clients';

/** The objects: Part 10 files, their DICOM JSON, Send manifests and outcomes. */
export function blobStore(cfg: BucketConfig, clients: StorageClients = {}): BlobStore {
  if (cfg.storage === 'local') return localEngine(clients).blobStore();
  return new S3BlobStore(clients.s3 ?? createS3Client(cfg), cfg.bucketName);
}
