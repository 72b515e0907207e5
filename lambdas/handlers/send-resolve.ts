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
import { createDynamoDbClient } from '../storage/dynamodb-table';
import { blobStore } from '../storage/factory/blob-store';
import { metadataIndex } from '../storage/factory/metadata-index';
import { npiIndex as npiIndexOf } from '../storage/factory/npi-index';
import { sendRequestStore } from '../storage/factory/send-request-store';
import { functionServices } from './function-services';
import { npiOptions, searchOptions } from './service-options';
import { taskEntry } from '../http/source-mapped-stack';

const services = functionServices((cfg) => {
  const dynamodb = createDynamoDbClient(cfg);
  const index = metadataIndex(cfg, { dynamodb });
  const npiIndex = npiIndexOf(cfg, { dynamodb });
  const blobs = blobStore(cfg);
  return {
    resolution: new SendResolve({
      requests: sendRequestStore(cfg, { dynamodb }),
      search: new SearchService(index, searchOptions(cfg)),
      index,
      blobs,
      npi: { service: new NpiService(npiIndex, blobs, npiOptions(cfg)), index: npiIndex },
    }),
  };
});

export const resolve = taskEntry((input: ResolveInput) => services().resolution.resolve(input));
