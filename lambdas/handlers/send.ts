/** Send and Check Send Result (Supplement 248 10.X, 10.Y) on the six resources of Table 10.X.1-1. */
import { npiCategory } from '../dicomweb/npi-categories';
import { SendService, type SendResponse } from '../dicomweb/send';
import { SendOutcomes } from '../send/outcomes';
import { blobStore } from '../storage/factory/blob-store';
import { destinations } from '../storage/factory/destinations';
import { DESTINATION_REGISTRY_FORMAT } from '../send/destinations';
import { sendRequestStore } from '../storage/factory/send-request-store';
import { sendWorkflow } from '../storage/factory/send-workflow';
import { functionServices } from './function-services';
import type { Level, SendTarget } from '../storage/ports';
import type { DicomwebResponse } from '../dicomweb/messages';
import type { DicomwebRequest } from '../http/request';
import { dicomwebHandler, type Operations } from '../http/middleware';
import { sendOptions } from './service-options';
import type { Services } from './services';

const LEVEL_OF_COLLECTION: Record<string, Level> = { studies: 'STUDY', series: 'SERIES', instances: 'INSTANCE' };

/**
 * The level is named by the collection before /send-requests; the UIDs come from the path. On
 * /{npi-name}/send-requests (Sup 248 12.X) the target is the category's instances.
 */
export function sendTargetOf(req: Pick<DicomwebRequest, 'resource' | 'pathParameters'>): SendTarget {
  const npi = npiCategory(/^\/([a-z-]+)\/send-requests\//.exec(req.resource)?.[1]);
  if (npi) return { level: 'INSTANCE', npi: npi.name };
  const collection = /\/([a-z]+)\/send-requests\//.exec(req.resource)?.[1] ?? '';
  const level = LEVEL_OF_COLLECTION[collection];
  if (!level) throw new Error(`${req.resource} is not a send-requests resource`);
  return { level, studyInstanceUID: req.pathParameters.study, seriesInstanceUID: req.pathParameters.series };
}

function toHttpResponse(result: SendResponse): DicomwebResponse {
  const headers: Record<string, string> = { 'Content-Type': result.contentType };
  if (result.retryAfterSeconds !== undefined) headers['Retry-After'] = String(result.retryAfterSeconds);
  return { status: result.status, headers, body: JSON.stringify(result.payload) };
}

export const operations: Operations<'send', Pick<Services, 'send'>> = {
  Send: async (req, { send }) =>
    toHttpResponse(
      await send.send({
        target: sendTargetOf(req),
        transactionUID: req.pathParameters.transactionUID,
        query: req.query,
        accept: req.headers.accept,
        body: req.body,
      }),
    ),
  CheckSendResult: async (req, { send }) =>
    toHttpResponse(
      await send.checkSendResult({
        target: sendTargetOf(req),
        transactionUID: req.pathParameters.transactionUID,
        accept: req.headers.accept,
      }),
    ),
};

/**
 * The send requests, the workflow and the destination registry; of the objects, only the batch
 * outcomes a final response lists (send-requests/{transactionUID}/outcomes/, lambdas/send/outcomes.ts).
 */
export const handler = dicomwebHandler(
  'send',
  operations,
  functionServices((cfg) => {
    const requests = sendRequestStore(cfg);
    return {
      send: new SendService(
        requests,
        new SendOutcomes(requests, blobStore(cfg)),
        sendWorkflow(cfg),
        destinations(cfg, DESTINATION_REGISTRY_FORMAT),
        sendOptions(cfg),
      ),
    };
  }),
);
