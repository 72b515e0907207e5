/**
 * The SEND-RS user agent (Supplement 248 10.X Send, 10.Y Check Send Result): asks an origin server to
 * send the instances of a resource to a destination, then polls until the send request is final.
 * Its behaviour per status code is that of PS3.2 Tables N.7.3.3.3.X2-1 and N.7.3.3.3.X4-1.
 * Pure logic: fetch, sleep and the clock are injected. Shared by the CLI (lib/cli/send.ts, which
 * prints it with lib/cli/send-output.ts), the smoke test and the DIMSE gateway's C-MOVE proxy.
 */

import { TokenRequestError } from '../auth/oauth2-client';
import { isValidUid, newUid } from '../dicom/uid';
import type { StatusReportDetail } from '../dicomweb/errors';
import type { StatusReport } from '../dicomweb/messages';
import type { SubOperationCounters } from './counters';
import {
  countersOf,
  decodeSendRequestResponse,
  isPending,
  matchedOf,
  MalformedSendResponseError,
  SendStatus,
  type SendRequestResponse,
} from './response-module';
import { faultName, isTransientFault, parseRetryAfter } from './retry';

/** A request the user made that cannot be turned into a Send transaction (bad option, bad UID). */
export class SendUsageError extends Error {}

/** The two transactions of Supplement 248, named as in PS3.2 N.7.3.3.3. */
export type SendTransaction = 'Send' | 'CheckSendResult';

/** How often the user agent tries again before it reports the failure. */
export const SendClientLimits = {
  /** N.7.3.3.3.X2: 409 on Send, retry with another Transaction UID. */
  conflictRetries: 3,
  /** N.7.3.3.3.X4: 404 / 410 on Check Send Result, start all over with a Send request. */
  restarts: 1,
  /** 10.X.3.1 / 10.Y.3.1 Note 4: 503 (and transient network faults), retry later. */
  unavailableRetries: 3,
  /** Wait before the next Check Send Result when the origin server sends no Retry-After. */
  defaultPollDelayMs: 2_000,
} as const;

// ---------------------------------------------------------------------------------------------
// Target URI (Sup 248 10.X.1, Table 10.X.1-1)

export type SendLevel = 'studies' | 'series' | 'instances';
export const SEND_LEVELS: readonly SendLevel[] = ['studies', 'series', 'instances'];

export interface SendTarget {
  readonly studyInstanceUID?: string;
  readonly seriesInstanceUID?: string;
  /** Level of the search; defaults to the only (or widest) level the UIDs allow. */
  readonly level?: SendLevel;
}

/**
 * The {resource} of Table 10.X.1-1 for a study / series / level choice:
 *   (none)                       -> /studies, /series or /instances (by level, default studies)
 *   study                        -> /studies/{study}/series (default) or /studies/{study}/instances
 *   study + series               -> /studies/{study}/series/{series}/instances
 */
export function sendResourcePath(target: SendTarget): string {
  const { studyInstanceUID: study, seriesInstanceUID: series, level } = target;
  if (study !== undefined && !isValidUid(study)) throw new SendUsageError('--study is not a valid UID (PS3.5 9.1)');
  if (series !== undefined && !isValidUid(series)) throw new SendUsageError('--series is not a valid UID (PS3.5 9.1)');
  if (series !== undefined) {
    if (study === undefined) throw new SendUsageError('--series needs --study (Table 10.X.1-1 has no series resource without its study)');
    if (level !== undefined && level !== 'instances') throw new SendUsageError("with --series the level can only be 'instances'");
    return `/studies/${study}/series/${series}/instances`;
  }
  if (study !== undefined) {
    if (level === 'studies') throw new SendUsageError("with --study the level is 'series' (the whole study) or 'instances'");
    return `/studies/${study}/${level ?? 'series'}`;
  }
  return `/${level ?? 'studies'}`;
}

