/**
 * What every AWS adapter shares: client options for AWS or the embedded emulators, and the mapping of
 * throttling / unavailability to StorageUnavailableError. No SDK import here, so an adapter that imports this
 * module loads only its own SDK client.
 */
import type { Config } from '../config';
import { StorageUnavailableError } from './errors';

/** The emulators accept any signature; real AWS never sees these (they are set only with an endpoint). */
const EMULATOR_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/**
 * The clients' logger: silent, and without `info`. After a call the SDK evaluates
 * `logger?.info?.({ input: filter(input), output: filter(output) })` when the logger has `info`, and the
 * filter (schemaLogFilter) walks every value of the request and the answer to redact it: about 5 % of
 * a search's CPU, every AttributeValue of a Query's page walked. Stated here rather than left to the
 * SDK's default logger, so that no release of it brings the walk back. Nothing is logged either way,
 * which also keeps patient data (query values, keys) out of the logs.
 */
export const SILENT_SDK_LOGGER = {
  trace() {},
  debug() {},
  warn() {},
  error() {},
} as unknown as {
  debug(...content: unknown[]): void;
  info(...content: unknown[]): void;
  warn(...content: unknown[]): void;
  error(...content: unknown[]): void;
};

/** Region, the silent logger, and the emulator endpoint with its credentials when one is configured (embedded runtime). */
export function clientOptions(config: Pick<Config, 'region'>, endpoint: string | undefined) {
  return { region: config.region, logger: SILENT_SDK_LOGGER, ...(endpoint && { endpoint, credentials: EMULATOR_CREDENTIALS }) };
}

/** HTTP statuses of AWS answers that mean "the service cannot answer now", not "your request is wrong". */
const UNAVAILABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

/** Socket-level failures: the service could not be reached at all (after the SDK's retries). */
const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Throttling, a transient service fault or an unreachable service that outlived the SDK's own retries. */
export function isServiceUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    name?: string;
    code?: string;
    $retryable?: { throttling?: boolean };
    $metadata?: { httpStatusCode?: number };
  };
  if (e.$retryable?.throttling) return true;
  if ((e.code && NETWORK_ERROR_CODES.has(e.code)) || e.name === 'TimeoutError') return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && UNAVAILABLE_STATUSES.has(status);
}

/**
 * The generic throttling error of AWS JSON services (Step Functions, Secrets Manager): HTTP 400, not
 * modelled as a class and without the $retryable trait, so only its wire name identifies it.
 */
export function isThrottlingException(error: unknown): boolean {
  return error instanceof Error && '$metadata' in error && error.name === 'ThrottlingException';
}

/**
 * Runs one SDK call, turning throttling / unavailability into StorageUnavailableError (503 with
 * Retry-After in the HTTP layer); every other error passes through unchanged. `alsoUnavailable` adds
 * service-specific error classes the status code alone does not reveal (e.g. DynamoDB's 400
 * ProvisionedThroughputExceededException).
 */
export async function callAws<T>(
  service: string,
  call: () => Promise<T>,
  alsoUnavailable: (error: unknown) => boolean = () => false,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isServiceUnavailable(error) || alsoUnavailable(error)) {
      throw new StorageUnavailableError(`${service} is unavailable, retry later`);
    }
    throw error;
  }
}
