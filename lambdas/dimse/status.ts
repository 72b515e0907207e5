/**
 * DIMSE Status (0000,0900) values of the services the gateway plays, as the SCP tables of PS3.2
 * N.7.3.2.5.2 (C-STORE, Table N.7-43) and N.7.3.2.7.3-4 (C-FIND, C-MOVE, Tables N.7-50/51) list
 * them, and the classification of C-STORE responses the gateway receives as an SCU (Table N.7-42).
 * Pure: no I/O.
 */
import { FailureReason, WarningReason } from '../dicomweb/status-codes';
import type { StoreOutcome } from '../dicomweb/store';

export const Status = {
  Success: 0x0000,
  /** C-STORE: Coercion of Data Elements; C-MOVE: Sub-operations Complete - One or more Failures. */
  Warning: 0xb000,
  ElementsDiscarded: 0xb006,
  DataSetDoesNotMatchSOPClassWarning: 0xb007,
  /** C-STORE / C-FIND: Refused: Out of Resources. */
  OutOfResources: 0xa700,
  /** C-MOVE: Out of Resources - Unable to calculate number of matches. */
  UnableToCalculateMatches: 0xa701,
  /** C-MOVE: Out of Resources - Unable to perform sub-operations. */
  UnableToPerformSubOperations: 0xa702,
  /** C-MOVE: Move Destination unknown. */
  MoveDestinationUnknown: 0xa801,
  /** C-FIND / C-MOVE: Identifier does not match SOP Class. */
  IdentifierDoesNotMatchSOPClass: 0xa900,
  /** C-STORE: Error: Data Set does not match SOP Class. */
  DataSetDoesNotMatchSOPClassError: 0xa901,
  /** C-STORE: Error: Cannot understand; C-FIND / C-MOVE: Unable to process. */
  UnableToProcess: 0xc000,
  SOPClassNotSupported: 0x0122,
  /** C-STORE: Processing failure (PS3.7 C.4), the store service's Failure Reason 0110 as is. */
  ProcessingFailure: 0x0110,
  Cancel: 0xfe00,
  Pending: 0xff00,
  /** C-FIND: Matches are continuing - one or more Optional Keys were not supported. */
  PendingWithUnsupportedOptionalKeys: 0xff01,
} as const;

/**
 * The C-STORE response status of a stored or refused instance (PS3.2 Table N.7-43), from the
 * Failure/Warning Reason the store service gives it (PS3.2 J.4.2, shared with STOW-RS).
 */
export function cStoreStatusOf(outcome: StoreOutcome): number {
  if ('referenced' in outcome) {
    switch (outcome.referenced.warningReason) {
      case undefined:
        return Status.Success;
      case WarningReason.ElementsDiscarded:
        return Status.ElementsDiscarded;
      case WarningReason.DataSetDoesNotMatchSOPClass:
        return Status.DataSetDoesNotMatchSOPClassWarning;
      default:
        return Status.Warning;
    }
  }
  switch (outcome.failed.failureReason) {
    case FailureReason.OutOfMemory:
    case FailureReason.OutOfStorage:
      return Status.OutOfResources;
    case FailureReason.CannotUnderstand:
    case FailureReason.ReferencedTransferSyntaxNotSupported:
      return Status.UnableToProcess;
    // The study or series is being deleted (lambdas/dicomweb/delete.ts): a later retry succeeds.
    case FailureReason.ProcessingFailure:
      return Status.ProcessingFailure;
    // Data Set does not match SOP Class, and a SOP Instance UID already stored with other content
    // or under another study or series (the STOW-RS duplicate rule, 0111).
    default:
      return Status.DataSetDoesNotMatchSOPClassError;
  }
}

export type SubOperationResult = 'completed' | 'warning' | 'failed';

/**
 * How a C-STORE SCU counts the status of a C-STORE response (PS3.2 Table N.7-42, PS3.4 C.4.2.3.1.1.4):
 * 0000 completed; B000, B006, B007 warning; 0112, 0117, 0210-0214, A7xx, A9xx, Cxxx and any other
 * status failed (not known to be stored).
 */
export function cStoreResultOf(status: number): SubOperationResult {
  if (status === Status.Success) return 'completed';
  if (status === Status.Warning || status === Status.ElementsDiscarded || status === Status.DataSetDoesNotMatchSOPClassWarning) {
    return 'warning';
  }
  return 'failed';
}
