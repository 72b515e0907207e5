import { describe, expect, it } from 'vitest';
import { abortPdu, MAX_ASSOCIATION_PDU_LENGTH, MAX_PDU_LENGTH, PduGuard, PduType } from '../../../lambdas/dimse/pdu-guard';

/** A PDU header (PS3.8 9.3.1): type, reserved byte, 4-byte big-endian length. */
function header(type: number, length: number): Buffer {
  const h = Buffer.alloc(6);
  h[0] = type;
  h.writeUInt32BE(length, 2);
  return h;
}
const pdu = (type: number, length: number) => Buffer.concat([header(type, length), Buffer.alloc(length, 0xaa)]);

describe('PduGuard', () => {
  it('lets PDUs up to their type’s limit through, one chunk or many', () => {
    const stream = Buffer.concat([
      pdu(PduType.AssociateRQ, 300),
      pdu(PduType.PDataTF, MAX_PDU_LENGTH),
      pdu(PduType.PDataTF, 12),
      pdu(PduType.ReleaseRQ, 4),
    ]);
    expect(new PduGuard().check(stream)).toBeUndefined();
    // The same bytes in chunks that cut headers and bodies anywhere.
    for (const size of [1, 5, 7, 4096]) {
      const guard = new PduGuard();
      const violations = [];
      for (let at = 0; at < stream.length; at += size) violations.push(guard.check(stream.subarray(at, at + size)));
      expect(violations.filter(Boolean), `chunks of ${size}`).toEqual([]);
    }
  });

  it('reports a PDU longer than its type allows as soon as its header is complete', () => {
    const guard = new PduGuard();
    expect(guard.check(pdu(PduType.AssociateRQ, 100))).toBeUndefined();
    const big = header(PduType.PDataTF, MAX_PDU_LENGTH + 1);
    expect(guard.check(big.subarray(0, 3))).toBeUndefined();
    expect(guard.check(big.subarray(3))).toEqual({ pduType: PduType.PDataTF, length: MAX_PDU_LENGTH + 1, maxLength: MAX_PDU_LENGTH });
  });

  it('bounds every PDU type: an association request of 4 GB, a release request of 1 MB and more', () => {
    expect(new PduGuard().check(header(PduType.AssociateRQ, 0xfffffff0))).toMatchObject({ maxLength: MAX_ASSOCIATION_PDU_LENGTH });
    expect(new PduGuard().check(header(PduType.AssociateRQ, MAX_ASSOCIATION_PDU_LENGTH))).toBeUndefined();
    for (const type of [PduType.AssociateAC, PduType.AssociateRJ, PduType.ReleaseRQ, PduType.ReleaseRP, PduType.Abort]) {
      expect(new PduGuard().check(header(type, MAX_ASSOCIATION_PDU_LENGTH + 1)), `type ${type}`).toBeDefined();
    }
  });

  it('leaves a stream that is no PDU to the library, and stops reading its framing', () => {
    const guard = new PduGuard();
    expect(guard.check(Buffer.from('GET / HTTP/1.1\r\n'))).toBeUndefined();
    expect(guard.check(header(PduType.AssociateRQ, 0xfffffff0))).toBeUndefined();
  });
});

describe('abortPdu', () => {
  it('is an A-ABORT from the service provider for an invalid PDU parameter value (PS3.8 9.3.8)', () => {
    expect([...abortPdu()]).toEqual([0x07, 0, 0, 0, 0, 4, 0, 0, 2, 6]);
  });
});
