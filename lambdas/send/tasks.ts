/**
 * The tasks of the Send state machine (lib/send-workflow.ts): Resolve, Deliver, Finalize, Fail.
 * The same code runs as Lambda functions in AWS (lambdas/handlers/send-tasks.ts) and in-process under
 * aws-local-stepfunctions in the embedded runtime. Counters live in the send-request item and change
 * only by atomic per-batch updates, so Completed + Warning + Failed + Remaining equals the number of
 * matches at every poll (PS3.4 C.4.2.3.1.1.4).
 */
import type { NpiService } from '../dicomweb/npi';
import { requireNpiCategory } from '../dicomweb/npi-categories';
import type { SearchService } from '../dicomweb/search';
import type { SearchParameters } from '../dicomweb/query-params';
import { parseSendSearchParameters } from '../dicomweb/send';
import type { DestinationRegistrySource } from '../storage/destinations';
import { sendManifestKey } from '../storage/keys';
import type {
  BlobStore,
  DicomJson,
  IndexEntry,
  InstanceObject,
  MetadataIndex,
  NpiIndex,
  SendRequestRecord,
  SendRequestStore,
} from '../storage/ports';
import { settleBatch, toBatches, type BatchOutcome } from './counters';
import { resolveDestination, type Destination } from './destinations';
import { encodeSendRequestResponse, SendStatus, sendStatus } from './response-module';
import { storeInstances, type InstanceToStore, type StoreOptions } from './stow-client';
import { failedOutcome, sendResponseOf } from './send-response';
import {
  toManifestJsonLines,
  type DeliverInput,
  type FailInput,
  type FinalizeInput,
  type ManifestItem,
  type ResolveInput,
  type ResolveOutput,
} from './workflow-io';

export class SendRequestNotFoundError extends Error {}

export interface SendTasksDeps {
  readonly requests: SendRequestStore;
  readonly search: SearchService;
  readonly index: MetadataIndex;
  readonly blobs: BlobStore;
  readonly destinations: DestinationRegistrySource;
  /** Non-Patient Instances (PS3.18 12): Send on /{npi-name}/send-requests (Sup 248 12.X). */
  readonly npi?: { readonly service: NpiService; readonly index: NpiIndex };
  /** Options of the STOW sub-operations (retry policy, timeouts; fetch and sleep in tests). */
  readonly store?: StoreOptions;
  /**
   * How a batch reaches the destination. Default: a DICOMweb Store transaction. The Deliver task
   * passes lambdas/dimse/sub-operations.ts deliverSubOperations, which uses C-STORE when the registry
   * maps the destination to a DIMSE AE; it is injected, not imported, so that only the functions that
   * deliver carry the DIMSE library.
   */
  readonly deliverBatch?: DeliverBatch;
}

export type DeliverBatch = (
  destination: Destination,
  instances: readonly InstanceToStore[],
  opts: { readonly stow: (batch: readonly InstanceToStore[]) => Promise<BatchOutcome> },
) => Promise<BatchOutcome>;

/** A Store transaction (STOW-RS) for the whole batch. */
const storeByStow: DeliverBatch = (_destination, instances, { stow }) => stow(instances);

export class SendTasks {
  constructor(private readonly deps: SendTasksDeps) {}

  /**
   * Resolve: the search of the Send request at its resource's level (Sup 248 10.X.2), expanded to
   * instances, written as the manifest; sets Remaining to the number of matches.
   */
  async resolve(input: ResolveInput): Promise<ResolveOutput> {
    const record = await this.record(input.transactionUID);
    const query = new Map<string, string[]>();
    for (const [name, value] of record.search) query.set(name, [...(query.get(name) ?? []), value]);
    const parameters = parseSendSearchParameters(query, record.target);
    const items =
      record.target.npi !== undefined
        ? await this.npiInstancesOf(record.target.npi, parameters)
        : await this.instancesOf(
            await this.deps.search.matchingEntries({
              level: record.target.level,
              studyInstanceUID: record.target.studyInstanceUID,
              seriesInstanceUID: record.target.seriesInstanceUID,
              parameters,
              baseUrl: '',
            }),
          );
    const manifestKey = sendManifestKey(record.transactionUID);
    await this.deps.blobs.put(manifestKey, Buffer.from(toManifestJsonLines(items)), 'application/jsonl');
    await this.deps.requests.setMatched(record.transactionUID, items.length);
    return {
      matched: items.length,
      manifestKey,
      ...(input.batchSize !== undefined ? { batches: toBatches(items, input.batchSize) } : {}),
    };
  }

