/**
 * The responses of the SCP's operations as the library sends them: C-FIND and C-MOVE answer with any
 * number of Pending responses, then one final response (PS3.7 9.1.2.2, 9.1.4.2), each with its Status,
 * Identifier and error fields (PS3.7 C.4); C-STORE with its error fields only.
 */
import type { DicomJson } from '../dicom/json';
import { TransferSyntax } from '../dicom/uid';
import { toNaturalized } from './identifier';
import { Dataset, type CFindRequest, type CFindResponse, type CMoveRequest, type CMoveResponse } from './lib';
import { Status } from './status';

type QueryRetrieveRequest = CFindRequest | CMoveRequest;
type QueryRetrieveResponse = InstanceType<typeof CFindResponse> | InstanceType<typeof CMoveResponse>;

/** The fields of a C-FIND or C-MOVE response other than C-MOVE's sub-operation counters. */
export interface ResponseFields {
  readonly status: number;
  /** The response's Identifier, in the transfer syntax of the request's. */
  readonly identifier?: DicomJson;
  /** Error Comment (0000,0902). */
  readonly comment?: string;
  /** Offending Element (0000,0901), as 8 hex digits each. */
  readonly offendingElements?: readonly string[];
}

/**
 * Where the responses of one C-FIND or C-MOVE go: a Pending one straight onto the association, the
 * final one through the library's callback, which may be called once.
 */
export interface ResponseChannel<R extends QueryRetrieveResponse> {
  pending(response: R): void;
  final(response: R): void;
}

/** Fills `response` for `request` with `fields` and sends it: Pending on, anything else as the final one. */
export function respond<R extends QueryRetrieveResponse>(
  channel: ResponseChannel<R>,
  request: QueryRetrieveRequest,
  response: R,
  fields: ResponseFields,
): void {
  response.setStatus(fields.status);
  if (fields.identifier) response.setDataset(new Dataset(toNaturalized(fields.identifier), transferSyntaxOf(request)));
  setErrorFields(response, fields);
  if (isPending(fields.status)) channel.pending(response);
  else channel.final(response);
}

export function isPending(status: number): boolean {
  return status === Status.Pending || status === Status.PendingWithUnsupportedOptionalKeys;
}

function transferSyntaxOf(request: QueryRetrieveRequest): string {
  return request.getDataset()?.getTransferSyntaxUid() ?? TransferSyntax.ImplicitVRLittleEndian;
}

/** Error Comment (0000,0902) and Offending Element (0000,0901), PS3.7 C.4. */
export function setErrorFields(
  response: { setErrorComment(c: string): void; getCommandDataset(): { setElement(tag: string, value: string): void } },
  fields: { readonly comment?: string; readonly offendingElements?: readonly string[] },
): void {
  if (fields.comment) response.setErrorComment(fields.comment.slice(0, 64));
  // AT values go to dcmjs as the tag's number (0x00080020), not as its hex string.
  if (fields.offendingElements?.length) {
    response
      .getCommandDataset()
      .setElement('OffendingElement', fields.offendingElements.map((t) => parseInt(t.slice(0, 8), 16)) as unknown as string);
  }
}
