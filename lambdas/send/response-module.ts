/**
 * Send Request Response Module (Sup 248 Annex @, Table @.1-1): the payload of Send and Check Send
 * Result responses, a DICOM JSON array with one object. Its tags are those of the C-MOVE response
 * (Sup 248 open issue 6): group 0000 plus Failed SOP Instance UID List (0008,0058).
 */

import { Tag } from '../dicom/tags';
import type { DicomJson, DicomJsonElement } from '../dicom/json';
import { matchedCount, type SubOperationCounters } from './counters';

/** Tags of the module, by keyword: a view on dicom/tags.ts. */
export const SendResponseTag = {
  Status: Tag.Status,
  NumberOfRemainingSuboperations: Tag.NumberOfRemainingSuboperations,
  NumberOfCompletedSuboperations: Tag.NumberOfCompletedSuboperations,
  NumberOfFailedSuboperations: Tag.NumberOfFailedSuboperations,
  NumberOfWarningSuboperations: Tag.NumberOfWarningSuboperations,
  FailedSOPInstanceUIDList: Tag.FailedSOPInstanceUIDList,
  /** Error Comment (0000,0902) of the C-MOVE response: LO, at most 64 characters, no patient data. */
  ErrorComment: '00000902',
} as const;

/**
 * Status (0000,0900) values of a Send response: the C-MOVE statuses of PS3.4 C.4.2.1.5 as listed in
 * PS3.2 Table N.7-51. Sup 248 has no Cancel.
 */
export const SendStatus = {
  /** Sub-operations Complete - No Failures. */
  Success: 0x0000,
  /** Sub-operations Complete - One or more Failures (or warnings). */
  Warning: 0xb000,
  /** Out of Resources - Unable to calculate number of matches: the search itself failed. */
  UnableToCalculateMatches: 0xa701,
  /** Out of Resources - Unable to perform sub-operations: every sub-operation failed. */
  UnableToPerformSubOperations: 0xa702,
  /** Sub-operations are continuing. */
  Pending: 0xff00,
} as const;

/** The module's content, as numbers and UIDs. */
export interface SendRequestResponse {
  readonly status: number;
  /** Type 1C: present exactly when status is Pending. */
  readonly remaining?: number;
  readonly completed: number;
  readonly failed: number;
  readonly warning: number;
  /** Type 1C: present when not Pending and failed is not zero. */
  readonly failedSOPInstanceUIDList?: readonly string[];
  /** Why sub-operations failed, when the archive knows (a final response only). */
  readonly errorComment?: string;
}

/**
 * Status for the counters per PS3.4 C.4.2.3.1: Pending while any sub-operation remains; then Success
 * when all completed (also when nothing matched), Failure (A702) when all failed, Warning otherwise
 * (some failed, or any warned, including all warned).
 */
export function sendStatus(c: SubOperationCounters): number {
  if (c.remaining > 0) return SendStatus.Pending;
  if (c.failed === 0 && c.warning === 0) return SendStatus.Success;
  if (c.completed === 0 && c.warning === 0) return SendStatus.UnableToPerformSubOperations;
  return SendStatus.Warning;
}

/** The module for the counters (and, once final, the UIDs of the failed sub-operations). */
export function sendRequestResponse(c: SubOperationCounters, failedSOPInstanceUIDs: readonly string[] = []): SendRequestResponse {
  const status = sendStatus(c);
  const base = { status, completed: c.completed, failed: c.failed, warning: c.warning };
  if (status === SendStatus.Pending) return { ...base, remaining: c.remaining };
  return c.failed > 0 && failedSOPInstanceUIDs.length > 0 ? { ...base, failedSOPInstanceUIDList: [...failedSOPInstanceUIDs] } : base;
}

/**
 * The final module of a request whose matches could never be determined (the workflow failed before
 * Resolve finished): A701, nothing attempted, so every counter is 0.
 */
export function unableToCalculateMatchesResponse(): SendRequestResponse {
  return { status: SendStatus.UnableToCalculateMatches, completed: 0, failed: 0, warning: 0 };
}

export function isPending(r: SendRequestResponse): boolean {
  return r.status === SendStatus.Pending;
}

