import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toDicomJson } from '../../../lambdas/dicom/json';
import type { DataSet } from '../../../lambdas/dicom/data-set';
import {
  BulkDataValue,
  Part10Error,
  readPart10,
  type ReadPart10Options,
  TranscodeError,
  toExplicitVRLittleEndian,
} from '../../../lambdas/dicom/part10';
import { newPart10, writePart10 } from '../../../lambdas/dicom/part10-write';
import { Tag } from '../../../lambdas/dicom/tags';
import { dataSetOf, part10File } from '../../../lambdas/dimse/part10-file';
import { SopClass, TransferSyntax } from '../../../lambdas/dicom/uid';
import { JAPANESE_NAME, encoded, makeEncodedInstance, makeInstance, pixelFrame } from '../../support/dicom-factory';

const SEED = 20240115;

/** Every value of a data set, binaries inline, so two data sets compare with toEqual. */
function values(dict: DataSet) {
  return toDicomJson(dict, { bulkDataThreshold: Number.POSITIVE_INFINITY, bulkDataUri: (path) => path });
}

function pixelBytes(dict: DataSet): Uint8Array {
  return new Uint8Array(dict[Tag.PixelData]!.Value![0] as ArrayBuffer);
}

function expectPart10Error(bytes: Uint8Array): void {
  expect(() => readPart10(bytes)).toThrow(Part10Error);
}

/** Reads, reporting any exception other than Part10Error as a failure of the property. */
function readOrPart10Error(bytes: Uint8Array, opts?: ReadPart10Options): 'read' | 'refused' {
  try {
    readPart10(bytes, opts);
    return 'read';
  } catch (error) {
    if (error instanceof Part10Error) return 'refused';
    throw error;
  }
}

const studyInstanceUID = '1.2.826.0.1.3680043.8.498.1';
const seriesInstanceUID = '1.2.826.0.1.3680043.8.498.2';
const sopInstanceUID = '1.2.826.0.1.3680043.8.498.3';

