/**
 * Errors of the storage layer. Adapters raise these, never the HTTP errors of the services: the one
 * error mapping (lambdas/http/middleware.ts) turns StorageUnavailableError into 503 with
 * Retry-After and InvalidKeySegmentError into 400; services that react to a storage fault (the Send
 * workflow's Tasks, the DIMSE C-STORE handler) test for these classes.
 */

/** The seconds a client is asked to wait when a backing service cannot answer (Retry-After). */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * A backing service (S3, DynamoDB, Step Functions, Secrets Manager) throttled the call, failed
 * transiently or could not be reached after the SDK's own retries: the same request may succeed later.
 */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number = DEFAULT_RETRY_AFTER_SECONDS,
  ) {
    super(message);
  }
}

/**
 * A value cannot name an object: empty, or holding '/' or '..', which would address an object
 * outside its own prefix. Callers validate UIDs first (PS3.5 9.1), so this is defence in depth.
 */
export class InvalidKeySegmentError extends Error {
  override readonly name = 'InvalidKeySegmentError';
}

/**
 * The record a write would create already exists with other content (e.g. a Step Functions
 * execution of the same name started for another destination).
 */
export class AlreadyExistsError extends Error {
  override readonly name = 'AlreadyExistsError';
}

/** The object an operation reads from (a copy's source) does not exist. */
export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
}
