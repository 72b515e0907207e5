import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataSetDigest } from '../../../lambdas/dicom/data-set-digest';
import { Part10Error, readPart10 } from '../../../lambdas/dicom/part10';
import { TransferSyntax } from '../../../lambdas/dicom/uid';
import { part10File } from '../../../lambdas/dimse/part10-file';
import { dcmtk, dcmtkSuite } from '../../support/dcmtk';
import { inImplicitVR, makeInstance, withOtherFileMeta } from '../../support/dicom-factory';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** An instance with nested sequences, so their encodings (lengths, items) are exercised. */
function instanceWithSequences(opts: { transferSyntaxUID?: string; institution?: string } = {}): Uint8Array {
  return makeInstance({
    sopInstanceUID: '1.2.3.4.5',
    studyInstanceUID: '1.2.3.4',
    seriesInstanceUID: '1.2.3.4.1',
    transferSyntaxUID: opts.transferSyntaxUID,
    extra: {
      InstitutionName: opts.institution ?? 'Hospital',
      ReferencedStudySequence: [
        { ReferencedSOPClassUID: '1.2.840.10008.3.1.2.3.1', ReferencedSOPInstanceUID: '1.2.3.9' },
        { ReferencedSOPClassUID: '1.2.840.10008.3.1.2.3.1', ReferencedSOPInstanceUID: '1.2.3.10' },
      ],
      ProcedureCodeSequence: [{ CodeValue: 'CTHEAD', CodingSchemeDesignator: 'L', CodeMeaning: 'CT Head' }],
      OtherPatientIDsSequence: [],
    },
  });
}

describe('dataSetDigest', () => {
  it('ignores the File Meta Information (group 0002): another Source AE Title, another Implementation', () => {
    const file = instanceWithSequences();
    const other = withOtherFileMeta(file, 'MODALITY');
    expect(sha256(other)).not.toBe(sha256(file));
    expect(dataSetDigest(other)).toBe(dataSetDigest(file));
    expect(dataSetDigest(file)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs for a data set with one value changed', () => {
    const file = instanceWithSequences();
    expect(dataSetDigest(instanceWithSequences({ institution: 'Hospitam' }))).not.toBe(dataSetDigest(file));
  });

  it('differs for a changed value inside a sequence item', () => {
    const file = instanceWithSequences();
    const changed = Buffer.from(file);
    const at = changed.indexOf('CT Head', 0, 'latin1');
    changed.write('CT Hand', at, 'latin1');
    expect(dataSetDigest(changed)).not.toBe(dataSetDigest(file));
  });

  it('is the same for the data set in Implicit and in Explicit VR Little Endian (PS3.5 A.1, A.2)', () => {
    const explicit = instanceWithSequences();
    const implicit = inImplicitVR(explicit);
    expect(readPart10(implicit).transferSyntaxUID).toBe(TransferSyntax.ImplicitVRLittleEndian);
    expect(dataSetDigest(implicit)).toBe(dataSetDigest(explicit));
    expect(dataSetDigest(instanceWithSequences({ transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian }))).toBe(
      dataSetDigest(explicit),
    );
  });

  it('tells compressed pixel data from native pixel data of the same instance', () => {
    const jpeg = makeInstance({
      sopInstanceUID: '1.2.3',
      studyInstanceUID: '1.2',
      seriesInstanceUID: '1.2.1',
      transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit,
    });
    const native = makeInstance({ sopInstanceUID: '1.2.3', studyInstanceUID: '1.2', seriesInstanceUID: '1.2.1', bitsAllocated: 8 });
    expect(dataSetDigest(jpeg)).not.toBe(dataSetDigest(native));
    expect(dataSetDigest(withOtherFileMeta(jpeg, 'PACS'))).toBe(dataSetDigest(jpeg));
  });

  it('reads a private sequence the same as SQ, in Implicit VR (defined length) and as the UN of a re-encoding (PS3.5 6.2.2)', () => {
    const tag = (group: number, element: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt16LE(group, 0);
      b.writeUInt16LE(element, 2);
      return b;
    };
    const u16 = (n: number) => Buffer.from([n & 0xff, n >> 8]);
    const u32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n);
      return b;
    };
    const explicit = (g: number, e: number, vr: string, value: Buffer) =>
      ['OB', 'SQ', 'UN'].includes(vr)
        ? Buffer.concat([tag(g, e), Buffer.from(vr + '\0\0', 'latin1'), u32(value.length), value])
        : Buffer.concat([tag(g, e), Buffer.from(vr, 'latin1'), u16(value.length), value]);
    const implicit = (g: number, e: number, value: Buffer) => Buffer.concat([tag(g, e), u32(value.length), value]);
    const item = (content: Buffer) => Buffer.concat([tag(0xfffe, 0xe000), u32(content.length), content]);
    const file = (ts: string, dataSet: Buffer) =>
      part10File({ mediaStorageSOPClassUID: '1.2', mediaStorageSOPInstanceUID: '1.2.3', transferSyntaxUID: ts }, dataSet);
    const name = (value: string) => Buffer.from(value, 'latin1');
    const creator = name('PRIV');

    const inExplicit = (value: string) =>
      Buffer.concat([
        explicit(0x0009, 0x0010, 'LO', creator),
        explicit(0x0009, 0x1001, 'SQ', item(explicit(0x0010, 0x0010, 'PN', name(value)))),
      ]);
    const implicitItem = (value: string) => item(implicit(0x0010, 0x0010, name(value)));
    const inImplicit = Buffer.concat([implicit(0x0009, 0x0010, creator), implicit(0x0009, 0x1001, implicitItem('A^B'))]);
    const asUN = Buffer.concat([explicit(0x0009, 0x0010, 'LO', creator), explicit(0x0009, 0x1001, 'UN', implicitItem('A^B'))]);

    const digest = dataSetDigest(file(TransferSyntax.ExplicitVRLittleEndian, inExplicit('A^B')));
    expect(dataSetDigest(file(TransferSyntax.ImplicitVRLittleEndian, inImplicit))).toBe(digest);
    expect(dataSetDigest(file(TransferSyntax.ExplicitVRLittleEndian, asUN))).toBe(digest);
    expect(dataSetDigest(file(TransferSyntax.ExplicitVRLittleEndian, inExplicit('A^C')))).not.toBe(digest);
  });

  it('throws Part10Error for bytes that are not a Part 10 file', () => {
    expect(() => dataSetDigest(new Uint8Array(200))).toThrow(Part10Error);
    const file = instanceWithSequences();
    expect(() => dataSetDigest(file.subarray(0, file.length - 7))).toThrow(Part10Error);
  });
});

