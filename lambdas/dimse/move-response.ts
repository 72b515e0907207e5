/**
 * The response of a C-MOVE (PS3.4 C.4.2.1.5, PS3.7 9.1.4): what the SCP (move.ts) and its Proxy
 * Option (move-proxy.ts) both answer, and the message handlers encode.
 */
import type { SubOperationCounters } from '../send/counters';

/** A C-MOVE response: its Status, the four counters (0000,1020-1023) and the related fields. */
export interface MoveResponse {
  readonly status: number;
  readonly counters?: SubOperationCounters;
  /** Failed SOP Instance UID List (0008,0058), in the Identifier of a final response (C.4.2.1.5). */
  readonly failedSOPInstanceUIDs?: readonly string[];
  /** Error Comment (0000,0902). */
  readonly comment?: string;
  /** Offending Element (0000,0901). */
  readonly offendingElements?: readonly string[];
}
