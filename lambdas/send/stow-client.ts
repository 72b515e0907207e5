/**
 * DICOMweb Store sub-operations of a Send request: one Store Instances request (PS3.18 10.5,
 * multipart/related; type="application/dicom") per batch, as a user agent, and the per-instance
 * outcome counted as PS3.4 C.4.2.3.1.1.4 asks from the destination's Store Instances Response Module.
 * Redirects are not followed (a 3xx fails the batch): the allow-list vets the URL we send to, not
 * wherever a destination points next. Transient faults are retried per ./retry; warnings never are.
 */

import { Tag } from '../dicom/tags';
import { MediaType } from '../dicomweb/messages';
import type { DicomJson } from '../dicom/json';
import { basicAuthorization, OAuth2TokenCache, TokenRequestError } from '../auth/oauth2-client';
import type { BatchOutcome } from './counters';
import { storeRequestBody, type InstanceToStore } from './store-request-body';
import { streamingFetch } from './streaming-fetch';
import { resolveNpiStoreUrl, resolveStudiesUrl, type Destination, type DestinationAuth } from './destinations';
import {
  DEFAULT_RETRY_POLICY,
  faultName,
  isTransientFault,
  isTransientHttpStatus,
  parseRetryAfter,
  retrying,
  type Attempt,
  type RetryDeps,
  type RetryPolicy,
} from './retry';

/** The OAuth 2.0 client of `oauth2` destinations is the archive's one (lambdas/auth/oauth2-client.ts). */
export { OAuth2TokenCache, TokenRequestError };
export {
  STORE_CLOSE_OVERHEAD_BYTES,
  STORE_PART_OVERHEAD_BYTES,
  StoredObjectMissingError,
  StoredObjectSizeError,
  type InstanceToStore,
  type StoredFile,
} from './store-request-body';

/** Where the instances go at the destination: the Studies Service, or an NPI category (PS3.18 12.5). */
export interface StowResource {
  readonly npi?: string;
}

