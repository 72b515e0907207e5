/**
 * One batch of SEND-RS sub-operations (Sup 248 10.X.2, PS3.4 C.4.2.3.1.1) by the mechanisms of the
 * destination's registry entry (ae-registry.ts): C-STORE over one association when the entry maps
 * the destination to a DIMSE AE, else a Store transaction; instances that fail with one mechanism are
 * retried with the next when the entry lists two (C.4.2.3.1.1.7; warnings are not retried).
 * The C-STORE SCU (and with it the DIMSE library) is loaded on the first C-STORE: a Deliver function
 * whose destinations all take STOW-RS never loads it, which keeps its cold start short.
 */
import { settleBatch, type BatchOutcome } from '../send/counters';
import type { Destination } from '../send/destinations';
import type { InstanceToStore } from '../send/stow-client';
import { dimseAddressOf, mechanismsOf, retryWithNextMechanism } from './ae-registry';
import { loadDimseConfig } from './config';

export interface SubOperationOptions {
  /** The Store transaction of a batch (stow-client storeInstances with the caller's options). */
  readonly stow: (instances: readonly InstanceToStore[]) => Promise<BatchOutcome>;
  /** Calling AE Title of C-STORE associations; DIMSE_AET (default ARCHIVE) when absent. */
  readonly callingAeTitle?: string;
  readonly cStoreTimeoutMs?: number;
}

export async function deliverSubOperations(
  destination: Destination,
  instances: readonly InstanceToStore[],
  opts: SubOperationOptions,
): Promise<BatchOutcome> {
  const done = { completed: [] as string[], warning: [] as string[] };
  let last: BatchOutcome | undefined;
  const failed = await retryWithNextMechanism(mechanismsOf(destination), instances, async (mechanism, todo) => {
    const address = dimseAddressOf(destination);
    const outcome =
      mechanism === 'stow'
        ? await opts.stow(todo)
        : address
          ? await (
              await import('./store-scu')
            ).storeByCStore(address, todo, {
              callingAeTitle: opts.callingAeTitle ?? loadDimseConfig().aeTitle,
              timeoutMs: opts.cStoreTimeoutMs,
            })
          : undefined;
    if (!outcome) return todo;
    last = settleBatch(
      todo.map((i) => i.sopInstanceUID),
      outcome,
    );
    done.completed.push(...last.completed);
    done.warning.push(...last.warning);
    const failedUIDs = new Set(last.failed);
    return todo.filter((i) => failedUIDs.has(i.sopInstanceUID));
  });
  return {
    ...done,
    failed: failed.map((i) => i.sopInstanceUID),
    basis: last?.basis ?? { kind: 'transport', fault: 'no sub-operation mechanism', attempts: 0 },
  };
}
