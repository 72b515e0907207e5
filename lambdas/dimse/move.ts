/**
 * C-MOVE SCP behaviour (PS3.4 C.4.2.3.1) for the Patient Root and Study Root MOVE SOP Classes: the
 * Identifier selects instances from the index, the Move Destination AE comes from the AE registry,
 * and the instances go there by C-STORE sub-operations, by Store transactions (Alternative
 * Sub-operation Mechanism Option, C.4.2.3.1.1) or both, with one set of counters (C.4.2.3.1.1.4-5)
 * and failure retry with the other mechanism (C.4.2.3.1.1.7). With a proxy origin configured the
 * whole C-MOVE becomes a Send transaction instead (Proxy Option, C.4.2.3.1.2; move-proxy.ts).
 */
import type { SearchService } from '../dicomweb/search';
import { PayloadTooLargeError } from '../dicomweb/errors';
import { instancesOf } from '../dicomweb/resources';
import { DEFAULT_SEND_MAX_BATCH_BYTES } from '../config';
import { byteBoundedGroups, settleBatch, toBatches } from '../send/counters';
import type { Destination, SubOperationMechanism } from '../send/destinations';
import { sendStatus } from '../send/response-module';
import { instancesToStore, isStreamed } from '../send/stored-instances';
import { storeInstances, type InstanceToStore, type StoreOptions } from '../send/stow-client';
import type { DestinationRegistrySource } from '../send/destinations';
import type { BlobStore, IndexEntry, MetadataIndex } from '../storage/ports';
import type { DicomJson } from '../dicom/json';
import { dimseAddressOf, findMoveDestination, retryWithNextMechanism } from './ae-registry';
import { DimseStatusError, moveQueryOf, type InformationModel } from './identifier';
import { proxyMove, type MoveProxyConfig } from './move-proxy';
import type { MoveResponse } from './move-response';
import { Status, type SubOperationResult } from './status';
import { storeByCStore } from './store-scu';

export interface MoveRequest {
  readonly model: InformationModel;
  readonly identifier: DicomJson;
  /** Move Destination (0000,0600). */
  readonly moveDestination: string;
  /** Aborted by C-CANCEL-MOVE. */
  readonly signal: AbortSignal;
}

export interface MoveDeps {
  readonly index: MetadataIndex;
  readonly blobs: BlobStore;
  readonly search: SearchService;
  readonly destinations: DestinationRegistrySource;
  /** This gateway's AE Title, the Calling AE of the C-STORE sub-operations. */
  readonly aeTitle: string;
  /** Instances per C-STORE association or per Store request. */
  readonly batchSize: number;
  /** Most bytes of instances held and sent at once: a batch above it goes out in parts (SEND_MAX_BATCH_BYTES). */
  readonly maxBatchBytes?: number;
  readonly cStoreTimeoutMs?: number;
  readonly stow?: StoreOptions;
  /** Proxy Option: convert every C-MOVE into a Send transaction at this origin server. */
  readonly proxy?: MoveProxyConfig;
}

/**
 * Performs a C-MOVE: `pending` receives a Pending response (FF00) after each sub-operation; the
 * returned response is the final one (0000, B000, A702, FE00, or A701 / A801 / A900 / C000).
 */
export async function performMove(deps: MoveDeps, req: MoveRequest, pending: (r: MoveResponse) => void): Promise<MoveResponse> {
  try {
    const registry = await deps.destinations.load();
    const target = findMoveDestination(registry, req.moveDestination);
    if (!target) return { status: Status.MoveDestinationUnknown, comment: 'Move Destination not in the AE registry' };
    const query = moveQueryOf(req.identifier, req.model);
    if (deps.proxy) return await proxyMove(deps.proxy, query, target.destination, req.signal, pending);

    let instances: IndexEntry[];
    try {
      instances = await matchingInstances(deps, query);
    } catch (error) {
      if (error instanceof PayloadTooLargeError) return { status: Status.UnableToCalculateMatches, comment: 'too many matches to count' };
      throw error;
    }
    return await new SubOperations(deps, target.destination, target.mechanisms, instances, req.signal, pending).run();
  } catch (error) {
    if (error instanceof DimseStatusError) {
      return { status: error.status, comment: error.comment, offendingElements: error.offendingElements };
    }
    console.error(JSON.stringify({ event: 'c-move-error', fault: error instanceof Error ? error.name : 'unknown' }));
    return { status: Status.UnableToProcess, comment: 'the move could not be processed' };
  }
}

/** The instances under the matched patients, studies, series or instances (C.4.2.2.1). */
async function matchingInstances(deps: MoveDeps, query: ReturnType<typeof moveQueryOf>): Promise<IndexEntry[]> {
  const matches = await deps.search.matchingEntries({ level: query.level, parameters: query.parameters, baseUrl: '' });
  const out: IndexEntry[] = [];
  const seen = new Set<string>();
  for (const match of matches) {
    const entries =
      match.level === 'INSTANCE'
        ? [match]
        : await instancesOf(deps.index, { studyInstanceUID: match.studyInstanceUID, seriesInstanceUID: match.seriesInstanceUID });
    for (const e of entries) {
      if (e.instance && e.sopInstanceUID && !seen.has(e.sopInstanceUID)) {
        seen.add(e.sopInstanceUID);
        out.push(e);
      }
    }
  }
  return out;
}

