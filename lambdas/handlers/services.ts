/**
 * The services of this process, built once per cold start from the configuration (STYLE.md 7):
 * SDK clients -> adapters -> services. Handlers receive them; nothing else builds clients.
 */
import { config, type Config } from '../config';
import { DeleteService } from '../dicomweb/delete';
import { RetrieveService } from '../dicomweb/retrieve';
import { SearchService } from '../dicomweb/search';
import { StoreService } from '../dicomweb/store';
import { createAwsClients } from '../storage/clients';
import { DynamoMetadataIndex } from '../storage/dynamodb';
import type { BlobStore, MetadataIndex } from '../storage/ports';
import { S3BlobStore } from '../storage/s3';

export interface Services {
  readonly config: Config;
  readonly index: MetadataIndex;
  readonly blobs: BlobStore;
  readonly store: StoreService;
  readonly search: SearchService;
  readonly retrieve: RetrieveService;
  readonly delete: DeleteService;
}

/** Wires services over the given ports (used by the AWS wiring below and by tests with fakes). */
export function createServices(cfg: Config, index: MetadataIndex, blobs: BlobStore): Services {
  return {
    config: cfg,
    index,
    blobs,
    store: new StoreService(index, blobs, { bulkDataThreshold: cfg.bulkDataThreshold, maxRequestBytes: cfg.maxRequestBytes }),
    search: new SearchService(index, {
      maxCandidates: cfg.qidoMaxCandidates,
      defaultLimit: cfg.qidoDefaultLimit,
      maxLimit: cfg.qidoMaxLimit,
    }),
    retrieve: new RetrieveService(index, blobs, { maxResponseBytes: cfg.maxResponseBytes }),
    delete: new DeleteService(index, blobs),
  };
}

let cached: Services | undefined;

/** The services of this process over AWS SDK adapters (AWS, or the emulators when endpoints are set). */
export function services(): Services {
  if (!cached) {
    const cfg = config();
    const clients = createAwsClients(cfg);
    cached = createServices(
      cfg,
      new DynamoMetadataIndex(clients.dynamodb, cfg.tableName, cfg.indexShards),
      new S3BlobStore(clients.s3, cfg.bucketName),
    );
  }
  return cached;
}
