/**
 * The Deliver task of the Send state machine (lib/send-workflow.ts): one batch of Store sub-operations
 * (PS3.4 C.4.2.3.1.1.3). Apart from Resolve (./resolve.ts) and Finalize (./finish.ts) because it runs
 * as a Lambda function of its own, once per batch and so the one that starts cold most often when a Send
 * fans out: it needs the index, the objects, the destination registry and the STOW-RS client, not the
 * search, the query keys' data dictionary or the Part 10 codec that Resolve needs, so its cold start
 * loads none of them.
 */
import { DEFAULT_SEND_MAX_BATCH_BYTES } from '../config';
import type { BlobStore, InstanceObject, MetadataIndex, NpiIndex, SendRequestStore } from '../storage/ports';
import type { DestinationRegistrySource } from './destinations';
import { settleBatch, type BatchOutcome, type OutcomeBasis } from './counters';
import { resolveDestination, type Destination } from './destinations';
import { batchIdOf, SendOutcomes } from './outcomes';
import {
  STORE_CLOSE_OVERHEAD_BYTES,
  STORE_PART_OVERHEAD_BYTES,
  storeInstances,
  type InstanceToStore,
  type StoreOptions,
} from './stow-client';
import { deliveryGroups, instancesToStore } from './stored-instances';
import { retryableOnStorageFaults } from './task-errors';
import type { DeliverInput, ManifestItem } from './workflow-io';

export interface SendDeliveryDeps {
  readonly requests: SendRequestStore;
  readonly index: MetadataIndex;
  readonly blobs: BlobStore;
  readonly destinations: DestinationRegistrySource;
  /** Where Non-Patient Instances of a Send on /{npi-name}/send-requests (Sup 248 12.X) are indexed. */
  readonly npiIndex?: NpiIndex;
  /** Options of the STOW sub-operations (retry policy, timeouts; fetch and sleep in tests). */
  readonly store?: StoreOptions;
  /**
   * How a batch reaches the destination. Default: a DICOMweb Store transaction. The Deliver task
   * passes lambdas/dimse/sub-operations.ts deliverSubOperations, which uses C-STORE when the registry
   * maps the destination to a DIMSE AE; it is injected, not imported, so that only the functions that
   * deliver carry the DIMSE library.
   */
  readonly deliverBatch?: DeliverBatch;
  /**
   * Most bytes of one Store request body, instances and multipart framing (SEND_MAX_BATCH_BYTES): a
   * batch above it goes out as several requests (or associations), an instance larger than it alone.
   */
  readonly maxBatchBytes?: number;
}

export type DeliverBatch = (
  destination: Destination,
  instances: readonly InstanceToStore[],
  opts: { readonly stow: (batch: readonly InstanceToStore[]) => Promise<BatchOutcome> },
) => Promise<BatchOutcome>;

/** A Store transaction (STOW-RS) for the whole batch. */
const storeByStow: DeliverBatch = (_destination, instances, { stow }) => stow(instances);

export class SendDelivery {
  constructor(private readonly deps: SendDeliveryDeps) {}

  /**
   * Deliver: one Store sub-operation batch (PS3.4 C.4.2.3.1.1.3): STOW-RS to the destination, each
   * instance counted Completed, Warning or Failed from the destination's response.
   */
  deliver(input: DeliverInput): Promise<void> {
    return retryableOnStorageFaults(() => this.deliverBatch(input));
  }

  private async deliverBatch(input: DeliverInput): Promise<void> {
    const { transactionUID, destination: requested } = input.BatchInput;
    const outcomes = new SendOutcomes(this.deps.requests, this.deps.blobs);
    const batchId = batchIdOf(input.Items);
    // Run again for a batch already recorded (a retry after a later step failed): nothing to send.
    if (await outcomes.resume(transactionUID, batchId)) return;
    const registry = await this.deps.destinations.load();
    // The registry entry gives the credentials; the sub-operations go to the URL the user agent named.
    const destination = { ...resolveDestination(registry, requested), url: requested };

    const objects = await this.storedObjects(input.Items);
    const outcome = { completed: [] as string[], warning: [] as string[], failed: [] as string[], bases: [] as OutcomeBasis[] };
    // Deleted since Resolve: nothing to send, so the sub-operation fails.
    const missing = input.Items.filter((_, i) => !objects[i]).map((item) => item.sopInstanceUID);
    const stored = input.Items.flatMap((item, i) => (objects[i] ? [{ sopInstanceUID: item.sopInstanceUID, object: objects[i]! }] : []));
    // A group is sent as one request (or association): its small objects are read at once, its large
    // ones streamed as sent (./stored-instances.ts); the groups one after the other, so a batch is
    // never held whole. A group's Store request body, multipart framing included, stays within the budget.
    const budget = (this.deps.maxBatchBytes ?? DEFAULT_SEND_MAX_BATCH_BYTES) - STORE_CLOSE_OVERHEAD_BYTES;
    for (const group of deliveryGroups(stored, (object) => object.size + STORE_PART_OVERHEAD_BYTES, budget)) {
      const { instances, missing: gone } = await instancesToStore(this.deps.blobs, group);
      missing.push(...gone);
      if (instances.length === 0) continue;
      const settled = settleBatch(
        instances.map((i) => i.sopInstanceUID),
        // C-STORE when the registry maps the destination to a DIMSE AE, else STOW (lambdas/dimse/ae-registry.ts).
        await (this.deps.deliverBatch ?? storeByStow)(destination, instances, {
          // A Send request's instances are all of one resource: an NPI category's, or the studies'.
          stow: (batch) => storeInstances(destination, batch, this.deps.store, { npi: input.Items[0]?.npi }),
        }),
      );
      outcome.completed.push(...settled.completed);
      outcome.warning.push(...settled.warning);
      outcome.failed.push(...settled.failed);
      outcome.bases.push(settled.basis);
    }
    await outcomes.record(transactionUID, batchId, { ...outcome, failed: [...outcome.failed, ...missing] });
  }

  /**
   * The stored objects of manifest items, in their order (undefined for an instance no longer
   * indexed): instances of the studies in one batched index read, Non-Patient Instances each by key.
   */
  private async storedObjects(items: readonly ManifestItem[]): Promise<(InstanceObject | undefined)[]> {
    const studies = items.filter((item) => item.npi === undefined);
    const keys = studies.map(({ studyInstanceUID, seriesInstanceUID, sopInstanceUID }) => ({
      level: 'INSTANCE' as const,
      studyInstanceUID,
      seriesInstanceUID,
      sopInstanceUID,
    }));
    const entries = keys.length > 0 ? await this.deps.index.getEntries(keys) : [];
    const byItem = new Map(studies.map((item, i) => [item, entries[i]?.instance]));
    return Promise.all(
      items.map(async (item) =>
        item.npi === undefined ? byItem.get(item) : (await this.npiIndex().getInstance(item.npi, item.sopInstanceUID))?.instance,
      ),
    );
  }

  private npiIndex(): NpiIndex {
    if (!this.deps.npiIndex) throw new TypeError('SendDelivery was built without the NPI index');
    return this.deps.npiIndex;
  }
}
