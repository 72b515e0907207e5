/**
 * Lambda entries of the Send state machine's Task states (lib/send-workflow.ts sendTaskFunctions)
 * but Deliver (./deliver.ts). Each only hands its input to the task code; errors propagate to the
 * state machine, whose Catch marks the request failed. Logs carry the Transaction UID and counts,
 * never patient data.
 */
import { NpiService } from '../dicomweb/npi';
import { SearchService } from '../dicomweb/search';
import { SendTasks, type DeliverBatch } from '../send/tasks';
import type { FailInput, FinalizeInput, ResolveInput } from '../send/workflow-io';
import { destinationRegistrySource } from '../storage/destinations';
import { createDynamoDbClient, DynamoMetadataIndex } from '../storage/dynamodb';
import { DynamoNpiIndex } from '../storage/npi-index';
import { createS3Client, S3BlobStore } from '../storage/s3';
import { DynamoSendRequestStore } from '../storage/send-requests';
import { functionServices } from './function-services';
import { npiOptions, searchOptions } from './service-options';

/** The task code over the send requests, the index, the objects and the destination registry. */
export function sendTaskServices(deliverBatch?: DeliverBatch) {
  return functionServices((cfg) => {
    const dynamodb = createDynamoDbClient(cfg);
    const index = new DynamoMetadataIndex(dynamodb, cfg.tableName, cfg.indexShards);
    const npiIndex = new DynamoNpiIndex(dynamodb, cfg.tableName);
    const blobs = new S3BlobStore(createS3Client(cfg), cfg.bucketName);
    const sendTasks = new SendTasks({
      requests: new DynamoSendRequestStore(dynamodb, cfg.tableName),
      search: new SearchService(index, searchOptions(cfg)),
      index,
      blobs,
      destinations: destinationRegistrySource(cfg),
      npi: { service: new NpiService(npiIndex, blobs, npiOptions(cfg)), index: npiIndex },
      deliverBatch,
    });
    return { sendTasks };
  });
}

const services = sendTaskServices();

export const resolve = (input: ResolveInput) => services().sendTasks.resolve(input);

export const finalize = (input: FinalizeInput) => services().sendTasks.finalize(input);

export const fail = async (input: FailInput): Promise<void> => {
  console.error(JSON.stringify({ level: 'error', task: 'fail', transactionUID: input.transactionUID, error: input.error.Error }));
  await services().sendTasks.fail(input);
};
