/**
 * The DIMSE gateway: an SCP (PS3.7, PS3.8 over TCP, dcmjs-dimse) for Verification (C-ECHO), the
 * Storage SOP Classes (C-STORE), and the Patient Root and Study Root Query/Retrieve FIND and MOVE SOP
 * Classes (C-FIND, C-MOVE, C-CANCEL). It holds no logic of its own: C-STORE goes through the same
 * StoreService as STOW-RS, C-FIND through the same SearchService as QIDO-RS (find.ts), C-MOVE
 * through move.ts. The same module runs on Fargate and in `npm start`.
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import { ServiceUnavailableError } from '../dicomweb/errors';
import type { SearchService } from '../dicomweb/search';
import type { StoreService } from '../dicomweb/store';
import type { DicomJson } from '../storage/ports';
import { ByteBudget } from './byte-budget';
import { DIMSE_LIMIT_DEFAULTS, defaultMaxBufferedBytes } from './config';
import { performFind, type FindResponse } from './find';
import { toDicomJson, toNaturalized, type InformationModel } from './identifier';
import {
  CEchoResponse,
  CFindResponse,
  CMoveResponse,
  CStoreResponse,
  Dataset,
  Scp,
  constants,
  type Association,
  type CCancelRequest,
  type CEchoRequest,
  type CFindRequest,
  type CMoveRequest,
  type DimseCStoreRequest,
  type PresentationContext,
} from './lib';
import { performMove, type MoveDeps, type MoveResponse } from './move';
import { part10File } from './part10-file';
import { abortPdu, MAX_PDU_LENGTH, PduGuard } from './pdu-guard';
import { cStoreStatusOf, Status } from './status';

export interface DimseGatewayDeps extends MoveDeps {
  readonly store: StoreService;
  readonly search: SearchService;
  /** Base URL written into Retrieve URLs of stored instances (as STOW-RS does). */
  readonly baseUrl: string;
}

export interface DimseGatewayOptions {
  readonly port: number;
  readonly host?: string;
  /** Connections served at once; the association requested on one more is rejected (default 32). */
  readonly maxAssociations?: number;
  /** Largest C-STORE data set stored; a larger one is refused with A700 (default 256 MiB). */
  readonly maxObjectBytes?: number;
  /**
   * C-STORE data set bytes held at once over all associations (./byte-budget.ts); a data set that does
   * not fit is refused with A700 (default the larger of 256 MiB and maxObjectBytes).
   */
  readonly maxBufferedBytes?: number;
}

export interface DimseGateway {
  readonly port: number;
  readonly aeTitle: string;
  close(): Promise<void>;
}

/** PS3.4 Annex B.5, C.6 and A.4: the abstract syntaxes served. */
export const SopClassUID = {
  Verification: '1.2.840.10008.1.1',
  PatientRootFind: '1.2.840.10008.5.1.4.1.2.1.1',
  PatientRootMove: '1.2.840.10008.5.1.4.1.2.1.2',
  StudyRootFind: '1.2.840.10008.5.1.4.1.2.2.1',
  StudyRootMove: '1.2.840.10008.5.1.4.1.2.2.2',
} as const;

const MODEL_OF: Readonly<Record<string, InformationModel>> = {
  [SopClassUID.PatientRootFind]: 'PATIENT',
  [SopClassUID.PatientRootMove]: 'PATIENT',
  [SopClassUID.StudyRootFind]: 'STUDY',
  [SopClassUID.StudyRootMove]: 'STUDY',
};

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
/** PS3.4 B.5: every Storage SOP Class UID is under this root (Standard SOP Classes). */
const STORAGE_ROOT = '1.2.840.10008.5.1.4.1.1.';

/**
 * The transfer syntax accepted for a proposed context (PS3.8 9.3.2.2), or undefined to reject it.
 * Storage: any proposed syntax, Explicit VR Little Endian preferred (instances are stored as received,
 * never decompressed); commands with an Identifier: the two uncompressed little endian syntaxes.
 */
export function acceptedTransferSyntax(abstractSyntax: string, proposed: readonly string[]): string | undefined {
  const isStorage = abstractSyntax.startsWith(STORAGE_ROOT);
  if (!isStorage && abstractSyntax !== SopClassUID.Verification && !MODEL_OF[abstractSyntax]) return undefined;
  for (const ts of [EXPLICIT_LE, IMPLICIT_LE]) if (proposed.includes(ts)) return ts;
  return isStorage ? proposed.find((ts) => /^[0-9.]{1,64}$/.test(ts)) : undefined;
}

