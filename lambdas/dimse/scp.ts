/**
 * The DIMSE gateway: an SCP (PS3.7, PS3.8 over TCP, dcmjs-dimse) for Verification (C-ECHO), the
 * Storage SOP Classes (C-STORE), and the Patient Root and Study Root Query/Retrieve FIND and MOVE SOP
 * Classes (C-FIND, C-MOVE, C-CANCEL). This module is the server and its associations: connections,
 * association negotiation (PS3.8 7.1, 9.3), the PDU length guard, C-CANCEL, and each message handed
 * to its handler (handlers.ts), which goes through the archive's services: C-STORE the same
 * StoreService as STOW-RS, C-FIND the same SearchService as QIDO-RS, C-MOVE move.ts. The C-STORE data
 * sets' memory is counted in received-datasets.ts. The same module runs on Fargate and in `npm start`.
 */
import net from 'node:net';
import type { Writable } from 'node:stream';
import { TransferSyntax } from '../dicom/uid';
import { ByteBudget } from './byte-budget';
import { DIMSE_LIMIT_DEFAULTS, defaultMaxBufferedBytes } from './config';
import { cEchoResponse, cStoreResponse, handleCFind, handleCMove, type CStoreDeps } from './handlers';
import type { InformationModel } from './identifier';
import {
  Scp,
  constants,
  type Association,
  type CCancelRequest,
  type CEchoRequest,
  type CEchoResponse,
  type CFindRequest,
  type CFindResponse,
  type CMoveRequest,
  type CMoveResponse,
  type CStoreResponse,
  type Dataset,
  type DimseCStoreRequest,
  type PresentationContext,
} from './lib';
import type { MoveDeps } from './move';
import { abortPdu, MAX_PDU_LENGTH, PduGuard } from './pdu-guard';
import { ReceivedDatasets } from './received-datasets';
import type { ResponseChannel } from './respond';

/** The archive's services the gateway answers from (C-FIND from MoveDeps' search and aeTitle). */
export type DimseGatewayDeps = MoveDeps & CStoreDeps;

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

const IMPLICIT_LE = TransferSyntax.ImplicitVRLittleEndian;
const EXPLICIT_LE = TransferSyntax.ExplicitVRLittleEndian;
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

/** Starts the gateway on host:port (port 0: an ephemeral port). */
export async function startDimseGateway(deps: DimseGatewayDeps, opts: DimseGatewayOptions): Promise<DimseGateway> {
  const sockets = new Set<net.Socket>();
  const maxObjectBytes = opts.maxObjectBytes ?? DIMSE_LIMIT_DEFAULTS.maxObjectBytes;
  const budget = new ByteBudget(opts.maxBufferedBytes ?? defaultMaxBufferedBytes(maxObjectBytes));
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    guardPdus(socket);
    const datasets = new ReceivedDatasets(maxObjectBytes, budget);
    // Counted from the connection: idle ones (no A-ASSOCIATE-RQ) are closed by the ARTIM timeout.
    const admitted = () => sockets.size <= (opts.maxAssociations ?? DIMSE_LIMIT_DEFAULTS.maxAssociations);
    const scp = new ArchiveScp(socket, deps, datasets, admitted);
    scp.on('networkError', () => socket.destroy());
    // The data sets of an association that ended give their bytes back.
    socket.on('close', () => datasets.releaseAll());
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

  constructor(
    socket: net.Socket,
    private readonly deps: DimseGatewayDeps,
    /** This association's C-STORE data sets, counted in the gateway's byte budget. */
    private readonly datasets: ReceivedDatasets,
    /** False when this connection is beyond the number of associations served at once. */
    private readonly admitted: () => boolean,
  ) {
    super(socket, { associationTimeout: 30_000, pduTimeout: 300_000 });
  }

  override associationRequested(association: Association): void {
    this.association = association;
    // PS3.8 7.1.1.7: an association addressed to another AE Title is rejected (permanent, service user).
    if (association.getCalledAeTitle().trim() !== this.deps.aeTitle) {
      this.sendAssociationReject(
        constants.RejectResult.Permanent,
        constants.RejectSource.ServiceUser,
        constants.RejectReason.CalledAeNotRecognized,
      );
      return;
    }
    // PS3.8 9.3.4: beyond the associations served at once, rejected transient by the service provider
    // (presentation related function), local limit exceeded: the requestor may try again later.
    if (!this.admitted()) {
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
    callback(cEchoResponse(request));
  }

  /** Collects a C-STORE data set within the size limit and the budget (the library would collect any size). */
  override createStoreWritableStream(): Writable {
    return this.datasets.collector();
  }

  /** Keeps the received data set bytes as they are (the library would parse them). */
  override createDatasetFromStoreWritableStream(
    writable: Writable,
    context: PresentationContext,
    callback: (dataset: InstanceType<typeof Dataset>) => void,
  ): void {
    callback(this.datasets.received(writable, context.getAcceptedTransferSyntaxUid()!));
  }

  override cStoreRequest(request: DimseCStoreRequest, callback: (response: InstanceType<typeof CStoreResponse>) => void): void {
    void cStoreResponse(this.deps, this.datasets, request, this.association?.getCallingAeTitle().trim()).then(callback);
  }

  override cFindRequest(request: CFindRequest, callback: (responses: InstanceType<typeof CFindResponse>[]) => void): void {
    this.run(request.getMessageId(), (signal) =>
      handleCFind(this.deps, request, {
        model: MODEL_OF[request.getAffectedSopClassUid()],
        channel: this.channel(request, callback),
        signal,
      }),
    );
  }

  override cMoveRequest(request: CMoveRequest, callback: (responses: InstanceType<typeof CMoveResponse>[]) => void): void {
    this.run(request.getMessageId(), (signal) =>
      handleCMove(this.deps, request, {
        model: MODEL_OF[request.getAffectedSopClassUid()],
        channel: this.channel(request, callback),
        signal,
      }),
    );
  }

  override cCancelRequest(request: CCancelRequest): void {
    this.running.get(request.getMessageIdBeingRespondedTo())?.abort();
  }

  /** Runs a C-FIND or C-MOVE where a C-CANCEL for its Message ID can abort it, until it ends. */
  private run(messageId: number, operation: (signal: AbortSignal) => Promise<void>): void {
    const controller = new AbortController();
    this.running.set(messageId, controller);
    void operation(controller.signal).finally(() => this.running.delete(messageId));
  }

  /** Pending responses go out directly; the library's callback may be called once, with the final one. */
  private channel<R extends InstanceType<typeof CFindResponse> | InstanceType<typeof CMoveResponse>>(
    request: CFindRequest | CMoveRequest,
    callback: (responses: R[]) => void,
  ): ResponseChannel<R> {
    return { pending: (response) => this.sendResponse(request, response), final: (response) => callback([response]) };
  }
}