  /**
   * Deliver: one Store sub-operation batch (PS3.4 C.4.2.3.1.1.3): STOW-RS to the destination, each
   * instance counted Completed, Warning or Failed from the destination's response.
   */
  async deliver(input: DeliverInput): Promise<void> {
    const { transactionUID, destination: requested } = input.BatchInput;
    const registry = await this.deps.destinations.load();
    // The registry entry gives the credentials; the sub-operations go to the URL the user agent named.
    const destination = { ...resolveDestination(registry, requested), url: requested };

    // The batch is sent as one request, so all of it is in memory anyway: read its objects at once.
    const objects = await this.storedObjects(input.Items);
    const read = await Promise.all(objects.map((object) => (object ? this.deps.blobs.get(object.objectKey) : undefined)));
    const instances: InstanceToStore[] = [];
    const missing: string[] = [];
    input.Items.forEach((item, i) => {
      const bytes = read[i];
      // Deleted since Resolve: nothing to send, so the sub-operation fails.
      if (!bytes) missing.push(item.sopInstanceUID);
      else instances.push({ sopInstanceUID: item.sopInstanceUID, sopClassUID: item.sopClassUID, bytes });
    });
    const outcome = instances.length
      ? settleBatch(
          instances.map((i) => i.sopInstanceUID),
          // C-STORE when the registry maps the destination to a DIMSE AE, else STOW (lambdas/dimse/ae-registry.ts).
          await (this.deps.deliverBatch ?? storeByStow)(destination, instances, {
            // A Send request's instances are all of one resource: an NPI category's, or the studies'.
            stow: (batch) => storeInstances(destination, batch, this.deps.store, { npi: input.Items[0]?.npi }),
          }),
        )
      : { completed: [], warning: [], failed: [] };
    const failed = [...outcome.failed, ...missing];
    await this.deps.requests.addBatchOutcome(
      transactionUID,
      { completed: outcome.completed.length, warning: outcome.warning.length, failed: failed.length },
      failed,
    );
  }

  /** Finalize: the final Status per PS3.4 C.4.2.3.1 from the counters; returns the response module. */
  async finalize(input: FinalizeInput): Promise<DicomJson[]> {
    const record = await this.record(input.transactionUID);
    const counters = { remaining: record.remaining ?? 0, completed: record.completed, failed: record.failed, warning: record.warning };
    // A batch lost without being counted leaves Remaining > 0: those sub-operations count as failed.
    const final = await this.deps.requests.finish(input.transactionUID, {
      state: 'COMPLETED',
      status: sendStatus({ ...counters, failed: counters.failed + counters.remaining, remaining: 0 }),
      failRemaining: counters.remaining > 0,
    });
    return encodeSendRequestResponse(sendResponseOf(final));
  }

  /**
   * Fail (the Catch of the whole run): remaining sub-operations count as failed; when the matches were
   * never determined the Status is A701 (unable to calculate number of matches).
   */
  async fail(input: FailInput): Promise<void> {
    const record = await this.record(input.transactionUID);
    if (record.state !== 'PENDING') return;
    await this.deps.requests.finish(input.transactionUID, failedOutcome(record));
  }

  private async record(transactionUID: string): Promise<SendRequestRecord> {
    const record = await this.deps.requests.get(transactionUID);
    if (!record) throw new SendRequestNotFoundError(`no send request ${transactionUID}`);
    return record;
  }

  /**
   * The stored objects of manifest items, in their order (undefined for an instance no longer
   * indexed): instances of the studies in one batched index read, Non-Patient Instances each by key.
   */
  private async storedObjects(items: readonly ManifestItem[]): Promise<(InstanceObject | undefined)[]> {
    const studies = items.filter((item) => item.npi === undefined);
    const keys = studies.map(({ studyInstanceUID, seriesInstanceUID, sopInstanceUID }) => ({ level: 'INSTANCE' as const, studyInstanceUID, seriesInstanceUID, sopInstanceUID }));
    const entries = keys.length > 0 ? await this.deps.index.getEntries(keys) : [];
    const byItem = new Map(studies.map((item, i) => [item, entries[i]?.instance]));
    return Promise.all(
      items.map(async (item) =>
        item.npi === undefined ? byItem.get(item) : (await this.npiDeps().index.getInstance(item.npi, item.sopInstanceUID))?.instance,
      ),
    );
  }

  /** The Non-Patient Instances of the category the search matches (Sup 248 12.X.2), as manifest items. */
  private async npiInstancesOf(npi: string, parameters: SearchParameters): Promise<ManifestItem[]> {
    const entries = await this.npiDeps().service.matchingEntries(requireNpiCategory(npi), parameters);
    return entries.map((e) => ({
      studyInstanceUID: '',
      seriesInstanceUID: '',
      sopInstanceUID: e.sopInstanceUID,
      sopClassUID: e.instance.sopClassUID,
      npi: e.category,
    }));
  }

  private npiDeps(): NonNullable<SendTasksDeps['npi']> {
    if (!this.deps.npi) throw new TypeError('SendTasks was built without the NPI service');
    return this.deps.npi;
  }

  /** The instances under the matched studies, series or instances, as manifest items. */
  private async instancesOf(matches: readonly IndexEntry[]): Promise<ManifestItem[]> {
    const items: ManifestItem[] = [];
    const add = (e: IndexEntry) => {
      if (e.level === 'INSTANCE' && e.instance && e.seriesInstanceUID && e.sopInstanceUID) {
        items.push({
          studyInstanceUID: e.studyInstanceUID,
          seriesInstanceUID: e.seriesInstanceUID,
          sopInstanceUID: e.sopInstanceUID,
          sopClassUID: e.instance.sopClassUID,
        });
      }
    };
    for (const match of matches) {
      if (match.level === 'INSTANCE') {
        add(match);
        continue;
      }
      const query = { by: 'study', level: 'INSTANCE', studyInstanceUID: match.studyInstanceUID } as const;
      const scoped = match.level === 'SERIES' ? { ...query, seriesInstanceUID: match.seriesInstanceUID } : query;
      for await (const entry of this.deps.index.query(scoped)) add(entry);
    }
    return items;
  }
}
