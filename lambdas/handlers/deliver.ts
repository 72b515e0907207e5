/**
 * Lambda entry of the Send state machine's Deliver task (lib/send-workflow.ts sendTaskFunctions): one
 * batch of sub-operations, by C-STORE where the registry maps the destination to a DIMSE AE, else by
 * STOW-RS. A function of its own because only it may need the DIMSE library, which
 * lambdas/dimse/sub-operations.ts loads on the first C-STORE, not at start; and it builds only what a
 * batch needs (lambdas/send/deliver.ts), so neither the search nor dcmjs loads at its start either.
 */
import { deliverSubOperations } from '../dimse/sub-operations';
import { SendDelivery } from '../send/deliver';
import type { DeliverInput } from '../send/workflow-io';
import { destinationRegistrySource } from '../storage/destinations';
import { createDynamoDbClient, DynamoMetadataIndex } from '../storage/dynamodb';
import { DynamoNpiIndex } from '../storage/npi-index';
import { createS3Client, S3BlobStore } from '../storage/s3';
import { DynamoSendRequestStore } from '../storage/send-requests';
import { functionServices } from './function-services';
import { taskEntry } from '../http/source-mapped-stack';

const services = functionServices((cfg) => {
  const dynamodb = createDynamoDbClient(cfg);
  return {
    delivery: new SendDelivery({
      requests: new DynamoSendRequestStore(dynamodb, cfg.tableName),
      index: new DynamoMetadataIndex(dynamodb, cfg.tableName, cfg.indexShards),
      blobs: new S3BlobStore(createS3Client(cfg), cfg.bucketName),
      destinations: destinationRegistrySource(cfg),
      npiIndex: new DynamoNpiIndex(dynamodb, cfg.tableName),
      deliverBatch: deliverSubOperations,
      maxBatchBytes: cfg.sendMaxBatchBytes,
    }),
  };
});

export const deliver = taskEntry(async (input: DeliverInput): Promise<void> => {
  await services().delivery.deliver(input);
});