describe('readPart10', () => {
  it('reads the UIDs, transfer syntax, meta and data set of a Part 10 file', () => {
    const file = makeInstance({
      studyInstanceUID,
      seriesInstanceUID,
      sopInstanceUID,
      sopClassUID: SopClass.MRImageStorage,
      patientName: 'Doe^Jane',
    });
    const instance = readPart10(file);
    expect(instance).toMatchObject({
      transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian,
      sopClassUID: SopClass.MRImageStorage,
      sopInstanceUID,
      studyInstanceUID,
      seriesInstanceUID,
      mediaStorageSOPClassUID: SopClass.MRImageStorage,
      mediaStorageSOPInstanceUID: sopInstanceUID,
    });
    expect(instance.meta[Tag.TransferSyntaxUID]?.Value).toEqual([TransferSyntax.ExplicitVRLittleEndian]);
    expect(instance.dict[Tag.PatientName]?.Value).toEqual([{ Alphabetic: 'Doe^Jane' }]);
    expect(instance.dict[Tag.Modality]?.Value).toEqual(['MR']);
  });

  it("answers '' for absent UIDs", () => {
    const instance = readPart10(makeInstance({ omit: ['SOPInstanceUID', 'StudyInstanceUID'] }));
    expect(instance.sopInstanceUID).toBe('');
    expect(instance.studyInstanceUID).toBe('');
    expect(instance.mediaStorageSOPInstanceUID).toBe('');
  });

  it('reads a file held in a subarray of a larger (pooled) Buffer', () => {
    const file = makeInstance({ sopInstanceUID });
    const body = Buffer.concat([Buffer.from('--boundary\r\n\r\n'), file, Buffer.from('\r\n--boundary--')]);
    expect(readPart10(body.subarray(14, 14 + file.length)).sopInstanceUID).toBe(sopInstanceUID);
  });

  it.each([
    ['empty input', new Uint8Array()],
    ['a preamble without DICM', new Uint8Array(132)],
    ['DICM without meta', Buffer.concat([Buffer.alloc(128), Buffer.from('DICM')])],
    ['text', Buffer.from('this is not a DICOM file at all, it is plain text '.repeat(10))],
  ])('refuses %s with Part10Error', (_, bytes) => {
    expectPart10Error(bytes);
  });

  it('refuses a file whose data set is empty', () => {
    const file = makeInstance();
    const metaEnd = 132 + 12 + new DataView(file.buffer, file.byteOffset).getUint32(140, true);
    expectPart10Error(file.subarray(0, metaEnd));
  });

  it('refuses every truncation inside the File Meta Information or the Pixel Data element', () => {
    const file = makeInstance({ numberOfFrames: 2 });
    const metaEnd = 132 + 12 + new DataView(file.buffer, file.byteOffset).getUint32(140, true);
    const pixelDataStart = file.length - pixelBytes(readPart10(file).dict).length - 12;
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: metaEnd }), fc.integer({ min: pixelDataStart + 1, max: file.length - 1 })), (cut) => {
        expect(readOrPart10Error(file.subarray(0, cut))).toBe('refused');
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it.each([
    ['Explicit VR Little Endian', TransferSyntax.ExplicitVRLittleEndian],
    ['Implicit VR Little Endian', TransferSyntax.ImplicitVRLittleEndian],
    ['encapsulated', TransferSyntax.JPEGBaseline8Bit],
  ])('never throws anything but Part10Error for any truncation of a %s file', (_, transferSyntaxUID) => {
    const file = makeInstance({
      transferSyntaxUID,
      numberOfFrames: 2,
      extra: { RequestAttributesSequence: [{ RequestedProcedureID: 'RP1', ScheduledProcedureStepID: 'SPS1' }] },
    });
    let refused = 0;
    for (let cut = 0; cut < file.length; cut++) if (readOrPart10Error(file.subarray(0, cut)) === 'refused') refused++;
    // Only cuts exactly between two top-level data elements leave a readable (shorter) file.
    expect(refused).toBeGreaterThan(file.length - 40);
  });

  it('never throws anything but Part10Error for random bytes, with or without a DICM prefix', () => {
    const prefix = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM')]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (random, withPrefix) => {
        const bytes = withPrefix ? Buffer.concat([prefix, random]) : random;
        expect(readOrPart10Error(bytes)).toBe('refused');
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('never throws anything but Part10Error when bytes of a valid file are corrupted', () => {
    const file = makeInstance({ extra: { RequestAttributesSequence: [{ RequestedProcedureID: 'RP1' }] } });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: file.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        (edits) => {
          const corrupted = Uint8Array.from(file);
          for (const [at, byte] of edits) corrupted[at] = byte;
          readOrPart10Error(corrupted);
        },
      ),
      { seed: SEED, numRuns: 1000 },
    );
  });
});

