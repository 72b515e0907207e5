/**
 * Delete of a study, series or instance: removes objects and index entries, leaves a tombstone (410).
 * A study or series the request's time does not cover is answered 202 and continued by an
 * asynchronous invocation of this function (lambdas/storage/delete-continuation.ts).
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { DeleteService, type DeleteBudget, type DeleteResult } from '../dicomweb/delete';
import { createLambdaClient, invokeSelf, isDeleteContinuationEvent } from '../storage/delete-continuation';
import { blobStore } from '../storage/factory/blob-store';
import { metadataIndex } from '../storage/factory/metadata-index';
import { functionServices } from './function-services';
import type { DicomwebResponse } from '../dicomweb/messages';
import type { DicomwebRequest } from '../http/request';
import { dicomwebHandler, type Operations } from '../http/middleware';
import type { Services } from './services';
import { statusReport } from '../http/status-report';

function target(req: DicomwebRequest) {
  return {
    studyInstanceUID: req.pathParameters.study!,
    seriesInstanceUID: req.pathParameters.series,
    sopInstanceUID: req.pathParameters.instance,
  };
}

/** The request's time (the Lambda context's), or none known: the whole job in this call. */
function budget(req: DicomwebRequest): DeleteBudget {
  return { remainingMillis: req.remainingTimeMillis ?? (() => Number.POSITIVE_INFINITY) };
}

/** 204 when everything is gone; 202 with a Status Report while the job continues. */
export function deleteResponse(result: DeleteResult): DicomwebResponse {
  if (result.done) return { status: 204 };
  return statusReport(
    202,
    `the delete was accepted and continues in the background (${result.deletedInstances} instances removed so far); ` +
      'the resource already answers 410 Gone. A DELETE of it again resumes the work if it stopped, and answers 410 once it is done',
  );
}

export const operations: Operations<'delete', Pick<Services, 'delete'>> = {
  DeleteStudy: async (req, s) => deleteResponse(await s.delete.deleteStudy(target(req), budget(req))),
  DeleteSeries: async (req, s) => deleteResponse(await s.delete.deleteSeries(target(req), budget(req))),
  DeleteInstance: async (req, s) => deleteResponse(await s.delete.deleteInstance(target(req))),
};

const services = functionServices((cfg) => {
  // The Lambda runtime names the function it runs: the job's next step runs there.
  const self = process.env.AWS_LAMBDA_FUNCTION_NAME;
  if (!self) throw new Error('AWS_LAMBDA_FUNCTION_NAME is not set: this entry runs in Lambda only');
  return {
    delete: new DeleteService(metadataIndex(cfg), blobStore(cfg), { continueJob: invokeSelf(createLambdaClient(cfg), self) }),
  };
});

const http = dicomwebHandler('delete', operations, services);

/** API Gateway requests, and the continuations this function sends itself. */
export async function handler(event: unknown, context: Context): Promise<unknown> {
  if (isDeleteContinuationEvent(event)) {
    // A thrown error makes Lambda retry the invocation (twice); each step resumes where the last stopped.
    await services().delete.resume(event.deleteContinuation, { remainingMillis: () => context.getRemainingTimeInMillis() });
    return undefined;
  }
  return http(event as APIGatewayProxyEvent, context);
}
