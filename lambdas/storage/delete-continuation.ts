/**
 * Hands an unfinished Delete job (lambdas/dicomweb/delete.ts) to a new invocation of the delete
 * function itself: an asynchronous invocation (InvocationType 'Event', Lambda Developer Guide,
 * "Invoking a Lambda function asynchronously"), which Lambda queues and retries twice on error, each
 * with a fresh timeout. The function needs lambda:InvokeFunction on its own ARN (lib/constructs/api.ts).
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Config } from '../config';
import { callAws, clientOptions } from './aws-calls';
import type { DeleteJob } from './ports';

/** The event of a continuation, beside the API Gateway events the function also takes. */
export interface DeleteContinuationEvent {
  readonly deleteContinuation: Omit<DeleteJob, 'startedAt'>;
}

export function isDeleteContinuationEvent(event: unknown): event is DeleteContinuationEvent {
  const job = (event as Partial<DeleteContinuationEvent> | null)?.deleteContinuation;
  return (
    typeof job === 'object' && job !== null && (job.level === 'STUDY' || job.level === 'SERIES') && typeof job.studyInstanceUID === 'string'
  );
}

export function createLambdaClient(config: Pick<Config, 'region'>): LambdaClient {
  return new LambdaClient(clientOptions(config, undefined));
}

/** continueJob of the DeleteService in a Lambda function: `functionName` is the function's own. */
export function invokeSelf(client: LambdaClient, functionName: string): (job: Omit<DeleteJob, 'startedAt'>) => Promise<void> {
  return async (job) => {
    const event: DeleteContinuationEvent = { deleteContinuation: job };
    await callAws('Lambda', () =>
      client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) })),
    );
  };
}