export interface SendQuery {
  /** Absolute URL of the destination's Studies service (10.X.1 destination). */
  readonly destination: string;
  /** Search parameters of 8.3.4 (attribute=value pairs), in order. */
  readonly search: readonly (readonly [string, string])[];
}

/**
 * The Target URI `{origin}{resource}/send-requests/{transactionUID}`, with `?destination=...&search`
 * for Send (10.X.1) and without a query for Check Send Result (10.Y.1.2: no query parameters).
 * Values are percent-encoded (RFC 3986), not form-encoded.
 */
export function buildSendUrl(origin: string, resourcePath: string, transactionUID: string, query?: SendQuery): string {
  if (!isHttpUrl(origin)) throw new SendUsageError('--origin must be an absolute http(s) URL');
  if (!isValidUid(transactionUID)) throw new SendUsageError('the Transaction UID is not a valid UID (PS3.5 9.1)');
  const base = `${origin.replace(/\/+$/, '')}${resourcePath}/send-requests/${transactionUID}`;
  if (query === undefined) return base;
  if (!isHttpUrl(query.destination)) throw new SendUsageError('--destination must be an absolute http(s) URL (10.X.1)');
  const pairs: (readonly [string, string])[] = [['destination', query.destination], ...query.search];
  return `${base}?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
}

/** Parses `--query Keyword=value` (8.3.4 attribute/value pair); `destination` is reserved. */
export function parseSearchPair(raw: string): [string, string] {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new SendUsageError(`--query expects attribute=value, got '${raw}'`);
  const key = raw.slice(0, eq);
  if (key === 'destination') throw new SendUsageError('use --destination, not --query destination=...');
  return [key, raw.slice(eq + 1)];
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}

// ---------------------------------------------------------------------------------------------
// The transactions

export interface SendOptions {
  readonly origin: string;
  readonly resourcePath: string;
  readonly destination: string;
  readonly search: readonly (readonly [string, string])[];
  /** Transaction UID of the first Send; a new one (PS3.5 B.2) when absent. */
  readonly transactionUID?: string;
  /** Bearer token for the origin server. */
  readonly token?: string;
  /** Overall bound on waiting for the final result, in seconds. */
  readonly maxWaitSeconds: number;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /** Called with the counters of every Send Request Response Module received. */
  readonly onProgress?: (counters: SubOperationCounters, matched: number) => void;
  /** Called when the user agent changes course (new Transaction UID, start over, retry later). */
  readonly onNotice?: (message: string) => void;
}

/** The failure payload (8.6.3 Status Report) as far as it could be read. */
export type RemoteStatusReport = Partial<Pick<StatusReport, 'title' | 'detail' | 'errors'>>;

export type SendOutcome =
  /** A final Send Request Response Module was received (200). */
  | { readonly kind: 'completed'; readonly transactionUID: string; readonly response: SendRequestResponse }
  /** The request failed (per the tables, "report the failure"). */
  | {
      readonly kind: 'failed';
      readonly transactionUID: string;
      readonly transaction: SendTransaction;
      readonly httpStatus?: number;
      readonly reason: string;
      readonly statusReport?: RemoteStatusReport;
    }
  /** --max-wait elapsed while the send request was still pending; it may still finish. */
  | { readonly kind: 'timed-out'; readonly transactionUID: string; readonly checkUrl: string; readonly last?: SendRequestResponse };

/**
 * Sends (10.X) and checks the result (10.Y) until it is final, following PS3.2 N.7.3.3.3.X2 / X4:
 * 200 completes; 202 polls after Retry-After; 409 on Send retries with another Transaction UID;
 * 404 / 410 on Check Send Result starts over once; 503 retries later a bounded number of times;
 * any other code is reported.
 */
export async function sendAndWait(opts: SendOptions): Promise<SendOutcome> {
  const doFetch = opts.fetch ?? fetch;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const notice = opts.onNotice ?? (() => {});
  const deadline = now() + opts.maxWaitSeconds * 1000;
  const headers: Record<string, string> = { Accept: 'application/dicom+json' };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;

  let transactionUID = opts.transactionUID ?? newUid();
  let transaction: SendTransaction = 'Send';
  let conflicts = 0;
  let restarts = 0;
  let unavailable = 0;
  /** A Send with this UID may have reached the origin server although no answer said so. */
  let sentUnanswered = false;
  let last: SendRequestResponse | undefined;

  const checkUrl = () => buildSendUrl(opts.origin, opts.resourcePath, transactionUID);
  const query = { destination: opts.destination, search: opts.search };
  const failed = (reason: string, more: { httpStatus?: number; statusReport?: RemoteStatusReport } = {}): SendOutcome => ({
    kind: 'failed',
    transactionUID,
    transaction,
    reason,
    ...more,
  });
  /** Waits up to `ms` within the deadline; false when the deadline has passed. */
  const waitWithinDeadline = async (ms: number): Promise<boolean> => {
    const left = deadline - now();
    if (left <= 0) return false;
    await sleep(Math.min(ms, left));
    return true;
  };
  const newTransaction = (why: string) => {
    transactionUID = newUid();
    transaction = 'Send';
    sentUnanswered = false;
    unavailable = 0;
    notice(`${why}; sending again with Transaction UID ${transactionUID}`);
  };

  // Build the first URL up front so that a usage error surfaces before any request.
  buildSendUrl(opts.origin, opts.resourcePath, transactionUID, query);

  for (;;) {
    const isSend = transaction === 'Send';
    let res: Response;
    try {
      res = await doFetch(isSend ? buildSendUrl(opts.origin, opts.resourcePath, transactionUID, query) : checkUrl(), {
        method: isSend ? 'POST' : 'GET',
        headers,
        // A redirect is reported, not followed: the token is for the origin server only.
        redirect: 'manual',
      });
    } catch (err) {
      // A fetch with client credentials (lambdas/auth/oauth2-client.ts) fails before any request.
      const tokenFailed = err instanceof TokenRequestError;
      const reason = tokenFailed ? err.message : `the origin server could not be reached (${faultName(err)})`;
      if (!(tokenFailed ? err.transient : isTransientFault(err))) return failed(reason);
      if (isSend && !tokenFailed) sentUnanswered = true;
      if (unavailable >= SendClientLimits.unavailableRetries) return failed(reason);
      unavailable++;
      notice(`${reason}; retrying`);
      if (!(await waitWithinDeadline(SendClientLimits.defaultPollDelayMs))) return timedOut();
      continue;
    }
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now());
    const body = await res.text();

    switch (res.status) {
      case 200: {
        // 10.X.3.1 / 10.Y.3.1: finished; the payload is the final Send Request Response Module.
        const response = decodeModule(body);
        if (response instanceof MalformedSendResponseError) {
          return failed(`the origin server answered 200 without a valid Send Request Response Module (${response.message})`, {
            httpStatus: 200,
          });
        }
        if (isPending(response)) return failed('the origin server answered 200 with a Pending status', { httpStatus: 200 });
        opts.onProgress?.(countersOf(response), matchedOf(response));
        return { kind: 'completed', transactionUID, response };
      }
      case 202: {
        // Accepted, not finished: query later (Check Send Result), after Retry-After.
        const response = decodeModule(body);
        if (!(response instanceof MalformedSendResponseError)) {
          last = response;
          opts.onProgress?.(countersOf(response), matchedOf(response));
        }
        transaction = 'CheckSendResult';
        unavailable = 0;
        if (!(await waitWithinDeadline(retryAfterMs ?? SendClientLimits.defaultPollDelayMs))) return timedOut();
        continue;
      }
      case 409:
        if (isSend) {
          if (sentUnanswered) {
            // Our own earlier Send with this UID (answered 503 or lost) was accepted after all:
            // sending again under a new UID would send everything twice.
            transaction = 'CheckSendResult';
            notice(`Transaction UID ${transactionUID} is in use by the earlier attempt; checking its result`);
            continue;
          }
          if (conflicts < SendClientLimits.conflictRetries) {
            conflicts++;
            newTransaction(`Transaction UID ${transactionUID} is already in use (409)`);
            continue;
          }
        }
        break;
      case 404:
      case 410:
        if (!isSend && restarts < SendClientLimits.restarts) {
          restarts++;
          newTransaction(`the origin server ${res.status === 404 ? 'cannot find' : 'no longer has'} the send request (${res.status})`);
          continue;
        }
        break;
      case 503:
        if (isSend) sentUnanswered = true;
        if (unavailable < SendClientLimits.unavailableRetries) {
          unavailable++;
          notice(`the origin server is unavailable (503); retrying (${unavailable}/${SendClientLimits.unavailableRetries})`);
          if (!(await waitWithinDeadline(retryAfterMs ?? SendClientLimits.defaultPollDelayMs))) return timedOut();
          continue;
        }
        break;
    }
    // 400 and any other code: report the failure.
    const statusReport = readStatusReport(body);
    const redirect = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
    return failed(
      `the origin server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${redirect ? ` (redirect to ${redirect}, not followed)` : ''}`,
      { httpStatus: res.status, ...(statusReport ? { statusReport } : {}) },
    );
  }

  function timedOut(): SendOutcome {
    return { kind: 'timed-out', transactionUID, checkUrl: checkUrl(), ...(last ? { last } : {}) };
  }
}

function decodeModule(body: string): SendRequestResponse | MalformedSendResponseError {
  try {
    return decodeSendRequestResponse(JSON.parse(body));
  } catch (err) {
    return err instanceof MalformedSendResponseError ? err : new MalformedSendResponseError('the payload is not JSON');
  }
}

/** Reads a Status Report (8.6.3) leniently: any of title, detail and errors that are well formed. */
export function readStatusReport(body: string): RemoteStatusReport | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { title, detail, errors } = parsed as Record<string, unknown>;
  const details = Array.isArray(errors)
    ? errors.filter(
        (e): e is StatusReportDetail => typeof e === 'object' && e !== null && typeof (e as StatusReportDetail).message === 'string',
      )
    : [];
  const report: RemoteStatusReport = {
    ...(typeof title === 'string' ? { title } : {}),
    ...(typeof detail === 'string' ? { detail } : {}),
    ...(details.length ? { errors: details } : {}),
  };
  return Object.keys(report).length ? report : undefined;
}

export type StatusCategory = 'success' | 'warning' | 'failure';

/** Category of a final Status (0000,0900), per PS3.7 C.1-C.4 and the C-MOVE statuses of PS3.4 C.4.2.1.5. */
export function statusCategory(status: number): StatusCategory {
  if (status === SendStatus.Success) return 'success';
  // PS3.7 C.3: Warning is 0001, Bxxx, 0107 or 0116.
  if (status === 0x0001 || status === 0x0107 || status === 0x0116 || (status & 0xf000) === 0xb000) return 'warning';
  return 'failure';
}

/** The Status with its meaning, e.g. "B000 Warning: some sub-operations failed or warned". */
export function describeStatus(status: number): string {
  const hex = status.toString(16).toUpperCase().padStart(4, '0');
  if (status === SendStatus.Success) return `${hex} Success: all sub-operations completed`;
  if (status === SendStatus.Warning) return `${hex} Warning: some sub-operations failed or warned`;
  if (status === SendStatus.UnableToCalculateMatches) return `${hex} Failure: unable to calculate the number of matches`;
  if (status === SendStatus.UnableToPerformSubOperations) return `${hex} Failure: unable to perform sub-operations (all failed)`;
  if ((status & 0xff00) === 0xa700) return `${hex} Failure: out of resources`;
  if ((status & 0xff00) === 0xa900) return `${hex} Failure: identifier does not match SOP Class`;
  if ((status & 0xf000) === 0xc000) return `${hex} Failure: unable to process`;
  return statusCategory(status) === 'warning' ? `${hex} Warning` : `${hex} Failure`;
}
