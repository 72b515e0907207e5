/**
 * The SCP's message handlers (PS3.7 9.1): each turns a DIMSE request the library parsed into a call
 * of the archive's services and their result into the response(s). C-ECHO answers Success (PS3.7
 * 9.1.5); C-STORE stores the received data set through the StoreService, as STOW-RS does (PS3.4
 * B.2.3); C-FIND and C-MOVE run find.ts and move.ts (PS3.4 C.4.1.3.1, C.4.2.3.1).
 */
import { Tag } from '../dicom/tags';
import { ServiceUnavailableError } from '../dicomweb/errors';
import { StorageUnavailableError } from '../storage/errors';
import type { SearchService } from '../dicomweb/search';
import type { StoreService } from '../dicomweb/store';
import type { DicomJson } from '../dicom/json';
import { performFind } from './find';
import { toDicomJson, type InformationModel } from './identifier';
import {
  CEchoResponse,
  CFindResponse,
  CMoveResponse,
  CStoreResponse,
  type CEchoRequest,
  type CFindRequest,
  type CMoveRequest,
  type DimseCStoreRequest,
} from './lib';
import { performMove, type MoveDeps } from './move';
import type { MoveResponse } from './move-response';
import { part10File } from './part10-file';
import { ReceivedDataset, type ReceivedDatasets } from './received-datasets';
import { isPending, respond, setErrorFields, type ResponseChannel, type ResponseFields } from './respond';
import { cStoreStatusOf, Status } from './status';

type CFindResponseMessage = InstanceType<typeof CFindResponse>;
type CMoveResponseMessage = InstanceType<typeof CMoveResponse>;

export function cEchoResponse(request: CEchoRequest): InstanceType<typeof CEchoResponse> {
  const response = CEchoResponse.fromRequest(request);
  response.setStatus(Status.Success);
  return response;
}

export interface CStoreDeps {
  readonly store: StoreService;
  /** Base URL written into Retrieve URLs of stored instances (as STOW-RS does). */
  readonly baseUrl: string;
}

/**
 * The response to a C-STORE: its Status, and for a refusal the Error Comment (0000,0902) saying why
 * (PS3.7 C.4.2.1.7). The data set's bytes go back to the budget once it is answered.
 */
export async function cStoreResponse(
  deps: CStoreDeps,
  datasets: ReceivedDatasets,
  request: DimseCStoreRequest,
  callingAeTitle: string | undefined,
): Promise<InstanceType<typeof CStoreResponse>> {
  const dataset = request.getDataset();
  let outcome: { readonly status: number; readonly comment?: string };
  if (!(dataset instanceof ReceivedDataset)) outcome = { status: Status.UnableToProcess };
  else {
    try {
      outcome = await storeReceived(deps, datasets, request, dataset, callingAeTitle);
    } finally {
      dataset.release();
    }
  }
  const response = CStoreResponse.fromRequest(request);
  response.setStatus(outcome.status);
  setErrorFields(response, outcome);
  return response;
}

async function storeReceived(
  deps: CStoreDeps,
  { budget, maxObjectBytes }: ReceivedDatasets,
  request: DimseCStoreRequest,
  dataset: ReceivedDataset,
  callingAeTitle: string | undefined,
): Promise<{ readonly status: number; readonly comment?: string }> {
  if (dataset.refusal?.reason === 'too-large') {
    // Refused: Out of Resources (PS3.2 Table N.7-43): larger than this gateway stores.
    console.error(JSON.stringify({ event: 'c-store-too-large', bytes: dataset.refusal.received, maxObjectBytes }));
    return { status: Status.OutOfResources, comment: `data set over ${maxObjectBytes} bytes, the most stored` };
  }
  if (dataset.refusal?.reason === 'over-budget') {
    // Refused: Out of Resources: the data sets of other associations hold the gateway's memory.
    console.error(
      JSON.stringify({
        event: 'c-store-over-budget',
        bytes: dataset.refusal.received,
        inUse: budget.inUse,
        maxBufferedBytes: budget.limit,
      }),
    );
    return { status: Status.OutOfResources, comment: 'gateway busy storing other data sets, retry later' };
  }
  const file = part10File(
    {
      mediaStorageSOPClassUID: request.getAffectedSopClassUid(),
      mediaStorageSOPInstanceUID: request.getAffectedSopInstanceUid(),
      transferSyntaxUID: dataset.getTransferSyntaxUid(),
      sourceAETitle: callingAeTitle,
    },
    dataset.takeFragments(),
  );
  try {
    return { status: cStoreStatusOf(await deps.store.storeInstance(file, { baseUrl: deps.baseUrl })) };
  } catch (error) {
    // Storage could not be written: Refused, Out of Resources, the one refusal of PS3.2 Table N.7-43
    // that does not blame the data set. The Error Comment says whether a retry can help: S3 or
    // DynamoDB throttling or unreachable (StorageUnavailableError, a 503 for STOW-RS) will pass; any
    // other fault (permissions, a misconfigured bucket or table) needs the administrator first.
    const transient = error instanceof StorageUnavailableError || error instanceof ServiceUnavailableError;
    console.error(JSON.stringify({ event: 'c-store-error', fault: error instanceof Error ? error.name : 'unknown', transient }));
    return {
      status: Status.OutOfResources,
      comment: transient ? 'storage unavailable, retry later' : 'storage failed, see the gateway log',
    };
  }
}