dcmtkSuite('dataSetDigest of the re-encodings dcmtk makes (dcmconv)', () => {
  let dir: string;
  let original: string;
  let digest: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'data-set-digest-'));
    original = path.join(dir, 'original.dcm');
    const bytes = instanceWithSequences();
    await writeFile(original, bytes);
    digest = dataSetDigest(bytes);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function convert(name: string, args: readonly string[]): Promise<Uint8Array> {
    const out = path.join(dir, name);
    const run = await dcmtk('dcmconv', [...args, original, out]);
    expect(run.code, run.out).toBe(0);
    return readFile(out);
  }

  it.each([
    ['Implicit VR Little Endian', ['+ti']],
    ['Implicit VR Little Endian, sequences and items of undefined length, group lengths', ['+ti', '+e', '+g']],
    ['Explicit VR Little Endian, sequences and items of defined length', ['+te', '-e']],
    ['Explicit VR Little Endian, with group lengths and trailing padding in the data set and its items', ['+te', '+g', '+p', '16', '8']],
    ['Deflated Explicit VR Little Endian', ['+td']],
  ])('is the same for %s', async (_name, args) => {
    const converted = await convert(`${args.join('')}.dcm`, args);
    expect(sha256(converted)).not.toBe(sha256(await readFile(original)));
    expect(dataSetDigest(converted)).toBe(digest);
  });

  it('differs for Explicit VR Big Endian (retired; its values are other bytes)', async () => {
    expect(dataSetDigest(await convert('big.dcm', ['+tb']))).not.toBe(digest);
  });
});

describe('dataSetDigest of the committed fixtures', () => {
  // Entries keep the digest their store computed (InstanceObject.datasetDigest): the canonical form
  // may be computed differently, never changed, or every re-sent instance stored before would be
  // refused as other content.
  it.each([
    ['ct-explicit-le.dcm', 'a6cba4cc3d064d5449e75c1273234fe1126b744a33d691ed299774db49c84388'],
    ['mr-implicit-le.dcm', '1da2aab4a571bcb2a3effccd61a225eba3295785fb267f728eb9d78514d686fc'],
    ['us-multiframe-jpeg.dcm', 'a88773d6b4717d78489068af03418f879389265e853b8f350a0290aa7174d7af'],
  ])('%s keeps the digest stored entries carry', async (name, expected) => {
    const bytes = await readFile(path.join(__dirname, '../../fixtures', name));
    expect(dataSetDigest(bytes)).toBe(expected);
  });
});
