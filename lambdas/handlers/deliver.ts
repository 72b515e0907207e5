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
import { createDynamoDbClient } from '../storage/dynamodb-table';
import { blobStore } from '../storage/factory/blob-store';
import { destinations } from '../storage/factory/destinations';
import { DESTINATION_REGISTRY_FORMAT } from '../send/destinations';
import { metadataIndex } from '../storage/factory/metadata-index';
import { npiIndex } from '../storage/factory/npi-index';
import { sendRequestStore } from '../storage/factory/send-request-store';
import { functionServices } from './function-services';
import { taskEntry } from '../http/source-mapped-stack';

const services = functionServices((cfg) => {
  const dynamodb = createDynamoDbClient(cfg);
  return {
    delivery: new SendDelivery({
      requests: sendRequestStore(cfg, { dynamodb }),
      index: metadataIndex(cfg, { dynamodb }),
      blobs: blobStore(cfg),
      destinations: destinations(cfg, DESTINATION_REGISTRY_FORMAT),
      npiIndex: npiIndex(cfg, { dynamodb }),
      deliverBatch: deliverSubOperations,
      maxBatchBytes: cfg.sendMaxBatchBytes,
    }),
  };
});

export const deliver = taskEntry(async (input: DeliverInput): Promise<void> => {
  await services().delivery.deliver(input);
});
