/**
 * C-STORE SCU (PS3.4 B.2, PS3.7 9.1.1): one association per call carrying a batch of stored
 * instances, used by C-MOVE sub-operations (PS3.4 C.4.2.3.1) and by SEND-RS Deliver when the
 * destination is a DIMSE AE. Presentation contexts come from the instances: per SOP Class one context
 * proposing Implicit and Explicit VR Little Endian, plus one with the stored transfer syntax when it is
 * another (dcmjs-dimse builds them from the requests). The stored data set bytes are sent unchanged
 * when the stored transfer syntax is accepted; otherwise dcmjs-dimse transcodes an uncompressed one.
 * A large instance (a `file`, ../send/stored-instances.ts) is streamed from storage (streamed-data-set.ts),
 * in its stored transfer syntax only: a context proposing that syntax alone is added for it.
 * Each response is counted per PS3.2 Table N.7-42 (status.ts); an instance without a response (no
 * presentation context, association refused or lost) counts as failed (PS3.4 C.4.2.3.1: "considered
 * a Failure if the SCP is unable to negotiate an appropriate presentation context").
 */
import type { BatchOutcome } from '../send/counters';
import type { InstanceToStore } from '../send/stow-client';
import { readPart10 } from '../dicom/part10';
import type { ApplicationEntity } from './ae-registry';
import { Client, constants, CStoreRequest, Dataset, PresentationContext, type DimseCStoreRequest } from './lib';
import { dataSetOf } from './part10-file';
import { StreamedDataset, streamDataSets } from './streamed-data-set';
import { cStoreResultOf, type SubOperationResult } from './status';

export interface CStoreScuOptions {
  /** Calling AE Title of the association. */
  readonly callingAeTitle: string;
  /** Connect, association and PDU timeout, ms. */
  readonly timeoutMs?: number;
  /** Once aborted, no further sub-operation is initiated (C-CANCEL-MOVE); the one in flight completes. */
  readonly signal?: AbortSignal;
  /** Called as each sub-operation ends, for Pending responses. */
  readonly onResult?: (sopInstanceUID: string, result: SubOperationResult) => void;
}

