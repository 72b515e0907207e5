/**
 * Send and Check Send Result transactions (DICOM Supplement 248, PS3.18 10.X and 10.Y).
 *
 * Send validates everything before anything is sent (Accept, payload, Transaction UID, resource UIDs,
 * destination against the registry, search keys), records the request with a conditional put
 * (409 when the Transaction UID is in use), starts the workflow, waits a short bounded time and
 * answers 200 with the final Send Request Response Module or 202 with the counters so far.
 * Check Send Result answers from the recorded counters, which the workflow's tasks keep.
 */
import { parseTransactionUID } from '../send/transaction-uid';
import { resolveDestination, type DestinationRegistrySource } from '../send/destinations';
import { encodeSendRequestResponse, SendStatus } from '../send/response-module';
import type { SendOutcomes } from '../send/outcomes';
import { failedOutcome, sendResponseOf, tooLargeComment } from '../send/send-response';
import type { SendRequestRecord, SendRequestStore, SendTarget, SendWorkflow } from '../storage/ports';
import { negotiateMetadata } from './accept';
import { BadRequestError, ConflictError, GoneError, NotFoundError, ServiceUnavailableError } from './errors';
import { StorageUnavailableError } from '../storage/errors';
import { requireNpiCategory } from './npi-categories';
import { parseNpiSearchParameters } from './npi';
import { parseSearchParameters, type SearchParameters } from './query-params';
import { isValidUid } from '../dicom/uid';

export interface SendOptions {
  /** How long Send waits for the workflow before answering 202, ms. */
  readonly waitMs: number;
  readonly retryAfterSeconds: number;
  readonly resultTtlSeconds: number;
  readonly tombstoneTtlSeconds: number;
  /** Interval of the bounded wait's polls, ms. */
  readonly pollIntervalMs?: number;
}

export interface SendRequest {
  readonly target: SendTarget;
  /** The {transactionUID} path segment as received. */
  readonly transactionUID: string | undefined;
  readonly query: ReadonlyMap<string, readonly string[]>;
  readonly accept: string | undefined;
  /**
   * The request payload; only its size matters, as a Send request has none (a streamed body of unknown
   * size is never empty: lambdas/dicomweb/messages.ts RequestBody).
   */
  readonly body: { readonly byteLength: number | undefined };
}

export interface CheckSendResultRequest {
  readonly target: SendTarget;
  readonly transactionUID: string | undefined;
  readonly accept: string | undefined;
}

/** What the handler writes: 200 or 202, the module, and Retry-After while pending. */
export interface SendResponse {
  readonly status: 200 | 202;
  readonly contentType: string;
  readonly payload: unknown;
  readonly retryAfterSeconds?: number;
}

/** Query parameters of the Send transaction that are not search keys (10.X.1). */
const DESTINATION = 'destination';

