/**
 * Sub-operation counting of a Send request (PS3.4 C.4.2.3.1.1.4, Sup 248), as pure functions over the
 * outcomes of batches. The persistence adapter applies the deltas with an atomic ADD; these functions
 * decide what the deltas are.
 */

/** The four mutually exclusive counters of PS3.4 C.4.2.3.1.1.4. */
export interface SubOperationCounters {
  /** Not yet attempted or not yet known. */
  readonly remaining: number;
  /** Stored with no warnings. */
  readonly completed: number;
  /** Not stored. */
  readonly failed: number;
  /** Stored with warnings. */
  readonly warning: number;
}

/** How one batch of sub-operations ended, per SOP Instance UID. */
export interface BatchOutcome {
  readonly completed: readonly string[];
  readonly warning: readonly string[];
  readonly failed: readonly string[];
  /** How the outcome was determined; carries no patient data, safe to log. */
  readonly basis: OutcomeBasis;
}

export type OutcomeBasis =
  /**
   * Per instance, from the destination's Store Instances Response Module; instances the module does
   * not mention are classified by the HTTP status.
   */
  | { readonly kind: 'response-module'; readonly httpStatus: number; readonly attempts: number }
  /** Whole batch, from the HTTP status alone (no usable response module). */
  | { readonly kind: 'http-status'; readonly httpStatus: number; readonly attempts: number }
  /** The destination could not be reached (or kept failing transiently) within the retry budget. */
  | { readonly kind: 'transport'; readonly fault: string; readonly attempts: number }
  /**
   * The destination refused the request as too large (HTTP 413): the batch went out again in halves,
   * each with its own basis.
   */
  | { readonly kind: 'split'; readonly httpStatus: 413; readonly parts: readonly OutcomeBasis[] }
  /**
   * The batch went out as several requests: the instances read whole together, each streamed one
   * (lambdas/send/stored-instances.ts) alone; each request with its own basis.
   */
  | { readonly kind: 'separate'; readonly parts: readonly OutcomeBasis[] }
  /**
   * Per instance, from the C-STORE responses of one association (PS3.2 Table N.7-42); instances
   * without a response (association refused, aborted or cancelled) count as failed.
   */
  | { readonly kind: 'c-store'; readonly association: 'released' | 'rejected' | 'failed'; readonly fault?: string };

/** Counters of a request that matched `matched` instances and has not attempted any yet. */
export function initialCounters(matched: number): SubOperationCounters {
  if (!Number.isInteger(matched) || matched < 0) throw new RangeError(`matched must be a non-negative integer, got ${matched}`);
  return { remaining: matched, completed: 0, failed: 0, warning: 0 };
}

/** Number of instances the counters account for; constant over the life of a request. */
export function matchedCount(c: SubOperationCounters): number {
  return c.remaining + c.completed + c.failed + c.warning;
}

/**
 * Settles a batch: every instance sent is classified exactly once. An instance that the outcome lists
 * in several categories counts once, the most pessimistic category winning (failed > warning >
 * completed); one the outcome does not mention counts as failed (not known to be stored); UIDs the
 * outcome lists that were not sent are ignored.
 */
export function settleBatch(sentSopInstanceUIDs: readonly string[], outcome: BatchOutcome): BatchOutcome {
  const failed = new Set(outcome.failed);
  const warning = new Set(outcome.warning);
  const completed = new Set(outcome.completed);
  const settled = { completed: [] as string[], warning: [] as string[], failed: [] as string[] };
  for (const uid of new Set(sentSopInstanceUIDs)) {
    if (failed.has(uid)) settled.failed.push(uid);
    else if (warning.has(uid)) settled.warning.push(uid);
    else if (completed.has(uid)) settled.completed.push(uid);
    else settled.failed.push(uid);
  }
  return { ...settled, basis: outcome.basis };
}

/** The delta to ADD for a settled batch: the batch leaves Remaining and enters the other three. */
export function batchDelta(settled: BatchOutcome): SubOperationCounters {
  const completed = settled.completed.length;
  const warning = settled.warning.length;
  const failed = settled.failed.length;
  return { remaining: -(completed + warning + failed), completed, failed, warning };
}

/** Adds a delta, refusing any result that breaks C.4.2.3.1.1.4 (a negative counter). */
export function applyDelta(c: SubOperationCounters, d: SubOperationCounters): SubOperationCounters {
  const next = {
    remaining: c.remaining + d.remaining,
    completed: c.completed + d.completed,
    failed: c.failed + d.failed,
    warning: c.warning + d.warning,
  };
  if (Object.values(next).some((n) => n < 0)) {
    throw new RangeError('sub-operation counters would become negative: a batch was counted twice');
  }
  return next;
}

/**
 * The delta that closes a request whose workflow failed: every remaining sub-operation is counted as
 * failed (it was not stored), so the final response still sums to the number of matches.
 */
export function failRemainingDelta(c: SubOperationCounters): SubOperationCounters {
  return { remaining: -c.remaining, completed: 0, failed: c.remaining, warning: 0 };
}

/** Splits items into consecutive batches of at most `size` (the inline Map's items). */
export function toBatches<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a positive integer, got ${size}`);
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}

/**
 * Cuts a batch, in order, into groups whose items' sizes (`sizeOf`, bytes) add up to at most
 * `maxBytes`, each with at least one item: one larger than maxBytes is a group of its own. A group is
 * what one Store request or association holds in memory at once.
 */
export function byteBoundedGroups<T>(items: readonly T[], sizeOf: (item: T) => number, maxBytes: number): T[][] {
  const groups: T[][] = [];
  let bytes = 0;
  for (const item of items) {
    const group = groups.at(-1);
    const size = sizeOf(item);
    if (group && bytes + size <= maxBytes) {
      group.push(item);
      bytes += size;
    } else {
      groups.push([item]);
      bytes = size;
    }
  }
  return groups;
}
