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
import type { BlobStore, DicomJson, IndexEntry, MetadataIndex, NpiIndex, SendRequestRecord, SendRequestStore } from '../storage/ports';
import { toBatches } from './counters';
import { SendDelivery, type DeliverBatch, type SendDeliveryDeps } from './deliver';
import { encodeSendRequestResponse, sendStatus } from './response-module';
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

export type { DeliverBatch } from './deliver';

export class SendRequestNotFoundError extends Error {}

export interface SendTasksDeps {
  readonly requests: SendRequestStore;
  readonly search: SearchService;
  readonly index: MetadataIndex;
  readonly blobs: BlobStore;
  readonly destinations: DestinationRegistrySource;
  /** Non-Patient Instances (PS3.18 12): Send on /{npi-name}/send-requests (Sup 248 12.X). */
  readonly npi?: { readonly service: NpiService; readonly index: NpiIndex };
  /** Options of the STOW sub-operations and how a batch reaches the destination (./deliver.ts). */
  readonly store?: SendDeliveryDeps['store'];
  readonly deliverBatch?: DeliverBatch;
}

export class SendTasks {
  private readonly delivery: SendDelivery;

  constructor(private readonly deps: SendTasksDeps) {
    this.delivery = new SendDelivery({ ...deps, npiIndex: deps.npi?.index });
  }

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

  /** Deliver: one Store sub-operation batch (./deliver.ts). */
  deliver(input: DeliverInput): Promise<void> {
    return this.delivery.deliver(input);
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
