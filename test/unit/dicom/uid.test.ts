import { describe, expect, it } from 'vitest';
import { SopClass, TransferSyntax, isUncompressedTransferSyntax, isValidUid, newUid } from '../../../lambdas/dicom/uid';

describe('isValidUid (PS3.5 9.1)', () => {
  it.each(['1', '0', '1.2.840.10008.1.2.1', '2.25.0', '1.0.2', `1.${'2'.repeat(62)}`])('accepts %s', (uid) => {
    expect(isValidUid(uid)).toBe(true);
  });
  it.each([
    ['empty', ''],
    ['65 characters', `1.${'2'.repeat(63)}`],
    ['leading zero in a component', '1.02.3'],
    ['leading zero in the first component', '01.2'],
    ['empty component', '1..2'],
    ['trailing dot', '1.2.'],
    ['leading dot', '.1.2'],
    ['letters', '1.2.a'],
    ['space padding', '1.2 '],
    ['null padding', '1.2\0'],
    ['sign', '1.-2'],
  ])('refuses %s', (_, uid) => {
    expect(isValidUid(uid)).toBe(false);
  });
});

describe('newUid (PS3.5 B.2)', () => {
  it('makes valid, distinct 2.25 UIDs from 128 random bits', () => {
    const uids = Array.from({ length: 200 }, newUid);
    for (const uid of uids) {
      expect(uid).toMatch(/^2\.25\.[1-9][0-9]*$/);
      expect(isValidUid(uid)).toBe(true);
      expect(BigInt(uid.slice(5)) < 2n ** 128n).toBe(true);
    }
    expect(new Set(uids).size).toBe(uids.length);
  });
});

describe('transfer syntaxes and SOP classes', () => {
  it('tell native from encapsulated transfer syntaxes', () => {
    expect(isUncompressedTransferSyntax(TransferSyntax.ImplicitVRLittleEndian)).toBe(true);
    expect(isUncompressedTransferSyntax(TransferSyntax.ExplicitVRLittleEndian)).toBe(true);
    expect(isUncompressedTransferSyntax(TransferSyntax.ExplicitVRBigEndian)).toBe(true);
    expect(isUncompressedTransferSyntax(TransferSyntax.DeflatedExplicitVRLittleEndian)).toBe(true);
    expect(isUncompressedTransferSyntax(TransferSyntax.JPEGBaseline8Bit)).toBe(false);
    expect(isUncompressedTransferSyntax(TransferSyntax.RLELossless)).toBe(false);
    expect(isUncompressedTransferSyntax(TransferSyntax.EncapsulatedUncompressedExplicitVRLittleEndian)).toBe(false);
    expect(isUncompressedTransferSyntax('1.2.3')).toBe(false);
  });
  it('are all syntactically valid UIDs', () => {
    for (const uid of [...Object.values(TransferSyntax), ...Object.values(SopClass)]) expect(isValidUid(uid), uid).toBe(true);
    expect(SopClass.HangingProtocolStorage).toBe('1.2.840.10008.5.1.4.38.1');
    expect(SopClass.ColorPaletteStorage).toBe('1.2.840.10008.5.1.4.39.1');
  });
});