/** Why a C-STORE data set was read to its end without being kept. */
type Refusal = { readonly reason: 'too-large' | 'over-budget'; readonly received: number };

/**
 * A C-STORE data set as received: the bytes in the accepted transfer syntax, parsed by no one; or,
 * for one that was not kept, why and how many bytes it had. `release` gives its bytes back to the
 * gateway's budget once it is stored.
 */
class ReceivedDataset extends Dataset {
  constructor(
    private fragments: Buffer[],
    transferSyntaxUID: string,
    readonly refusal: Refusal | undefined,
    readonly release: () => void,
  ) {
    super({}, transferSyntaxUID);
  }

  /**
   * The data set's bytes as they arrived (P-DATA fragments), handed over once: the Part 10 file is
   * built from them in one copy and they are let go, so a data set is held twice only while it is.
   */
  takeFragments(): Buffer[] {
    const { fragments } = this;
    this.fragments = [];
    return fragments;
  }
}

/**
 * Collects the P-DATA fragments of one C-STORE data set, taking their bytes from the gateway's budget:
 * beyond `maxBytes`, or when the budget has no more, it gives back what it took, counts what still
 * comes and keeps none of it, so the association goes on and the C-STORE is refused, not the
 * gateway's memory exhausted.
 */
class DatasetCollector extends Writable {
  private chunks: Buffer[] = [];
  /** Bytes taken from the budget and not given back. */
  private held = 0;
  private received = 0;
  private refused?: Refusal['reason'];

  constructor(
    private readonly maxBytes: number,
    private readonly budget: ByteBudget,
  ) {
    super({ highWaterMark: MAX_PDU_LENGTH });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.received += chunk.length;
    if (!this.refused) {
      if (this.received > this.maxBytes) this.refuse('too-large');
      else if (!this.budget.take(chunk.length)) this.refuse('over-budget');
      else {
        this.held += chunk.length;
        this.chunks.push(chunk);
      }
    }
    callback();
  }

  get refusal(): Refusal | undefined {
    return this.refused && { reason: this.refused, received: this.received };
  }

  /** The data set's fragments, handed over (the budget counts their bytes until release()). */
  takeChunks(): Buffer[] {
    const { chunks } = this;
    this.chunks = [];
    return chunks;
  }

  /** Gives the budget back what this data set took (a second call gives back nothing). */
  release(): void {
    this.budget.give(this.held);
    this.held = 0;
  }

  private refuse(reason: Refusal['reason']): void {
    this.refused = reason;
    this.chunks = [];
    this.release();
  }
}

