/**
 * A send request as the Send handler records it before Resolve (state PENDING, no counts), for the
 * tests of the workflow's tasks: the request's own fields given, the rest the defaults below.
 */
import type { SendRequestRecord } from '../../lambdas/storage/ports';

export function pendingSendRequest(
  fields: Pick<SendRequestRecord, 'transactionUID' | 'target' | 'search' | 'destination'> & Partial<SendRequestRecord>,
): SendRequestRecord {
  return {
    state: 'PENDING',
    completed: 0,
    failed: 0,
    warning: 0,
    createdAt: new Date(0).toISOString(),
    expiresAt: 2_000_000_000,
    deleteAt: 2_100_000_000,
    ...fields,
  };
}