describe('readPart10: Specific Character Set (PS3.5 6.1, PS3.3 C.12.1.1.2)', () => {
  const japanese = () =>
    makeEncodedInstance((text) => ({
      patientName: text(JAPANESE_NAME.bytes),
      // JIS X 0208 0x245C (ぼ) holds the byte of "\": it must not split the value.
      studyDescription: text(encoded({ hex: '1b 24 42 24 5c 1b 28 42' }, '\\CT')),
      extra: {
        SpecificCharacterSet: text(JAPANESE_NAME.specificCharacterSet),
        ProcedureCodeSequence: [
          { CodeValue: 'P1', CodingSchemeDesignator: '99LOCAL', CodeMeaning: text(encoded({ hex: '1b 24 42 3b 33 1b 28 42' })) },
        ],
      },
    }));

  it('reads ISO 2022 code extensions (\\ISO 2022 IR 87, PS3.5 H.3.1), in the data set and in its items', () => {
    const { dict } = readPart10(japanese());
    expect(dict[Tag.PatientName]!.Value).toEqual([JAPANESE_NAME.json]);
    expect(dict[Tag.StudyDescription]!.Value).toEqual(['ぼ', 'CT']);
    const item = dict['00081032']!.Value![0] as DataSet;
    expect(item['00080104']!.Value).toEqual(['山']);
    // The values are Unicode now, and say so (as dcmjs leaves every data set it decodes).
    expect(dict[Tag.SpecificCharacterSet]!.Value).toEqual(['ISO_IR 192']);
  });

  it('reads the items of an ISO_IR 192 data set as UTF-8 too (dcmjs alone reads items as ISO 8859-1)', () => {
    const { dict } = readPart10(
      makeInstance({
        patientName: 'Müller^Jürgen',
        extra: { ProcedureCodeSequence: [{ CodeValue: 'P1', CodingSchemeDesignator: '99LOCAL', CodeMeaning: 'Größe 山田' }] },
      }),
    );
    expect(dict[Tag.PatientName]!.Value).toEqual([{ Alphabetic: 'Müller^Jürgen' }]);
    expect((dict['00081032']!.Value![0] as DataSet)['00080104']!.Value).toEqual(['Größe 山田']);
  });

  it("reads an item's own Specific Character Set for that item only", () => {
    const bytes = makeEncodedInstance((text) => ({
      patientName: text(encoded({ hex: 'b8 d2 d0 dd de d2' })),
      extra: {
        SpecificCharacterSet: text('ISO_IR 144'),
        ProcedureCodeSequence: [
          {
            SpecificCharacterSet: text('ISO_IR 100'),
            CodeValue: 'P1',
            CodingSchemeDesignator: '99LOCAL',
            CodeMeaning: text(encoded('Gr', { hex: 'f6 df' }, 'e')),
          },
          { CodeValue: 'P2', CodingSchemeDesignator: '99LOCAL', CodeMeaning: text(encoded({ hex: 'b8 d2 d0 dd' })) },
        ],
      },
    }));
    const { dict } = readPart10(bytes);
    expect(dict[Tag.PatientName]!.Value).toEqual([{ Alphabetic: 'Иванов' }]);
    const [first, second] = dict['00081032']!.Value as DataSet[];
    expect(first!['00080104']!.Value).toEqual(['Größe']);
    expect(second!['00080104']!.Value).toEqual(['Иван']);
  });

  it('reads a Deflated Explicit VR Little Endian data set in ISO 2022 too (PS3.5 A.5)', () => {
    const plain = japanese();
    const { sopInstanceUID, sopClassUID } = readPart10(plain);
    const deflated = part10File(
      {
        mediaStorageSOPClassUID: sopClassUID,
        mediaStorageSOPInstanceUID: sopInstanceUID,
        transferSyntaxUID: TransferSyntax.DeflatedExplicitVRLittleEndian,
      },
      deflateRawSync(dataSetOf(plain)),
    );
    const { dict, transferSyntaxUID } = readPart10(deflated);
    expect(transferSyntaxUID).toBe(TransferSyntax.DeflatedExplicitVRLittleEndian);
    expect(dict[Tag.PatientName]!.Value).toEqual([JAPANESE_NAME.json]);
    expect(dict[Tag.StudyDescription]!.Value).toEqual(['ぼ', 'CT']);
  });

  it('writes the decoded values back as UTF-8 under ISO_IR 192, readable again', () => {
    const instance = readPart10(japanese());
    const again = readPart10(writePart10(instance, TransferSyntax.ImplicitVRLittleEndian));
    expect(again.dict[Tag.SpecificCharacterSet]!.Value).toEqual(['ISO_IR 192']);
    expect(values(again.dict)).toEqual(values(instance.dict));
  });

  it('declares ISO_IR 192 when writing non-ASCII text of a data set that had no character set', () => {
    const bytes = makeEncodedInstance((text) => ({
      patientName: text(encoded('M', { hex: 'fc' }, 'ller^Hans')),
      omit: ['SpecificCharacterSet'],
    }));
    const instance = readPart10(bytes);
    expect(instance.dict[Tag.SpecificCharacterSet]).toBeUndefined();
    const again = readPart10(writePart10(instance, TransferSyntax.ExplicitVRLittleEndian));
    expect(again.dict[Tag.SpecificCharacterSet]!.Value).toEqual(['ISO_IR 192']);
    expect(again.dict[Tag.PatientName]!.Value).toEqual([{ Alphabetic: 'Müller^Hans' }]);
    // ASCII alone needs no declaration.
    const ascii = readPart10(makeInstance({ omit: ['SpecificCharacterSet'] }));
    expect(readPart10(writePart10(ascii, TransferSyntax.ExplicitVRLittleEndian)).dict[Tag.SpecificCharacterSet]).toBeUndefined();
  });

  it('leaves the bytes it was given untouched, a Buffer or a view into a larger one too', () => {
    const file = japanese();
    const pooled = Buffer.concat([Buffer.alloc(16), Buffer.from(file)]).subarray(16);
    for (const bytes of [file, Buffer.from(file), pooled]) {
      readPart10(bytes);
      expect(Buffer.from(bytes).equals(Buffer.from(file))).toBe(true);
    }
  });
});

