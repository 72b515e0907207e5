/**
 * Lambda entry of the Send state machine's Resolve task (lib/send-workflow.ts sendTaskFunctions);
 * Deliver is ./deliver.ts, Finalize and Fail ./send-finish.ts, each building only what its task uses.
 * It hands its input to the task code; errors propagate to the state machine, whose Catch marks the
 * request failed.
 */
import { NpiService } from '../dicomweb/npi';
import { SearchService } from '../dicomweb/search';
import { SendResolve } from '../send/resolve';
import type { ResolveInput } from '../send/workflow-io';
import { createDynamoDbClient, DynamoMetadataIndex } from '../storage/dynamodb';
import { DynamoNpiIndex } from '../storage/npi-index';
import { createS3Client, S3BlobStore } from '../storage/s3';
import { DynamoSendRequestStore } from '../storage/send-requests';
import { functionServices } from './function-services';
import { npiOptions, searchOptions } from './service-options';
import { taskEntry } from '../http/source-mapped-stack';

const services = functionServices((cfg) => {
  const dynamodb = createDynamoDbClient(cfg);
  const index = new DynamoMetadataIndex(dynamodb, cfg.tableName, cfg.indexShards);
  const npiIndex = new DynamoNpiIndex(dynamodb, cfg.tableName);
  const blobs = new S3BlobStore(createS3Client(cfg), cfg.bucketName);
  return {
    resolution: new SendResolve({
      requests: new DynamoSendRequestStore(dynamodb, cfg.tableName),
      search: new SearchService(index, searchOptions(cfg)),
      index,
      blobs,
      npi: { service: new NpiService(npiIndex, blobs, npiOptions(cfg)), index: npiIndex },
    }),
  };
});

export const resolve = taskEntry((input: ResolveInput) => services().resolution.resolve(input));