/** What a C-FIND or C-MOVE handler is given besides its request. */
export interface QueryRetrieveOperation<R extends CFindResponseMessage | CMoveResponseMessage> {
  /** The Query/Retrieve Information Model of the request's SOP Class; undefined when not served. */
  readonly model: InformationModel | undefined;
  readonly channel: ResponseChannel<R>;
  /** Aborted by a C-CANCEL for the request (PS3.7 9.3.2.3, 9.3.4.3). */
  readonly signal: AbortSignal;
}

/** Answers a C-FIND: a Pending response per match, then the final one. */
export async function handleCFind(
  deps: { readonly search: SearchService; readonly aeTitle: string },
  request: CFindRequest,
  { model, channel, signal }: QueryRetrieveOperation<CFindResponseMessage>,
): Promise<void> {
  const send = (fields: ResponseFields) => respond(channel, request, CFindResponse.fromRequest(request), fields);
  if (!model || !request.getDataset()) return send({ status: model ? Status.IdentifierDoesNotMatchSOPClass : Status.SOPClassNotSupported });
  const identifier = identifierOf(request);
  if (!identifier) return send(UNREADABLE_IDENTIFIER);
  let final = false;
  try {
    for await (const r of performFind(deps.search, { model, identifier, signal, aeTitle: deps.aeTitle })) {
      final = !isPending(r.status);
      send(r);
    }
  } catch (error) {
    // A match the library cannot encode, or any other fault: the find ends, Unable to process.
    console.error(JSON.stringify({ event: 'c-find-error', fault: error instanceof Error ? error.name : 'unknown' }));
    if (!final) send({ status: Status.UnableToProcess, comment: 'the query could not be processed' });
  }
}

/** Answers a C-MOVE: a Pending response after each sub-operation, then the final one. */
export async function handleCMove(
  deps: MoveDeps,
  request: CMoveRequest,
  { model, channel, signal }: QueryRetrieveOperation<CMoveResponseMessage>,
): Promise<void> {
  const send = (r: MoveResponse) => {
    const response = CMoveResponse.fromRequest(request);
    if (r.counters) {
      // PS3.4 C.4.2.1.6-9 / PS3.2 Table N.7-51: Remaining only while Pending or on Cancel.
      if (r.status === Status.Pending || r.status === Status.Cancel) response.setRemaining(r.counters.remaining);
      response.setCompleted(r.counters.completed);
      response.setFailures(r.counters.failed);
      response.setWarnings(r.counters.warning);
    }
    // C.4.2.1.5: the Identifier of the final response carries Failed SOP Instance UID List (0008,0058).
    const identifier: DicomJson | undefined = r.failedSOPInstanceUIDs?.length
      ? { [Tag.FailedSOPInstanceUIDList]: { vr: 'UI', Value: [...r.failedSOPInstanceUIDs] } }
      : undefined;
    respond(channel, request, response, { ...r, identifier });
  };
  if (!model || !request.getDataset()) return send({ status: model ? Status.IdentifierDoesNotMatchSOPClass : Status.SOPClassNotSupported });
  const identifier = identifierOf(request);
  if (!identifier) return send(UNREADABLE_IDENTIFIER);
  const moveDestination = String(request.getCommandDataset().getElement('MoveDestination') ?? '');
  return performMove(deps, { model, identifier, moveDestination, signal }, send).then(send, (error: unknown) => {
    // performMove answers every fault it knows; this is a response the library could not encode.
    console.error(JSON.stringify({ event: 'c-move-error', fault: error instanceof Error ? error.name : 'unknown' }));
    send({ status: Status.UnableToProcess, comment: 'the move could not be processed' });
  });
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