describe('readPart10: bulkDataAbove leaves large binary values in the bytes', () => {
  const ABOVE = 64;
  const json = (dict: DataSet) => toDicomJson(dict, { bulkDataThreshold: ABOVE, bulkDataUri: (path) => `bulk/${path}` });
  const extra = {
    RedPaletteColorLookupTableData: pixelFrame(9, 512).buffer, // OW, large, before Pixel Data
    OverlayData: pixelFrame(3, 16).buffer, // OB, small: read
    IconImageSequence: [{ Rows: 8, Columns: 8, PixelData: pixelFrame(5, 128).buffer }], // nested: read
    DataSetTrailingPadding: new Uint8Array(200).buffer, // after Pixel Data (PS3.10 7.2)
  };
  // Fixed UIDs: the property tests below corrupt the same bytes every run.
  const uids = (n: number) => ({
    studyInstanceUID: `1.2.826.0.1.3680043.10.1000.${n}.1`,
    seriesInstanceUID: `1.2.826.0.1.3680043.10.1000.${n}.2`,
    sopInstanceUID: `1.2.826.0.1.3680043.10.1000.${n}.3`,
  });
  const explicit = makeInstance({ extra, approximateBytes: 4000, ...uids(1) });
  const files: [string, Uint8Array][] = [
    ['Explicit VR Little Endian', explicit],
    [
      'Implicit VR Little Endian',
      makeInstance({ transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian, extra, approximateBytes: 4000, ...uids(2) }),
    ],
    [
      'encapsulated',
      makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, numberOfFrames: 3, extra, approximateBytes: 4000, ...uids(3) }),
    ],
    ['Explicit VR Big Endian', writePart10(readPart10(explicit), TransferSyntax.ExplicitVRBigEndian)],
    ['Deflated Explicit VR Little Endian', writePart10(readPart10(explicit), TransferSyntax.DeflatedExplicitVRLittleEndian)],
  ];
  const kind = (dict: DataSet, tag: string) => {
    const value = dict[tag]?.Value?.[0];
    return value instanceof BulkDataValue ? 'left in the bytes' : value instanceof ArrayBuffer ? 'read' : typeof value;
  };

  it.each(files)('gives a %s file the same DICOM JSON as a whole read', (_, bytes) => {
    expect(json(readPart10(bytes, { bulkDataAbove: ABOVE }).dict)).toEqual(json(readPart10(bytes).dict));
  });

  it('leaves every large top-level OB/OW value of an explicit VR file in the bytes, where the BulkDataValue says', () => {
    const whole = readPart10(explicit).dict;
    const dict = readPart10(explicit, { bulkDataAbove: ABOVE }).dict;
    for (const tag of [Tag.PixelData, '00281201', 'FFFCFFFC']) {
      expect(kind(dict, tag)).toBe('left in the bytes');
      const { offset, length } = dict[tag]!.Value![0] as BulkDataValue;
      expect(explicit.subarray(offset, offset + length)).toEqual(new Uint8Array(whole[tag]!.Value![0] as ArrayBuffer));
    }
    expect(kind(dict, '60003000')).toBe('read'); // not above the threshold
    expect(kind(dict['00880200']!.Value![0] as DataSet, Tag.PixelData)).toBe('read'); // in an item
  });

  it('leaves only Pixel Data in the bytes in Implicit VR, where only the dictionary says which values are binary', () => {
    const dict = readPart10(files[1]![1], { bulkDataAbove: ABOVE }).dict;
    expect([kind(dict, Tag.PixelData), kind(dict, '00281201'), kind(dict, 'FFFCFFFC')]).toEqual(['left in the bytes', 'read', 'read']);
  });

  it('leaves encapsulated Pixel Data in the bytes whatever its size: its items through the Sequence Delimitation Item', () => {
    const bytes = files[2]![1];
    const dict = readPart10(bytes, { bulkDataAbove: 1_000_000 }).dict;
    const { offset, length } = dict[Tag.PixelData]!.Value![0] as BulkDataValue;
    expect(Buffer.from(bytes.subarray(offset, offset + 4)).toString('hex')).toBe('feff00e0'); // the Basic Offset Table item
    expect(Buffer.from(bytes.subarray(offset + length - 8, offset + length)).toString('hex')).toBe('feffdde000000000');
    expect(kind(dict, 'FFFCFFFC')).toBe('read');
  });

  it('reads a deflated data set whole', () => {
    expect(kind(readPart10(files[4]![1], { bulkDataAbove: ABOVE }).dict, Tag.PixelData)).toBe('read');
  });

  it('leaves the bytes it was given untouched', () => {
    for (const [, bytes] of files) {
      const before = Uint8Array.from(bytes);
      readPart10(bytes, { bulkDataAbove: ABOVE });
      expect(Buffer.from(bytes).equals(before)).toBe(true);
    }
  });

  it('refuses, and reads, corrupted files as a whole read does, with the same DICOM JSON', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...files.slice(0, 4).map(([, bytes]) => bytes)),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (file, edits) => {
          const corrupted = Uint8Array.from(file);
          for (const [at, byte] of edits) corrupted[132 + (at % (file.length - 132))] = byte;
          const read = (opts?: { bulkDataAbove: number }) => {
            try {
              return json(readPart10(corrupted, opts).dict);
            } catch (error) {
              if (error instanceof Part10Error) return 'refused';
              throw error;
            }
          };
          expect(read({ bulkDataAbove: ABOVE })).toEqual(read());
        },
      ),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('reads no corrupted file that a whole read refuses, its Basic Offset Table and Sequence Delimitation Item included', () => {
    const encapsulated = files[2]![1];
    const { offset, length } = readPart10(encapsulated, { bulkDataAbove: ABOVE }).dict[Tag.PixelData]!.Value![0] as BulkDataValue;
    let refusals = 0;
    fc.assert(
      fc.property(
        // Mostly the table (its item length and 3 offsets) and the delimiter, sometimes anywhere.
        fc.array(
          fc.tuple(
            fc.oneof(
              fc.integer({ min: offset + 4, max: offset + 8 + 12 - 1 }),
              fc.integer({ min: offset + length - 8, max: offset + length - 1 }),
              fc.integer({ min: 132, max: encapsulated.length - 1 }),
            ),
            fc.integer({ min: 0, max: 255 }),
          ),
          { minLength: 1, maxLength: 3 },
        ),
        (edits) => {
          const corrupted = Uint8Array.from(encapsulated);
          for (const [at, byte] of edits) corrupted[at] = byte;
          if (readOrPart10Error(corrupted) !== 'refused') return;
          refusals += 1;
          expect(readOrPart10Error(corrupted, { bulkDataAbove: ABOVE })).toBe('refused');
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
    expect(refusals).toBeGreaterThan(200); // the cases that matter: a whole read refuses them
  });

  it('refuses a Basic Offset Table whose offsets are not where items start, as dcmjs does', () => {
    const encapsulated = files[2]![1];
    const { offset } = readPart10(encapsulated, { bulkDataAbove: ABOVE }).dict[Tag.PixelData]!.Value![0] as BulkDataValue;
    const corrupted = Buffer.from(encapsulated);
    corrupted.writeUInt32LE(corrupted.readUInt32LE(offset + 8 + 4) + 2, offset + 8 + 4); // frame 2's offset, 2 bytes into its item
    expect(() => readPart10(corrupted)).toThrow(Part10Error);
    expect(() => readPart10(corrupted, { bulkDataAbove: ABOVE })).toThrow(Part10Error);
  });
});

describe('writePart10', () => {
  it.each([
    ['Explicit VR Little Endian', TransferSyntax.ExplicitVRLittleEndian],
    ['Implicit VR Little Endian', TransferSyntax.ImplicitVRLittleEndian],
    ['encapsulated JPEG', TransferSyntax.JPEGBaseline8Bit],
  ])('writes back a %s file byte for byte', (_, transferSyntaxUID) => {
    const file = makeInstance({ transferSyntaxUID, numberOfFrames: 3, extra: { PixelSpacing: ['0.50', '0.5'] } });
    const instance = readPart10(file);
    expect(Buffer.from(writePart10(instance, transferSyntaxUID)).equals(Buffer.from(file))).toBe(true);
  });

  it.each([
    ['Implicit VR Little Endian', TransferSyntax.ImplicitVRLittleEndian],
    ['Explicit VR Big Endian', TransferSyntax.ExplicitVRBigEndian],
    ['Deflated Explicit VR Little Endian', TransferSyntax.DeflatedExplicitVRLittleEndian],
  ])('round-trips every value and the pixel data through %s', (_, transferSyntaxUID) => {
    const original = readPart10(
      makeInstance({ numberOfFrames: 2, bitsAllocated: 16, extra: { RequestAttributesSequence: [{ RequestedProcedureID: 'RP1' }] } }),
    );
    const written = writePart10(original, transferSyntaxUID);
    const back = readPart10(written);
    expect(back.transferSyntaxUID).toBe(transferSyntaxUID);
    expect(back.meta[Tag.TransferSyntaxUID]?.Value).toEqual([transferSyntaxUID]);
    expect(values(back.dict)).toEqual(values(original.dict));
    expect(pixelBytes(back.dict)).toEqual(pixelBytes(original.dict));
  });

  it('byte-swaps 16-bit pixel data in an Explicit VR Big Endian file (PS3.5 7.3)', () => {
    const original = readPart10(makeInstance({ rows: 2, columns: 2, bitsAllocated: 16 }));
    const bigEndian = writePart10(original, TransferSyntax.ExplicitVRBigEndian);
    const littleEndianPixels = pixelFrame(1, 8);
    const stored = bigEndian.subarray(bigEndian.length - 8);
    for (let i = 0; i < 8; i += 2) expect([stored[i], stored[i + 1]]).toEqual([littleEndianPixels[i + 1], littleEndianPixels[i]]);
    // the caller's data set is left untouched
    expect(pixelBytes(original.dict)).toEqual(littleEndianPixels);
  });

  it('fills in the File Meta Information of a data set built in code (PS3.10 7.1)', () => {
    const file = newPart10({
      [Tag.SOPClassUID]: { vr: 'UI', Value: [SopClass.SecondaryCaptureImageStorage] },
      [Tag.SOPInstanceUID]: { vr: 'UI', Value: [sopInstanceUID] },
    });
    const instance = readPart10(file);
    expect(instance.mediaStorageSOPClassUID).toBe(SopClass.SecondaryCaptureImageStorage);
    expect(instance.mediaStorageSOPInstanceUID).toBe(sopInstanceUID);
    expect(instance.meta[Tag.ImplementationClassUID]?.Value?.[0]).toMatch(/^2\.25\.\d+$/);
    expect(new Uint8Array(instance.meta[Tag.FileMetaInformationVersion]!.Value![0] as ArrayBuffer)).toEqual(new Uint8Array([0, 1]));
  });
});

describe('toExplicitVRLittleEndian', () => {
  it('returns Explicit VR Little Endian bytes unchanged', () => {
    const file = makeInstance();
    expect(toExplicitVRLittleEndian(file)).toBe(file);
  });

  it('re-encodes Implicit VR Little Endian keeping every value and the pixel data byte-exact', () => {
    const file = makeInstance({
      transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian,
      numberOfFrames: 3,
      bitsAllocated: 16,
      extra: {
        RequestAttributesSequence: [{ RequestedProcedureID: 'RP1', ScheduledProcedureStepID: 'SPS1' }],
        PixelSpacing: ['0.50', '0.25'],
      },
    });
    const implicit = readPart10(file);
    const explicit = readPart10(toExplicitVRLittleEndian(file));
    expect(explicit.transferSyntaxUID).toBe(TransferSyntax.ExplicitVRLittleEndian);
    expect(values(explicit.dict)).toEqual(values(implicit.dict));
    expect(pixelBytes(explicit.dict)).toEqual(pixelBytes(implicit.dict));
    expect(explicit.dict[Tag.PixelData]?.vr).toBe('OW');
    expect(explicit.dict['00280030']?.Value).toEqual([0.5, 0.25]);
  });

  it('keeps private elements of an Implicit VR file as UN with their bytes (PS3.5 6.2.2)', () => {
    const file = newPart10(
      {
        [Tag.SOPClassUID]: { vr: 'UI', Value: [SopClass.SecondaryCaptureImageStorage] },
        [Tag.SOPInstanceUID]: { vr: 'UI', Value: [sopInstanceUID] },
        '00090010': { vr: 'LO', Value: ['ACME 1.0'] },
        '00091001': { vr: 'LO', Value: ['vendor value'] },
      },
      TransferSyntax.ImplicitVRLittleEndian,
    );
    const explicit = readPart10(toExplicitVRLittleEndian(file));
    expect(explicit.dict['00090010']).toMatchObject({ vr: 'LO', Value: ['ACME 1.0'] });
    expect(explicit.dict['00091001']?.vr).toBe('UN');
    expect(Buffer.from(explicit.dict['00091001']!.Value![0] as ArrayBuffer).toString('latin1')).toBe('vendor value');
  });

  it("resolves 'US or SS' elements of an Implicit VR file by Pixel Representation (PS3.5 A.1)", () => {
    const file = makeInstance({
      transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian,
      extra: { PixelRepresentation: 1, SmallestImagePixelValue: -5, LargestImagePixelValue: 300 },
    });
    expect(readPart10(file).dict['00280106']).toMatchObject({ vr: 'SS', Value: [-5] });
    const explicit = readPart10(toExplicitVRLittleEndian(file));
    expect(explicit.dict['00280106']).toMatchObject({ vr: 'SS', Value: [-5] });
    expect(explicit.dict['00280107']).toMatchObject({ vr: 'SS', Value: [300] });
  });

  it('refuses an encapsulated (compressed) file with TranscodeError', () => {
    expect(() => toExplicitVRLittleEndian(makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit }))).toThrow(TranscodeError);
  });

  it('refuses malformed input with Part10Error', () => {
    expect(() => toExplicitVRLittleEndian(new Uint8Array(10))).toThrow(Part10Error);
  });
});