/** The sub-operations of one C-MOVE and their counters (C.4.2.3.1.1.4: mutually exclusive, summing to the matches). */
class SubOperations {
  private readonly counters: { remaining: number; completed: number; failed: number; warning: number };
  private readonly failedUIDs: string[] = [];

  constructor(
    private readonly deps: MoveDeps,
    private readonly destination: Destination,
    private readonly mechanisms: readonly SubOperationMechanism[],
    private readonly instances: readonly IndexEntry[],
    private readonly signal: AbortSignal,
    private readonly pending: (r: MoveResponse) => void,
  ) {
    this.counters = { remaining: instances.length, completed: 0, failed: 0, warning: 0 };
  }

  async run(): Promise<MoveResponse> {
    await retryWithNextMechanism(
      this.mechanisms,
      this.instances,
      async (mechanism, todo, isLast) => {
        const failed: IndexEntry[] = [];
        // Large instances are streamed as sent (../send/stored-instances.ts): they count nothing here.
        const batches = toBatches(todo, this.deps.batchSize).flatMap((batch) =>
          byteBoundedGroups(
            batch,
            (entry) => (entry.instance && !isStreamed(entry.instance) ? entry.instance.size : 0),
            this.deps.maxBatchBytes ?? DEFAULT_SEND_MAX_BATCH_BYTES,
          ),
        );
        for (const batch of batches) {
          if (this.signal.aborted) break;
          const results = await this.deliver(mechanism, batch, isLast);
          // An instance without a result was not attempted (cancel): it stays Remaining.
          for (const entry of batch) if (results.get(entry.sopInstanceUID!) === 'failed') failed.push(entry);
        }
        return failed;
      },
      () => this.signal.aborted,
    );
    const counters = { ...this.counters };
    if (this.signal.aborted) {
      // C.4.2.3.1: Cancel carries the counters; Remaining is what was not initiated.
      return { status: Status.Cancel, counters, ...this.failedList() };
    }
    // C.4.2.3.1: Success, Warning or Failure (A702) from the counters, as a Send's final status.
    return { status: sendStatus({ ...counters, remaining: 0 }), counters: { ...counters, remaining: 0 }, ...this.failedList() };
  }

  /** One batch with one mechanism; results are counted as they come (failures only when not retried). */
  private async deliver(
    mechanism: SubOperationMechanism,
    batch: readonly IndexEntry[],
    isLast: boolean,
  ): Promise<Map<string, SubOperationResult>> {
    const results = new Map<string, SubOperationResult>();
    const count = (uid: string, result: SubOperationResult) => {
      if (results.has(uid)) return;
      results.set(uid, result);
      if (result === 'failed' && !isLast) return; // not yet known: it will be retried
      this.counters.remaining--;
      this.counters[result]++;
      if (result === 'failed') this.failedUIDs.push(uid);
      this.pending({ status: Status.Pending, counters: { ...this.counters } });
    };
    const { instances, missing } = await this.load(batch);
    for (const uid of missing) count(uid, 'failed');
    if (instances.length === 0) return results;

    if (mechanism === 'c-store') {
      const address = dimseAddressOf(this.destination);
      if (!address) {
        for (const i of instances) count(i.sopInstanceUID, 'failed');
        return results;
      }
      const outcome = await storeByCStore(address, instances, {
        callingAeTitle: this.deps.aeTitle,
        timeoutMs: this.deps.cStoreTimeoutMs,
        signal: this.signal,
        onResult: count,
      });
      // Instances without a response (refused association, no presentation context) fail here.
      for (const uid of outcome.failed) count(uid, 'failed');
      return results;
    }
    const outcome = settleBatch(
      instances.map((i) => i.sopInstanceUID),
      await storeInstances(this.destination, instances, this.deps.stow),
    );
    for (const uid of outcome.completed) count(uid, 'completed');
    for (const uid of outcome.warning) count(uid, 'warning');
    for (const uid of outcome.failed) count(uid, 'failed');
    return results;
  }

  /** The stored Part 10 objects of a batch (large ones streamed when sent); an instance deleted since the match fails. */
  private async load(batch: readonly IndexEntry[]): Promise<{ instances: InstanceToStore[]; missing: string[] }> {
    const stored = batch.flatMap((entry) => (entry.instance ? [{ sopInstanceUID: entry.sopInstanceUID!, object: entry.instance }] : []));
    const { instances, missing } = await instancesToStore(this.deps.blobs, stored);
    return { instances, missing: [...batch.filter((entry) => !entry.instance).map((entry) => entry.sopInstanceUID!), ...missing] };
  }

  private failedList(): Pick<MoveResponse, 'failedSOPInstanceUIDs'> {
    return this.failedUIDs.length ? { failedSOPInstanceUIDs: [...this.failedUIDs] } : {};
  }
}