export class SendService {
  constructor(
    private readonly requests: SendRequestStore,
    /** The Failed SOP Instance UID List of a final response (lambdas/send/outcomes.ts). */
    private readonly outcomes: Pick<SendOutcomes, 'failures'>,
    private readonly workflow: SendWorkflow,
    private readonly destinations: DestinationRegistrySource,
    private readonly opts: SendOptions,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Send transaction, PS3.18 10.X (Sup 248). */
  async send(req: SendRequest): Promise<SendResponse> {
    const contentType = negotiateMetadata({ accept: req.accept });
    // 10.X.1.4: the request shall have no payload.
    if (req.body.byteLength !== 0) throw new BadRequestError('the Send request shall have no payload (PS3.18 10.X.1.4)');
    const transactionUID = parseTransactionUID(req.transactionUID);
    assertValidTarget(req.target);

    const destinations = req.query.get(DESTINATION) ?? [];
    if (destinations.length > 1) {
      throw new BadRequestError('exactly one destination is allowed', [{ target: DESTINATION, message: 'repeated' }]);
    }
    resolveDestination(await this.destinations.load(), destinations[0]);

    const search = new Map(req.query);
    search.delete(DESTINATION);
    // 10.X.1.2 / 12.X.1.2: the search's query parameters, includefield ignored. Validated now, run by Resolve.
    parseSendSearchParameters(search, req.target);

    const createdAt = this.now();
    const record: SendRequestRecord = {
      transactionUID,
      target: req.target,
      search: [...search].flatMap(([name, values]) => values.map((v) => [name, v] as const)),
      destination: destinations[0]!,
      state: 'PENDING',
      completed: 0,
      failed: 0,
      warning: 0,
      createdAt: new Date(createdAt).toISOString(),
      expiresAt: Math.floor(createdAt / 1000) + this.opts.resultTtlSeconds,
      deleteAt: Math.floor(createdAt / 1000) + this.opts.resultTtlSeconds + this.opts.tombstoneTtlSeconds,
    };
    if (!(await this.requests.create(record))) {
      throw new ConflictError(`the Transaction UID ${transactionUID} is already in use; retry with another one`);
    }

    let executionId: string;
    try {
      executionId = await this.workflow.start({ transactionUID, destination: record.destination });
    } catch (error) {
      // Nothing was attempted: the request ends as unable to calculate matches, so a Check Send
      // Result on this Transaction UID tells the truth; the user agent retries with a new UID.
      await this.requests.finish(transactionUID, { state: 'FAILED', status: SendStatus.UnableToCalculateMatches });
      if (error instanceof ServiceUnavailableError || error instanceof StorageUnavailableError) throw error;
      throw new ServiceUnavailableError('the send workflow could not be started', this.opts.retryAfterSeconds);
    }
    await this.requests.setExecution(transactionUID, executionId);
    return this.respond(await this.waitForResult(transactionUID, executionId), contentType);
  }

  /** Check Send Result transaction, PS3.18 10.Y (Sup 248). */
  async checkSendResult(req: CheckSendResultRequest): Promise<SendResponse> {
    const contentType = negotiateMetadata({ accept: req.accept });
    const transactionUID = parseTransactionUID(req.transactionUID);
    let record = await this.requests.get(transactionUID);
    // 10.Y.1.1: the result is identified by the resource and the Transaction UID together.
    if (!record || !sameTarget(record.target, req.target)) {
      throw new NotFoundError(`no send request ${transactionUID} on this resource`);
    }
    if (this.now() / 1000 >= record.expiresAt) {
      throw new GoneError(`the result of send request ${transactionUID} has expired`);
    }
    if (record.state === 'PENDING' && record.executionId) record = await this.reconcile(record);
    return this.respond(record, contentType);
  }

  /**
   * A run that ended without its Fail task (aborted or timed out in the workflow service) would stay
   * pending for ever: the execution's state says so, and the request is failed here.
   */
  private async reconcile(record: SendRequestRecord): Promise<SendRequestRecord> {
    const state = await this.workflow.describe(record.executionId!);
    if (state !== 'FAILED' && state !== 'TIMED_OUT' && state !== 'ABORTED') return record;
    const fresh = await this.requests.get(record.transactionUID);
    if (!fresh || fresh.state !== 'PENDING') return fresh ?? record;
    return this.requests.finish(fresh.transactionUID, failedOutcome(fresh));
  }

  /**
   * Polls the record until it is final or the bounded wait (waitMs) is used up; where the workflow
   * tells when the execution ends (SendWorkflow.settled), the record is read again at once then, not
   * at the next poll.
   */
  private async waitForResult(transactionUID: string, executionId: string): Promise<SendRequestRecord> {
    const interval = this.opts.pollIntervalMs ?? 100;
    // Once it has ended, the next read is the last that can differ: from then on, plain polls.
    let ended: Promise<void> | undefined = this.workflow.settled?.(executionId).then(() => {
      ended = undefined;
    });
    for (let waited = 0; ; waited += interval) {
      const record = await this.requests.get(transactionUID);
      if (!record) throw new ServiceUnavailableError('the send request could not be read back', this.opts.retryAfterSeconds);
      if (record.state !== 'PENDING' || waited + interval > this.opts.waitMs) return record;
      await (ended ? Promise.race([this.sleep(interval), ended]) : this.sleep(interval));
    }
  }

  private async respond(record: SendRequestRecord, contentType: string): Promise<SendResponse> {
    // PS3.4 C.4.2.1.5: the list is in a final response only, and only when some sub-operation failed.
    const failures = record.state !== 'PENDING' && record.failed > 0 ? await this.outcomes.failures(record.transactionUID) : undefined;
    const failed = failures ? [...(record.itemFailedSOPInstanceUIDs ?? []), ...failures.sopInstanceUIDs] : [];
    // The Error Comment (0000,0902) says why, when the destination refused instances as too large.
    const module = sendResponseOf(record, failed, tooLargeComment(failures?.tooLarge ?? 0));
    const pending = module.status === SendStatus.Pending;
    return {
      status: pending ? 202 : 200,
      contentType,
      payload: encodeSendRequestResponse(module),
      ...(pending ? { retryAfterSeconds: this.opts.retryAfterSeconds } : {}),
    };
  }
}

function sameTarget(a: SendTarget, b: SendTarget): boolean {
  return a.level === b.level && a.studyInstanceUID === b.studyInstanceUID && a.seriesInstanceUID === b.seriesInstanceUID && a.npi === b.npi;
}

/**
 * The search of a Send request (includefield ignored): QIDO-RS keys of the resource's level
 * (Sup 248 10.X.1.2), or of the NPI category's Q/R information model (12.X.1.2, Table 12.X.1-2).
 */
export function parseSendSearchParameters(query: ReadonlyMap<string, readonly string[]>, target: SendTarget): SearchParameters {
  if (target.npi === undefined) return parseSearchParameters(query, target.level, { ignoreIncludefield: true });
  return parseNpiSearchParameters(query, requireNpiCategory(target.npi), { ignoreIncludefield: true });
}

/** 400 unless the Study and Series Instance UIDs of the resource path are valid UIDs (PS3.5 9.1). */
function assertValidTarget(target: SendTarget): void {
  const details = (['studyInstanceUID', 'seriesInstanceUID'] as const)
    .filter((name) => target[name] !== undefined && !isValidUid(target[name]!))
    .map((name) => ({ target: name, message: 'not a valid UID (PS3.5 9.1)' }));
  if (details.length > 0) throw new BadRequestError('malformed UID in the request path', details);
}