export interface StoreOptions extends RetryDeps {
  readonly fetch?: typeof fetch;
  readonly retry?: RetryPolicy;
  /** Time limit of one attempt (request and response), ms. */
  readonly timeoutMs?: number;
  /** OAuth 2.0 tokens, shared across calls so a warm Lambda reuses them. */
  readonly tokens?: OAuth2TokenCache;
  readonly now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/**
 * Slowest transfer a streamed instance is given time for: its attempt's time limit grows by its size
 * at this rate (a 1 GB instance: 60 s + 205 s), within the Deliver function's 900 s.
 */
const MIN_STREAMED_BYTES_PER_SECOND = 5 * 1024 * 1024;
/** A response module larger than this is not read; the batch is counted by HTTP status. */
const MAX_RESPONSE_MODULE_BYTES = 16 * 1024 * 1024;

/** What one attempt ended with. */
type AttemptResult =
  | { readonly kind: 'response'; readonly httpStatus: number; readonly module?: DicomJson }
  | { readonly kind: 'fault'; readonly fault: string };

/**
 * Stores one batch of instances at the destination (PS3.18 10.5.1: POST {destination}/studies, or for
 * Non-Patient Instances PS3.18 12.5: POST {destination}/{npi-name}) and
 * classifies every instance of the batch as completed, warning or failed. Never throws for what the
 * destination does: an unreachable destination fails the batch once the retries are used up.
 */
export async function storeInstances(
  destination: Destination,
  instances: readonly InstanceToStore[],
  opts: StoreOptions = {},
  resource: StowResource = {},
): Promise<BatchOutcome> {
  if (instances.length === 0) throw new RangeError('a Store sub-operation batch cannot be empty');
  if (instances.length > 1 && instances.some((i) => i.file)) return storeSeparately(destination, instances, opts, resource);
  const outcome = await storeRequest(destination, instances, opts, resource);
  if (!isTooLarge(outcome) || instances.length === 1) return outcome;
  // RFC 9110 15.5.14: 413 refuses the request, not its instances. A destination behind a gateway
  // (API Gateway, a Lambda integration's 6 MB after base64) takes fewer bytes per request than the
  // batch holds: the halves go again, down to one instance, which alone fails with the 413 as basis.
  const half = Math.ceil(instances.length / 2);
  const parts = [
    await storeInstances(destination, instances.slice(0, half), opts, resource),
    await storeInstances(destination, instances.slice(half), opts, resource),
  ];
  return {
    completed: parts.flatMap((p) => p.completed),
    warning: parts.flatMap((p) => p.warning),
    failed: parts.flatMap((p) => p.failed),
    basis: { kind: 'split', httpStatus: 413, parts: parts.map((p) => p.basis) },
  };
}

/**
 * A streamed instance goes out alone, its request's body read from storage as it is sent; those held
 * whole go together, as one batch.
 */
async function storeSeparately(
  destination: Destination,
  instances: readonly InstanceToStore[],
  opts: StoreOptions,
  resource: StowResource,
): Promise<BatchOutcome> {
  const whole = instances.filter((i) => !i.file);
  const requests = [...(whole.length > 0 ? [whole] : []), ...instances.filter((i) => i.file).map((i) => [i])];
  const parts: BatchOutcome[] = [];
  for (const batch of requests) parts.push(await storeInstances(destination, batch, opts, resource));
  return {
    completed: parts.flatMap((p) => p.completed),
    warning: parts.flatMap((p) => p.warning),
    failed: parts.flatMap((p) => p.failed),
    basis: { kind: 'separate', parts: parts.map((p) => p.basis) },
  };
}

function isTooLarge(outcome: BatchOutcome): boolean {
  const { basis } = outcome;
  return (basis.kind === 'http-status' || basis.kind === 'response-module') && basis.httpStatus === 413;
}

/** One Store request for the whole of `instances`, retried on transient faults. */
async function storeRequest(
  destination: Destination,
  instances: readonly InstanceToStore[],
  opts: StoreOptions,
  resource: StowResource,
): Promise<BatchOutcome> {
  const fetchImpl = opts.fetch ?? fetch;
  const tokens = opts.tokens ?? defaultTokenCache;
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const url = resource.npi ? resolveNpiStoreUrl(destination.url, resource.npi) : resolveStudiesUrl(destination.url);
  const request = await storeRequestBody(instances);
  const requestTimeoutMs = timeoutMs + Math.ceil(((request.contentLength ?? 0) * 1000) / MIN_STREAMED_BYTES_PER_SECOND);
  let tokenRefreshed = false;

  const attempt = async (): Promise<Attempt<AttemptResult>> => {
    let response: Response;
    try {
      const auth = await authorization(destination.auth, tokens, fetchImpl, timeoutMs, now);
      const body = await request.open();
      const length = String(body instanceof Uint8Array ? body.byteLength : request.contentLength);
      // Through node:http: fetch would keep a stream's chunks and copy a buffered body (./streaming-fetch.ts).
      const send = opts.fetch ?? streamingFetch;
      response = await send(url, {
        method: 'POST',
        headers: { 'Content-Type': request.contentType, Accept: MediaType.DicomJson, 'Content-Length': length, ...auth },
        body,
        // A stream body (RFC 9110 8.6: its Content-Length given, so it is not chunked) needs half duplex.
        ...(request.contentLength === undefined ? {} : { duplex: 'half' }),
        redirect: 'manual',
        signal: AbortSignal.timeout(requestTimeoutMs),
      } as RequestInit);
    } catch (err) {
      if (err instanceof TokenRequestError)
        return { result: { kind: 'fault', fault: err.fault }, transient: err.transient ? {} : undefined };
      return { result: { kind: 'fault', fault: faultName(err) }, transient: isTransientFault(err) ? {} : undefined };
    }
    const httpStatus = response.type === 'opaqueredirect' ? 302 : response.status;
    // An expired or revoked OAuth 2.0 token: fetch a new one, once.
    if (httpStatus === 401 && destination.auth.type === 'oauth2' && !tokenRefreshed) {
      tokenRefreshed = true;
      tokens.invalidate(destination.auth);
      await discard(response);
      return { result: { kind: 'response', httpStatus }, transient: { retryAfterMs: 0 } };
    }
    if (isTransientHttpStatus(httpStatus)) {
      await discard(response);
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
      return { result: { kind: 'response', httpStatus }, transient: { retryAfterMs } };
    }
    return { result: { kind: 'response', httpStatus, module: await readResponseModule(response) } };
  };

  const { result, attempts } = await retrying(attempt, opts.retry ?? DEFAULT_RETRY_POLICY, opts);
  return classify(
    instances.map((i) => i.sopInstanceUID),
    result,
    attempts,
  );
}

/**
 * PS3.4 C.4.2.3.1.1.4: Referenced SOP Sequence items without Warning Reason are Completed, with one
 * Warning; Failed SOP Sequence items are Failed. Without a usable module (and for instances it does
 * not mention) the HTTP status decides (PS3.18 10.5.3): 200 stored, 202 stored with warnings (the
 * origin cannot tell which), anything else (3xx, 4xx incl. 409, 5xx after retries) not stored.
 */
function classify(uids: readonly string[], result: AttemptResult, attempts: number): BatchOutcome {
  const outcome = { completed: [] as string[], warning: [] as string[], failed: [] as string[] };
  if (result.kind === 'fault') {
    return { ...outcome, failed: [...uids], basis: { kind: 'transport', fault: result.fault, attempts } };
  }
  const { httpStatus, module } = result;
  const byStatus: keyof typeof outcome = httpStatus === 202 ? 'warning' : httpStatus >= 200 && httpStatus < 300 ? 'completed' : 'failed';
  const perInstance = module ? instanceOutcomes(module) : new Map<string, keyof typeof outcome>();
  for (const uid of uids) outcome[perInstance.get(uid) ?? byStatus].push(uid);
  const kind = module ? 'response-module' : 'http-status';
  return { ...outcome, basis: { kind, httpStatus, attempts } };
}

/** SOP Instance UID -> category from a Store Instances Response Module; Failed wins over Referenced. */
function instanceOutcomes(module: DicomJson): Map<string, 'completed' | 'warning' | 'failed'> {
  const result = new Map<string, 'completed' | 'warning' | 'failed'>();
  for (const item of sequenceItems(module, Tag.ReferencedSOPSequence)) {
    const uid = firstString(item, Tag.ReferencedSOPInstanceUID);
    if (uid) result.set(uid, item[Tag.WarningReason]?.Value?.length ? 'warning' : 'completed');
  }
  for (const item of sequenceItems(module, Tag.FailedSOPSequence)) {
    const uid = firstString(item, Tag.ReferencedSOPInstanceUID);
    if (uid) result.set(uid, 'failed');
  }
  return result;
}

function sequenceItems(ds: DicomJson, tag: string): DicomJson[] {
  const value = ds[tag]?.Value;
  return Array.isArray(value) ? value.filter((v): v is DicomJson => typeof v === 'object' && v !== null) : [];
}

function firstString(ds: DicomJson, tag: string): string | undefined {
  const v = ds[tag]?.Value?.[0];
  return typeof v === 'string' ? v : undefined;
}

/** The response's Store Instances Response Module in DICOM JSON, or undefined when none is usable. */
async function readResponseModule(response: Response): Promise<DicomJson | undefined> {
  const type = response.headers.get('content-type') ?? '';
  const length = Number(response.headers.get('content-length') ?? 0);
  if (!/json/i.test(type) || length > MAX_RESPONSE_MODULE_BYTES) {
    await discard(response);
    return undefined;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(await response.text());
  } catch {
    return undefined;
  }
  // PS3.18 F.2: one data set; some servers wrap it in an array.
  const module = Array.isArray(payload) && payload.length === 1 ? payload[0] : payload;
  if (typeof module !== 'object' || module === null || Array.isArray(module)) return undefined;
  const ds = module as DicomJson;
  return ds[Tag.ReferencedSOPSequence] || ds[Tag.FailedSOPSequence] ? ds : undefined;
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // the connection is gone already; nothing to release
  }
}

/** Authorization header of a destination's auth entry. */
async function authorization(
  auth: DestinationAuth,
  tokens: OAuth2TokenCache,
  fetchImpl: typeof fetch,
  timeoutMs: number,
  now: () => number,
): Promise<Record<string, string>> {
  switch (auth.type) {
    case 'none':
      return {};
    case 'bearer':
      return { Authorization: `Bearer ${auth.token}` };
    case 'basic':
      return { Authorization: basicAuthorization(auth.username, auth.password) };
    case 'oauth2':
      return { Authorization: `Bearer ${await tokens.token(auth, { fetch: fetchImpl, timeoutMs, now })}` };
  }
}

/** Shared by every call in this process unless a caller passes its own. */
const defaultTokenCache = new OAuth2TokenCache();
