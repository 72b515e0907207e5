/**
 * The DIMSE gateway's first look at what a peer sends: the PDU headers of the raw TCP stream, before
 * dcmjs-dimse reads them. Every PDU starts with its type (1 byte), a reserved byte and the length of
 * the rest (4 bytes, big endian; PS3.8 9.3.1). The library collects a PDU whole, whatever length its
 * header announces, copying what it has so far at each chunk: one peer announcing a 4 GB PDU (a port
 * scanner, a confused client) made the gateway copy gigabytes and grow until it ran out of memory.
 * The guard aborts such an association instead (A-ABORT, PS3.8 9.3.8) after reading only headers.
 */

/** PDU types of PS3.8 9.3 (Table 9-11 and the sections that follow). */
export const PduType = {
  AssociateRQ: 0x01,
  AssociateAC: 0x02,
  AssociateRJ: 0x03,
  PDataTF: 0x04,
  ReleaseRQ: 0x05,
  ReleaseRP: 0x06,
  Abort: 0x07,
} as const;

/**
 * Maximum Length Received this gateway announces (PS3.8 D.1): the largest P-DATA-TF PDU a peer may
 * send it. Also what an association requestor that announces 0 (no limit) is sent in P-DATA-TF PDUs.
 */
export const MAX_PDU_LENGTH = 256 * 1024;

/**
 * Largest association PDU accepted. PS3.8 sets no limit; an A-ASSOCIATE-RQ proposing all 128
 * presentation contexts with ten transfer syntaxes each stays under 100 KB.
 */
export const MAX_ASSOCIATION_PDU_LENGTH = 1024 * 1024;

/**
 * Length of A-ASSOCIATE-RJ, A-RELEASE-RQ/RP and A-ABORT PDUs: PS3.8 fixes it at 4; the guard only
 * bounds it, a peer that is slightly off is left to the library.
 */
const MAX_FIXED_PDU_LENGTH = 1024;

/** The length each PDU type may announce; a type not listed is not a PDU (the library refuses it). */
const MAX_LENGTH: Readonly<Record<number, number>> = {
  [PduType.AssociateRQ]: MAX_ASSOCIATION_PDU_LENGTH,
  // An A-ASSOCIATE-AC sent to an acceptor is unexpected; the library answers it, the guard bounds it.
  [PduType.AssociateAC]: MAX_ASSOCIATION_PDU_LENGTH,
  [PduType.AssociateRJ]: MAX_FIXED_PDU_LENGTH,
  [PduType.PDataTF]: MAX_PDU_LENGTH,
  [PduType.ReleaseRQ]: MAX_FIXED_PDU_LENGTH,
  [PduType.ReleaseRP]: MAX_FIXED_PDU_LENGTH,
  [PduType.Abort]: MAX_FIXED_PDU_LENGTH,
};

/** A-ABORT source and reason (PS3.8 9.3.8, Table 9-26): service-provider, invalid-PDU-parameter value. */
export const ABORT_SOURCE_SERVICE_PROVIDER = 2;
export const ABORT_REASON_INVALID_PDU_PARAMETER_VALUE = 6;

/** A-ABORT PDU (PS3.8 9.3.8): type 07, reserved, length 4, two reserved bytes, source, reason. */
export function abortPdu(source = ABORT_SOURCE_SERVICE_PROVIDER, reason = ABORT_REASON_INVALID_PDU_PARAMETER_VALUE): Buffer {
  return Buffer.from([PduType.Abort, 0, 0, 0, 0, 4, 0, 0, source, reason]);
}

export interface PduViolation {
  readonly pduType: number;
  readonly length: number;
  readonly maxLength: number;
}

/**
 * Follows the PDU framing of one connection's byte stream: reads each 6-byte header, skips the
 * announced length, and reports the first PDU longer than its type allows.
 */
export class PduGuard {
  private readonly header = Buffer.alloc(6);
  private headerBytes = 0;
  /** Bytes of the current PDU's body still to come. */
  private remaining = 0;
  /** After a byte that is no PDU type the framing is lost; the library closes such a connection. */
  private lost = false;

  /** Feeds the next chunk; answers the violation the chunk reveals, if any. */
  check(chunk: Uint8Array): PduViolation | undefined {
    let at = 0;
    while (!this.lost && at < chunk.length) {
      if (this.remaining > 0) {
        const skipped = Math.min(this.remaining, chunk.length - at);
        this.remaining -= skipped;
        at += skipped;
        continue;
      }
      const copied = Math.min(6 - this.headerBytes, chunk.length - at);
      this.header.set(chunk.subarray(at, at + copied), this.headerBytes);
      this.headerBytes += copied;
      at += copied;
      if (this.headerBytes < 6) break;
      this.headerBytes = 0;
      const pduType = this.header[0]!;
      const length = this.header.readUInt32BE(2);
      const maxLength = MAX_LENGTH[pduType];
      if (maxLength === undefined) {
        this.lost = true;
        return undefined;
      }
      if (length > maxLength) return { pduType, length, maxLength };
      this.remaining = length;
    }
    return undefined;
  }
}
