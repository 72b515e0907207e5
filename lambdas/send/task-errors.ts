/**
 * The errors the Send state machine's Tasks hand to Step Functions. A throttled or unavailable storage
 * call (S3 SlowDown or 5xx, DynamoDB ProvisionedThroughputExceededException or RequestLimitExceeded,
 * Secrets Manager ThrottlingException, a timeout: what the adapters raise as StorageUnavailableError of lambdas/storage/errors.ts)
 * surfaces under one error name, which every Task's Retry rule retries with backoff and jitter
 * (lib/send-workflow.ts). Step Functions matches ErrorEquals against the Lambda error type, which the
 * Node.js runtime takes from `error.name` (Step Functions guide, "Handling errors in Step Functions
 * workflows").
 */
import { ServiceUnavailableError } from '../dicomweb/errors';
import { StorageUnavailableError } from '../storage/errors';

/** The States error name of a transient storage fault, retried by the workflow. */
export const STORAGE_UNAVAILABLE = 'Send.StorageUnavailable';

/** A Task's transient storage fault, named STORAGE_UNAVAILABLE for the workflow's Retry rule. */
export class RetryableStorageFault extends Error {
  override readonly name = STORAGE_UNAVAILABLE;
}

/**
 * Runs a Task's work, turning a transient storage fault into RetryableStorageFault; every other
 * error passes through unchanged (the workflow's Catch then ends the request).
 */
export async function retryableOnStorageFaults<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof StorageUnavailableError || error instanceof ServiceUnavailableError) {
      throw new RetryableStorageFault(error.message, { cause: error });
    }
    throw error;
  }
}