/** PS3.18 10.X.3.1 / 10.Y.3.1: 202 (Accepted) while pending, 200 (OK) once final. */
export function httpStatusOf(r: SendRequestResponse): 200 | 202 {
  return isPending(r) ? 202 : 200;
}

/**
 * Encodes the module as DICOM JSON (PS3.18 F.2), an array with one object as in example B.X1.
 * Counters are US; a count above 65535 is emitted as is rather than clipped to a false value.
 */
export function encodeSendRequestResponse(r: SendRequestResponse): DicomJson[] {
  const us = (n: number): DicomJsonElement => ({ vr: 'US', Value: [n] });
  const module: DicomJson = { [SendResponseTag.Status]: us(r.status) };
  if (r.remaining !== undefined) module[SendResponseTag.NumberOfRemainingSuboperations] = us(r.remaining);
  module[SendResponseTag.NumberOfCompletedSuboperations] = us(r.completed);
  module[SendResponseTag.NumberOfFailedSuboperations] = us(r.failed);
  module[SendResponseTag.NumberOfWarningSuboperations] = us(r.warning);
  if (r.failedSOPInstanceUIDList?.length) {
    module[SendResponseTag.FailedSOPInstanceUIDList] = { vr: 'UI', Value: [...r.failedSOPInstanceUIDList] };
  }
  if (r.errorComment) module[SendResponseTag.ErrorComment] = { vr: 'LO', Value: [r.errorComment.slice(0, 64)] };
  return [module];
}

/** A payload that is not a Send Request Response Module (e.g. from a remote origin server). */
export class MalformedSendResponseError extends Error {}

/** Decodes a module encoded by encodeSendRequestResponse or by another origin server. */
export function decodeSendRequestResponse(payload: unknown): SendRequestResponse {
  const module = Array.isArray(payload) ? payload[0] : payload;
  if (Array.isArray(payload) && payload.length !== 1) {
    throw new MalformedSendResponseError(`expected an array with one object, got ${payload.length} items`);
  }
  if (typeof module !== 'object' || module === null) throw new MalformedSendResponseError('expected a DICOM JSON object');
  const el = (tag: string): DicomJsonElement | undefined => (module as DicomJson)[tag];
  const count = (tag: string, required: boolean): number | undefined => {
    const v = el(tag)?.Value?.[0];
    if (v === undefined) {
      if (required) throw new MalformedSendResponseError(`(${tag.slice(0, 4)},${tag.slice(4)}) is required`);
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new MalformedSendResponseError(`(${tag.slice(0, 4)},${tag.slice(4)}) must be a non-negative integer`);
    }
    return v;
  };
  const status = count(SendResponseTag.Status, true)!;
  const remaining = count(SendResponseTag.NumberOfRemainingSuboperations, status === SendStatus.Pending);
  const uids = el(SendResponseTag.FailedSOPInstanceUIDList)?.Value;
  const comment = el(SendResponseTag.ErrorComment)?.Value?.[0];
  if (uids !== undefined && !uids.every((u) => typeof u === 'string')) {
    throw new MalformedSendResponseError('(0008,0058) must hold UIDs');
  }
  return {
    status,
    ...(remaining !== undefined ? { remaining } : {}),
    completed: count(SendResponseTag.NumberOfCompletedSuboperations, true)!,
    failed: count(SendResponseTag.NumberOfFailedSuboperations, true)!,
    warning: count(SendResponseTag.NumberOfWarningSuboperations, true)!,
    ...(uids?.length ? { failedSOPInstanceUIDList: uids as string[] } : {}),
    ...(typeof comment === 'string' && comment ? { errorComment: comment } : {}),
  };
}

/** Counters carried by a module; Remaining is 0 when absent (a final response). */
export function countersOf(r: SendRequestResponse): SubOperationCounters {
  return { remaining: r.remaining ?? 0, completed: r.completed, failed: r.failed, warning: r.warning };
}

/** Number of matches a module accounts for (C.4.2.3.1.1.4: constant at every poll). */
export function matchedOf(r: SendRequestResponse): number {
  return matchedCount(countersOf(r));
}