/** Starts the gateway on host:port (port 0: an ephemeral port). */
export async function startDimseGateway(deps: DimseGatewayDeps, opts: DimseGatewayOptions): Promise<DimseGateway> {
  const sockets = new Set<net.Socket>();
  const maxObjectBytes = opts.maxObjectBytes ?? DIMSE_LIMIT_DEFAULTS.maxObjectBytes;
  const budget = new ByteBudget(opts.maxBufferedBytes ?? defaultMaxBufferedBytes(maxObjectBytes));
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    guardPdus(socket);
    // Counted from the connection: idle ones (no A-ASSOCIATE-RQ) are closed by the ARTIM timeout.
    const scp = new ArchiveScp(socket, deps, {
      admitted: () => sockets.size <= (opts.maxAssociations ?? DIMSE_LIMIT_DEFAULTS.maxAssociations),
      maxObjectBytes,
      budget,
    });
    scp.on('networkError', () => socket.destroy());
    // The data sets of an association that ended give their bytes back.
    socket.on('close', () => scp.releaseAll());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    aeTitle: deps.aeTitle,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Reads each PDU header before the library does (its listener comes after this one) and aborts the
 * association on a PDU longer than its type allows (./pdu-guard.ts): A-ABORT from the service
 * provider, invalid PDU parameter value (PS3.8 9.3.8), then the transport connection is closed
 * (PS3.8 9.1.6). The library sees at most the chunk that carried the header; what the peer still
 * sends is read and dropped, so that it receives the A-ABORT rather than a reset, until it closes
 * or ABORT_LINGER_MS have passed.
 */
function guardPdus(socket: net.Socket): void {
  const guard = new PduGuard();
  socket.on('data', (chunk: Buffer) => {
    const violation = guard.check(chunk);
    if (!violation) return;
    socket.removeAllListeners('data');
    socket.on('data', () => undefined);
    // The peer's address and the PDU's header only: no data set, no patient data.
    console.error(JSON.stringify({ event: 'dimse-pdu-too-long', remoteAddress: socket.remoteAddress, ...violation }));
    socket.end(abortPdu());
    socket.once('end', () => socket.destroy());
    setTimeout(() => socket.destroy(), ABORT_LINGER_MS).unref();
  });
}

/** How long an aborted connection is read (and dropped) for its peer to take the A-ABORT and close. */
const ABORT_LINGER_MS = 2_000;

class ArchiveScp extends Scp {
  private association?: Association;
  /** C-FIND / C-MOVE in progress by Message ID, for C-CANCEL (PS3.7 9.3.2.3, 9.3.4.3). */
  private readonly running = new Map<number, AbortController>();
  /** C-STORE data sets arriving or being stored, whose bytes the budget counts. */
  private readonly collecting = new Set<DatasetCollector>();

  constructor(
    socket: net.Socket,
    private readonly deps: DimseGatewayDeps,
    private readonly limits: {
      /** False when this connection is beyond the number of associations served at once. */
      readonly admitted: () => boolean;
      readonly maxObjectBytes: number;
      readonly budget: ByteBudget;
    },
  ) {
    super(socket, { associationTimeout: 30_000, pduTimeout: 300_000 });
  }

  override associationRequested(association: Association): void {
    this.association = association;
    // PS3.8 7.1.1.7: an association addressed to another AE Title is rejected (permanent, service user).
    if (association.getCalledAeTitle().trim() !== this.deps.aeTitle) {
      this.sendAssociationReject(constants.RejectResult.Permanent, constants.RejectSource.ServiceUser, constants.RejectReason.CalledAeNotRecognized);
      return;
    }
    // PS3.8 9.3.4: beyond the associations served at once, rejected transient by the service provider
    // (presentation related function), local limit exceeded: the requestor may try again later.
    if (!this.limits.admitted()) {
      this.sendAssociationReject(
        constants.RejectResult.Transient,
        constants.RejectSource.ServiceProviderPresentation,
        constants.RejectReason.LocalLimitExceeded,
      );
      return;
    }
    for (const { id } of association.getPresentationContexts()) {
      const context: PresentationContext = association.getPresentationContext(id);
      const ts = acceptedTransferSyntax(context.getAbstractSyntaxUid(), context.getTransferSyntaxUids());
      if (ts) context.setResult(constants.PresentationContextResult.Accept, ts);
      else if (acceptedTransferSyntax(context.getAbstractSyntaxUid(), [EXPLICIT_LE])) {
        context.setResult(constants.PresentationContextResult.RejectTransferSyntaxesNotSupported);
      } else context.setResult(constants.PresentationContextResult.RejectAbstractSyntaxNotSupported);
    }
    // PS3.8 D.1: the Maximum Length Received announced in the A-ASSOCIATE-AC is what the PDU guard
    // enforces, also for a requestor that announced 0 (no limit), which then receives PDUs of at most
    // that length too (the library announces and sends the smaller of this and its own maximum).
    const requested = association.getMaxPduLength();
    association.setMaxPduLength(requested === 0 ? MAX_PDU_LENGTH : Math.min(requested, MAX_PDU_LENGTH));
    this.sendAssociationAccept();
  }

  override associationReleaseRequested(): void {
    this.sendAssociationReleaseResponse();
  }

  override abort(): void {
    for (const controller of this.running.values()) controller.abort();
  }

  override cEchoRequest(request: CEchoRequest, callback: (response: InstanceType<typeof CEchoResponse>) => void): void {
    const response = CEchoResponse.fromRequest(request);
    response.setStatus(Status.Success);
    callback(response);
  }

  /** Collects a C-STORE data set within the size limit and the budget (the library would collect any size). */
  override createStoreWritableStream(): Writable {
    const collector = new DatasetCollector(this.limits.maxObjectBytes, this.limits.budget);
    this.collecting.add(collector);
    return collector;
  }

  /** The association ended: gives back the bytes of its data sets, also of one still being stored (counted no longer). */
  releaseAll(): void {
    for (const collector of this.collecting) collector.release();
    this.collecting.clear();
  }

  /** Keeps the received data set bytes as they are (the library would parse them). */
  override createDatasetFromStoreWritableStream(
    writable: Writable,
    context: PresentationContext,
    callback: (dataset: InstanceType<typeof Dataset>) => void,
  ): void {
    const collected = writable as DatasetCollector;
    const { refusal } = collected;
    const fragments = refusal ? [] : collected.takeChunks();
    // Given back once stored; or when the association ends, should the library never ask for it to be.
    const release = () => {
      collected.release();
      this.collecting.delete(collected);
    };
    callback(new ReceivedDataset(fragments, context.getAcceptedTransferSyntaxUid()!, refusal, release));
  }

  override cStoreRequest(request: DimseCStoreRequest, callback: (response: InstanceType<typeof CStoreResponse>) => void): void {
    void this.store(request).then(({ status, comment }) => {
      const response = CStoreResponse.fromRequest(request);
      response.setStatus(status);
      setErrorFields(response, { comment });
      callback(response);
    });
  }

  /** The C-STORE's Status, and for a refusal the Error Comment (0000,0902) saying why (PS3.7 C.4.2.1.7). */
  private async store(request: DimseCStoreRequest): Promise<{ readonly status: number; readonly comment?: string }> {
    const dataset = request.getDataset();
    if (!(dataset instanceof ReceivedDataset)) return { status: Status.UnableToProcess };
    try {
      return await this.storeReceived(request, dataset);
    } finally {
      dataset.release();
    }
  }

  private async storeReceived(request: DimseCStoreRequest, dataset: ReceivedDataset): Promise<{ readonly status: number; readonly comment?: string }> {
    const { budget, maxObjectBytes } = this.limits;
    if (dataset.refusal?.reason === 'too-large') {
      // Refused: Out of Resources (PS3.2 Table N.7-43): larger than this gateway stores.
      console.error(JSON.stringify({ event: 'c-store-too-large', bytes: dataset.refusal.received, maxObjectBytes }));
      return { status: Status.OutOfResources, comment: `data set over ${maxObjectBytes} bytes, the most stored` };
    }
    if (dataset.refusal?.reason === 'over-budget') {
      // Refused: Out of Resources: the data sets of other associations hold the gateway's memory now.
      console.error(JSON.stringify({ event: 'c-store-over-budget', bytes: dataset.refusal.received, inUse: budget.inUse, maxBufferedBytes: budget.limit }));
      return { status: Status.OutOfResources, comment: 'gateway busy storing other data sets, retry later' };
    }
    const file = part10File(
      {
        mediaStorageSOPClassUID: request.getAffectedSopClassUid(),
        mediaStorageSOPInstanceUID: request.getAffectedSopInstanceUid(),
        transferSyntaxUID: dataset.getTransferSyntaxUid(),
        sourceAETitle: this.association?.getCallingAeTitle().trim(),
      },
      dataset.takeFragments(),
    );
    try {
      return { status: cStoreStatusOf(await this.deps.store.storeInstance(file, { baseUrl: this.deps.baseUrl })) };
    } catch (error) {
      // Storage could not be written: Refused, Out of Resources, the one refusal of PS3.2 Table N.7-43
      // that does not blame the data set. The Error Comment says whether a retry can help: S3 or
      // DynamoDB throttling or unreachable (ServiceUnavailableError, a 503 for STOW-RS) will pass; any
      // other fault (permissions, a misconfigured bucket or table) needs the administrator first.
      const transient = error instanceof ServiceUnavailableError;
      console.error(JSON.stringify({ event: 'c-store-error', fault: error instanceof Error ? error.name : 'unknown', transient }));
      return { status: Status.OutOfResources, comment: transient ? 'storage unavailable, retry later' : 'storage failed, see the gateway log' };
    }
  }

  override cFindRequest(request: CFindRequest, callback: (responses: InstanceType<typeof CFindResponse>[]) => void): void {
    const model = MODEL_OF[request.getAffectedSopClassUid()];
    const respond = (r: FindResponse) => {
      const response = CFindResponse.fromRequest(request);
      response.setStatus(r.status);
      if (r.identifier) response.setDataset(new Dataset(toNaturalized(r.identifier), transferSyntaxOf(request)));
      setErrorFields(response, r);
      // The library's callback may be called once: Pending responses go out directly.
      if (isPending(r.status)) this.sendResponse(request, response);
      else callback([response]);
    };
    if (!model || !request.getDataset()) return respond({ status: model ? Status.IdentifierDoesNotMatchSOPClass : Status.SOPClassNotSupported });
    const identifier = identifierOf(request);
    if (!identifier) return respond(UNREADABLE_IDENTIFIER);
    const controller = this.track(request.getMessageId());
    let final = false;
    void (async () => {
      try {
        for await (const r of performFind(this.deps.search, { model, identifier, signal: controller.signal, aeTitle: this.deps.aeTitle })) {
          final = !isPending(r.status);
          respond(r);
        }
      } catch (error) {
        // A match the library cannot encode, or any other fault: the find ends, Unable to process.
        console.error(JSON.stringify({ event: 'c-find-error', fault: error instanceof Error ? error.name : 'unknown' }));
        if (!final) respond({ status: Status.UnableToProcess, comment: 'the query could not be processed' });
      } finally {
        this.running.delete(request.getMessageId());
      }
    })();
  }

  override cMoveRequest(request: CMoveRequest, callback: (responses: InstanceType<typeof CMoveResponse>[]) => void): void {
    const model = MODEL_OF[request.getAffectedSopClassUid()];
    const respond = (r: MoveResponse) => {
      const response = CMoveResponse.fromRequest(request);
      response.setStatus(r.status);
      if (r.counters) {
        // PS3.4 C.4.2.1.6-9 / PS3.2 Table N.7-51: Remaining only while Pending or on Cancel.
        if (r.status === Status.Pending || r.status === Status.Cancel) response.setRemaining(r.counters.remaining);
        response.setCompleted(r.counters.completed);
        response.setFailures(r.counters.failed);
        response.setWarnings(r.counters.warning);
      }
      if (r.failedSOPInstanceUIDs?.length) {
        // C.4.2.1.5: the Identifier of the final response carries Failed SOP Instance UID List (0008,0058).
        const identifier: DicomJson = { '00080058': { vr: 'UI', Value: [...r.failedSOPInstanceUIDs] } };
        response.setDataset(new Dataset(toNaturalized(identifier), transferSyntaxOf(request)));
      }
      setErrorFields(response, r);
      if (isPending(r.status)) this.sendResponse(request, response);
      else callback([response]);
    };
    if (!model || !request.getDataset()) return respond({ status: model ? Status.IdentifierDoesNotMatchSOPClass : Status.SOPClassNotSupported });
    const identifier = identifierOf(request);
    if (!identifier) return respond(UNREADABLE_IDENTIFIER);
    const controller = this.track(request.getMessageId());
    const moveDestination = String(request.getCommandDataset().getElement('MoveDestination') ?? '');
    void performMove(this.deps, { model, identifier, moveDestination, signal: controller.signal }, respond)
      .then(respond, (error: unknown) => {
        // performMove answers every fault it knows; this is a response the library could not encode.
        console.error(JSON.stringify({ event: 'c-move-error', fault: error instanceof Error ? error.name : 'unknown' }));
        respond({ status: Status.UnableToProcess, comment: 'the move could not be processed' });
      })
      .finally(() => this.running.delete(request.getMessageId()));
  }

  override cCancelRequest(request: CCancelRequest): void {
    this.running.get(request.getMessageIdBeingRespondedTo())?.abort();
  }

  private track(messageId: number): AbortController {
    const controller = new AbortController();
    this.running.set(messageId, controller);
    return controller;
  }
}

function isPending(status: number): boolean {
  return status === Status.Pending || status === Status.PendingWithUnsupportedOptionalKeys;
}

/**
 * The request's Identifier as DICOM JSON; undefined when dcmjs cannot convert what the peer sent (an
 * IS element holding a lone backslash, for one: two empty values that dcmjs reads as nulls).
 */
function identifierOf(request: CFindRequest | CMoveRequest): DicomJson | undefined {
  try {
    return toDicomJson(request.getDataset()!.getElements());
  } catch {
    return undefined;
  }
}

/** PS3.4 C.4.1.1.4 / C.4.2.1.4: an Identifier that cannot be read does not match the SOP Class (A900). */
const UNREADABLE_IDENTIFIER = { status: Status.IdentifierDoesNotMatchSOPClass, comment: 'the Identifier cannot be read' } as const;

function transferSyntaxOf(request: CFindRequest | CMoveRequest): string {
  return request.getDataset()?.getTransferSyntaxUid() ?? IMPLICIT_LE;
}

/** Error Comment (0000,0902) and Offending Element (0000,0901), PS3.7 C.4. */
function setErrorFields(
  response: { setErrorComment(c: string): void; getCommandDataset(): { setElement(tag: string, value: string): void } },
  r: { readonly comment?: string; readonly offendingElements?: readonly string[] },
): void {
  if (r.comment) response.setErrorComment(r.comment.slice(0, 64));
  // AT values go to dcmjs as the tag's number (0x00080020), not as its hex string.
  if (r.offendingElements?.length) response.getCommandDataset().setElement('OffendingElement', r.offendingElements.map((t) => parseInt(t.slice(0, 8), 16)) as unknown as string);
}