export interface CStoreBatchOutcome extends BatchOutcome {
  /** Instances not attempted because the signal aborted first (C-MOVE Remaining on cancel). */
  readonly notAttempted: readonly string[];
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The syntaxes of the context every SOP Class gets (dcmjs-dimse proposes both in one): a streamed
 * instance stored in one of them gets a context of its own, since the peer may accept the other.
 */
const UNCOMPRESSED_LE = new Set<string>([constants.TransferSyntax.ImplicitVRLittleEndian, constants.TransferSyntax.ExplicitVRLittleEndian]);

/**
 * A stored Part 10 file as dcmjs-dimse's Dataset: answers the identifying elements and gives its data
 * set bytes as stored, and parses them only when the library must transcode.
 */
class StoredDataset extends Dataset {
  private parsed?: Record<string, unknown>;
  constructor(
    private readonly bytes: Uint8Array,
    transferSyntaxUID: string,
    private readonly uids: { readonly SOPClassUID: string; readonly SOPInstanceUID: string },
  ) {
    super({}, transferSyntaxUID);
  }
  override getElement(tag: string): string | undefined {
    return tag === 'SOPClassUID' || tag === 'SOPInstanceUID' ? this.uids[tag] : (this.getElements()[tag] as string | undefined);
  }
  override getElements(): Record<string, unknown> {
    return (this.parsed ??= new Dataset(Buffer.from(this.bytes), this.getTransferSyntaxUid()).getElements());
  }
  override getDenaturalizedDataset(): Buffer {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }
}

/** Stores the instances at the AE over one association and classifies each one. Never throws for what the peer does. */
export function storeByCStore(
  peer: ApplicationEntity,
  instances: readonly InstanceToStore[],
  opts: CStoreScuOptions,
): Promise<CStoreBatchOutcome> {
  const results = new Map<string, SubOperationResult>();
  const client = new Client();
  const requests: { uid: string; request: DimseCStoreRequest }[] = [];
  const streamedContexts = new Set<string>();
  for (const instance of instances) {
    let request: DimseCStoreRequest;
    const uids = { SOPClassUID: instance.sopClassUID, SOPInstanceUID: instance.sopInstanceUID };
    try {
      if (instance.file) {
        request = new CStoreRequest(new StreamedDataset(instance.file, uids));
        const context = `${instance.sopClassUID}\0${instance.file.transferSyntaxUID}`;
        if (UNCOMPRESSED_LE.has(instance.file.transferSyntaxUID) && !streamedContexts.has(context)) {
          streamedContexts.add(context);
          client.addAdditionalPresentationContext(new PresentationContext(0, instance.sopClassUID, instance.file.transferSyntaxUID), true);
        }
      } else {
        const parsed = readPart10(instance.bytes, { bulkDataAbove: 0 }); // readable, and its transfer syntax: no copy of its Pixel Data
        request = new CStoreRequest(new StoredDataset(dataSetOf(instance.bytes), parsed.transferSyntaxUID, uids));
      }
    } catch {
      results.set(instance.sopInstanceUID, 'failed'); // unreadable stored object: nothing to send
      continue;
    }
    request.on('response', (response: { getStatus(): number }) => {
      const result = cStoreResultOf(response.getStatus());
      results.set(instance.sopInstanceUID, result);
      opts.onResult?.(instance.sopInstanceUID, result);
    });
    requests.push({ uid: instance.sopInstanceUID, request });
    client.addRequest(request);
  }

  const attempted = new Set<string>();
  return new Promise<CStoreBatchOutcome>((resolve) => {
    let association: 'released' | 'rejected' | 'failed' = 'failed';
    let fault: string | undefined;
    const settle = () => {
      const outcome = { completed: [] as string[], warning: [] as string[], failed: [] as string[], notAttempted: [] as string[] };
      for (const instance of instances) {
        const result = results.get(instance.sopInstanceUID);
        if (result) outcome[result].push(instance.sopInstanceUID);
        else if (opts.signal?.aborted && !attempted.has(instance.sopInstanceUID)) outcome.notAttempted.push(instance.sopInstanceUID);
        else outcome.failed.push(instance.sopInstanceUID);
      }
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ ...outcome, basis: { kind: 'c-store', association, ...(fault ? { fault } : {}) } });
    };
    if (requests.length === 0) return settle();

    // dcmjs-dimse sends the queued requests one after another; on cancel the queue is emptied so no
    // further C-STORE starts (its Network keeps the queue in `requests`).
    const onAbort = () => {
      const network = (client as unknown as { network?: { requests?: unknown[] } }).network;
      if (network?.requests) network.requests.length = 0;
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    for (const { uid, request } of requests) {
      // 'done' follows the response (or the skip when no presentation context was accepted).
      request.on('done', () => attempted.add(uid));
    }
    client.on('associationAccepted', () => {
      association = 'released';
      if (opts.signal?.aborted) onAbort();
    });
    client.on('associationRejected', () => {
      association = 'rejected';
      fault = 'association rejected';
    });
    client.on('networkError', (error: Error) => {
      if (association === 'released') association = 'failed';
      fault ??= faultOf(error);
    });
    client.on('closed', settle);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      client.send(peer.host, peer.port, opts.callingAeTitle, peer.aeTitle, {
        connectTimeout: timeoutMs,
        associationTimeout: timeoutMs,
        pduTimeout: timeoutMs,
      });
      streamDataSets(client);
    } catch (error) {
      fault = faultOf(error);
      settle();
    }
  });
}

/** A log-safe fault name (no address, no data). */
function faultOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = /\b(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|ETIMEDOUT|EPIPE)\b/.exec(message)?.[1];
  return code ?? (/timeout/i.test(message) ? 'timeout' : 'network error');
}
