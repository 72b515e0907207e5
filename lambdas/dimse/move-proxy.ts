/**
 * Proxy Option of the C-MOVE SCP (PS3.4 C.4.2.3.1.2, Sup 248): the C-MOVE becomes a Send transaction
 * (PS3.18 10.X) at a configured SEND-RS origin server (this archive or another), Check Send Result is
 * polled (lambdas/send/send-client.ts sendAndWait follows PS3.2 N.7.3.3.3.X2/X4), and each Send Request
 * Response Module becomes a C-MOVE response: Pending with the four counters, then the final Status
 * with the Failed SOP Instance UID List. The origin server keeps the counters (C.4.2.3.1.2.3).
 *
 * Mapping: the Move Destination AE Title -> the `url` of its AE registry entry (the Send destination);
 * the Query/Retrieve Level -> the resource (PATIENT and STUDY: /studies; SERIES: /series;
 * IMAGE: /instances); the Unique Keys -> search parameters (UID lists comma-separated).
 *
 * C-CANCEL-MOVE (Sup 248 open issue 14): DICOMweb Send has no cancel, so the proxy stops polling and
 * answers Cancel (FE00) at once with the last counters it received; the Send itself runs to its end
 * at the origin server (option 2 of the issue, as far as the origin server goes).
 */
import { authorizingFetch, clientCredentialsAuthorization, OAuth2TokenCache, type ClientCredentials } from '../auth/oauth2-client';
import { sendAndWait } from '../send/send-client';
import { keywordOf } from '../dicom/dictionary';
import type { SubOperationCounters } from '../send/counters';
import type { Destination } from '../send/destinations';
import { SendStatus } from '../send/response-module';
import type { MoveQuery } from './identifier';
import type { MoveResponse } from './move-response';
import { Status } from './status';

export interface MoveProxyConfig {
  /** Service root of the SEND-RS origin server, e.g. http://127.0.0.1:8080. */
  readonly origin: string;
  /** Bearer token for the origin server. */
  readonly token?: string;
  /** Or OAuth 2.0 client credentials (RFC 6749 4.4) to get tokens for it, refreshed as they expire. */
  readonly clientCredentials?: ClientCredentials;
  /** Tokens of clientCredentials; one cache for the process by default. */
  readonly tokens?: OAuth2TokenCache;
  /** Longest wait for the final Send result, in seconds. */
  readonly maxWaitSeconds: number;
  readonly fetch?: typeof fetch;
}

class Cancelled extends Error {}

const defaultTokenCache = new OAuth2TokenCache();

/** The fetch of the Send requests: with client credentials, one that adds and refreshes the token. */
function proxyFetch(config: MoveProxyConfig): typeof fetch | undefined {
  if (!config.clientCredentials) return config.fetch;
  const source = clientCredentialsAuthorization(config.clientCredentials, {
    cache: config.tokens ?? defaultTokenCache,
    ...(config.fetch ? { fetch: config.fetch } : {}),
  });
  return authorizingFetch(source, config.fetch);
}

const RESOURCE_OF: Readonly<Record<MoveQuery['queryLevel'], string>> = {
  PATIENT: '/studies',
  STUDY: '/studies',
  SERIES: '/series',
  IMAGE: '/instances',
};

export async function proxyMove(
  config: MoveProxyConfig,
  query: MoveQuery,
  destination: Destination,
  signal: AbortSignal,
  pending: (r: MoveResponse) => void,
): Promise<MoveResponse> {
  let last: SubOperationCounters | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(new Cancelled());
      const timer = setTimeout(done, ms);
      function done() {
        signal.removeEventListener('abort', abort);
        resolve();
      }
      function abort() {
        clearTimeout(timer);
        reject(new Cancelled());
      }
      signal.addEventListener('abort', abort, { once: true });
    });
  try {
    const outcome = await sendAndWait({
      origin: config.origin,
      resourcePath: RESOURCE_OF[query.queryLevel],
      destination: destination.url,
      search: query.parameters.matchKeys.map((k) => [keywordOf(k.tag) ?? k.tag, k.value] as const),
      token: config.token,
      maxWaitSeconds: config.maxWaitSeconds,
      fetch: proxyFetch(config),
      sleep,
      onProgress: (counters) => {
        last = counters;
        if (counters.remaining > 0) pending({ status: Status.Pending, counters });
      },
    });
    if (outcome.kind === 'completed') {
      const r = outcome.response;
      if (r.status === SendStatus.UnableToCalculateMatches)
        return { status: Status.UnableToCalculateMatches, comment: 'origin server could not count matches' };
      return {
        status: r.status,
        counters: { remaining: 0, completed: r.completed, failed: r.failed, warning: r.warning },
        ...(r.failedSOPInstanceUIDList?.length ? { failedSOPInstanceUIDs: r.failedSOPInstanceUIDList } : {}),
      };
    }
    // The origin server refused the Send or never finished in time: no sub-operation is known to be done.
    return {
      status: Status.UnableToPerformSubOperations,
      counters: last ?? { remaining: 0, completed: 0, failed: 0, warning: 0 },
      comment: outcome.kind === 'failed' ? 'the Send origin server refused the request' : 'the Send did not finish in time',
    };
  } catch (error) {
    if (error instanceof Cancelled)
      return { status: Status.Cancel, counters: last ?? { remaining: 0, completed: 0, failed: 0, warning: 0 } };
    throw error;
  }
}
