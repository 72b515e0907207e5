import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toDicomJson } from '../../../lambdas/dicom/json';
import { readPart10 } from '../../../lambdas/dicom/part10';
import { frameOffsetsOf } from '../../../lambdas/dicom/frames/frame-offsets';
import { readPart10Json, type Part10Json } from '../../../lambdas/dicom/part10-json';
import { newPart10, writePart10 } from '../../../lambdas/dicom/part10-write';
import { Tag } from '../../../lambdas/dicom/tags';
import { SopClass, TransferSyntax, newUid } from '../../../lambdas/dicom/uid';
import { prepareInstance, preparedInstance, readInstance } from '../../../lambdas/dicomweb/store-prepare';
import { part10File } from '../../../lambdas/dimse/part10-file';
import { stowCorpus } from '../../bench/workloads';
import { makeInstance, makeJapaneseInstance } from '../../support/dicom-factory';

const THRESHOLD = 64;
const uri = (u: { study: string; series: string; sop: string }, tagPath: string) =>
  `/studies/${u.study}/series/${u.series}/instances/${u.sop}/bulkdata/${tagPath}`;
const IDENTITY = [
  'transferSyntaxUID',
  'sopClassUID',
  'sopInstanceUID',
  'studyInstanceUID',
  'seriesInstanceUID',
  'mediaStorageSOPClassUID',
  'mediaStorageSOPInstanceUID',
] as const;

/** readPart10 then toDicomJson: the reading readPart10Json must give, or leave to it. */
function throughDcmjs(bytes: Uint8Array): { json: string; identity: Record<string, string> } | undefined {
  try {
    const instance = readPart10(bytes, { bulkDataAbove: THRESHOLD });
    const u = { study: instance.studyInstanceUID, series: instance.seriesInstanceUID, sop: instance.sopInstanceUID };
    const json = JSON.stringify(toDicomJson(instance.dict, { bulkDataThreshold: THRESHOLD, bulkDataUri: (p) => uri(u, p) }));
    return { json, identity: Object.fromEntries(IDENTITY.map((k) => [k, instance[k]])) };
  } catch {
    return undefined;
  }
}

/** Whether readPart10Json read the file, and then the same as through dcmjs (a mismatch throws). */
function readsAlike(name: string, bytes: Uint8Array): boolean {
  const fast = readPart10Json(bytes, THRESHOLD, uri);
  if (!fast) return false;
  const slow = throughDcmjs(bytes);
  expect(slow, `${name}: read here, refused by readPart10`).toBeDefined();
  expect(JSON.stringify(fast.json), name).toBe(slow!.json);
  expect(Object.fromEntries(IDENTITY.map((k) => [k, fast[k as keyof Part10Json]])), name).toEqual(slow!.identity);
  return true;
}

// ---- An Explicit VR Little Endian data set written byte by byte (PS3.5 7.1.2), for what dcmjs cannot write.
const LONG = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT']);
function el(tag: number, vr: string, value: Uint8Array | string, undefinedLength = false): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value);
  const head = Buffer.alloc(LONG.has(vr) ? 12 : 8);
  head.writeUInt16LE(tag >>> 16, 0);
  head.writeUInt16LE(tag & 0xffff, 2);
  head.write(vr, 4, 'latin1');
  if (LONG.has(vr)) head.writeUInt32LE(undefinedLength ? 0xffffffff : bytes.length, 8);
  else head.writeUInt16LE(bytes.length, 6);
  return Buffer.concat([head, bytes]);
}
function items(definedLength: boolean, ...sets: Buffer[][]): Buffer {
  return Buffer.concat(
    sets.flatMap((set) => {
      const body = Buffer.concat(set);
      const head = Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0]);
      head.writeUInt32LE(definedLength ? body.length : 0xffffffff, 4);
      return definedLength ? [head, body] : [head, body, Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0])];
    }),
  );
}
const SEQUENCE_END = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
const u16 = (...v: number[]) => Buffer.from(Uint16Array.from(v).buffer);
const f32 = (...v: number[]) => Buffer.from(Float32Array.from(v).buffer);
const f64 = (...v: number[]) => Buffer.from(Float64Array.from(v).buffer);
const i32 = (...v: number[]) => Buffer.from(Int32Array.from(v).buffer);

/** A file of the identifying elements and `more` (in tag order with them), as a modality may write it. */
function file(more: Buffer[], opts: { characterSet?: string; transferSyntaxUID?: string } = {}): Uint8Array {
  const sop = newUid();
  const ids = [
    ...(opts.characterSet === undefined ? [] : [el(0x00080005, 'CS', opts.characterSet)]),
    el(0x00080016, 'UI', `${SopClass.CTImageStorage}\0`),
    el(0x00080018, 'UI', sop.length % 2 ? `${sop}\0` : sop),
  ];
  const study = el(0x0020000d, 'UI', '1.2.3.4\0');
  const series = el(0x0020000e, 'UI', '1.2.3.5\0');
  const tagOf = (b: Buffer) => ((b.readUInt16LE(0) << 16) | b.readUInt16LE(2)) >>> 0;
  const all = [...ids, study, series, ...more].sort((a, b) => tagOf(a) - tagOf(b));
  const meta = { mediaStorageSOPClassUID: SopClass.CTImageStorage, mediaStorageSOPInstanceUID: sop };
  return part10File({ ...meta, transferSyntaxUID: opts.transferSyntaxUID ?? TransferSyntax.ExplicitVRLittleEndian }, Buffer.concat(all));
}

/** Files the reader takes: every value form it reads, each compared with dcmjs's reading. */
const READ_HERE: Record<string, Uint8Array> = {
  'factory instance': makeInstance(),
  'factory instance, sequences and multiple values': makeInstance({
    extra: {
      ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
      PixelSpacing: [0.5, 0.25],
      WindowCenter: [40, -600],
      ReferencedSeriesSequence: [{ SeriesInstanceUID: '1.2.3', ReferencedInstanceSequence: [{ ReferencedSOPInstanceUID: '1.2.4' }] }],
    },
  }),
  'fixture ct-explicit-le.dcm': readFileSync(join(__dirname, '../../fixtures/ct-explicit-le.dcm')),
  'fixture us-multiframe-jpeg.dcm (JPEG Baseline, Basic Offset Table)': readFileSync(
    join(__dirname, '../../fixtures/us-multiframe-jpeg.dcm'),
  ),
  'JPEG Baseline without offset table': makeInstance({
    transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit,
    numberOfFrames: 3,
    offsetTable: 'none',
  }),
  'text values': file([
    el(0x00080008, 'CS', 'ORIGINAL\\PRIMARY\\AXIAL '),
    el(0x00080060, 'CS', 'CT'),
    el(0x00081030, 'LO', 'Chest  '),
    el(0x00081010, 'SH', ''),
    el(0x00204000, 'LT', 'a\\b kept as one value'),
    el(0x00080081, 'ST', 'street\\split by dcmjs'),
    el(0x00080020, 'DA', '20240115'),
    el(0x00080030, 'TM', '101500.123 '),
    el(0x00080050, 'SH', 'ACC\\\\'),
    el(0x00081190, 'UR', 'http://example.org/x '),
  ]),
  'numbers as text': file([
    el(0x00280030, 'DS', ' 0.5\\-2.25E+01 '),
    el(0x00281050, 'DS', '40\\\\.5 '),
    el(0x00200013, 'IS', '+12 '),
    el(0x00200011, 'IS', ''),
    el(0x00181050, 'DS', '1.\\1e3 '),
  ]),
  'person names': file([
    el(0x00100010, 'PN', 'Doe^John=Ideo^Graphic=Pho^Netic '),
    el(0x00080090, 'PN', 'A^B\\C^D '),
    el(0x00081050, 'PN', '=Only^Ideographic'),
    el(0x00081070, 'PN', '=='),
  ]),
  'binary numbers': file([
    el(0x00280010, 'US', u16(512)),
    el(0x00281101, 'US', u16(256, 0, 16)),
    el(0x00280106, 'SS', Buffer.from(Int16Array.from([-1024, 3071]).buffer)),
    el(0x00180088, 'SL', i32(-5, 7)),
    el(0x00280008, 'UL', Buffer.from(Uint32Array.from([4294967295]).buffer)),
    el(0x00189089, 'FD', f64(0.1, -2.5e-300)),
    el(0x00189087, 'FL', f32(0.1, Number.NaN, Number.POSITIVE_INFINITY)),
    el(0x00209165, 'AT', Buffer.from([0x20, 0x00, 0x32, 0x00, 0x28, 0x00, 0x30, 0x00])),
  ]),
  'binary values, inline and bulk': file([
    el(0x00091010, 'OB', Buffer.from([1, 2, 3, 4])),
    el(0x00091011, 'OB', ''),
    el(0x00091012, 'OW', Buffer.alloc(THRESHOLD + 2, 7)),
    el(0x00090010, 'LO', 'PRIVATE CREATOR '),
    el(0x7fe00010, 'OW', Buffer.alloc(512, 3)),
  ]),
  'sequences of defined and undefined length, nested, with bulk data in an item': file([
    el(
      0x00081115,
      'SQ',
      items(true, [el(0x00081199, 'SQ', items(false, [el(0x00081155, 'UI', '1.2.10')])), el(0x0020000e, 'UI', '1.2.9\0')]),
    ),
    el(0x00082112, 'SQ', Buffer.concat([items(false, [el(0x00081150, 'UI', '1.2\0')]), SEQUENCE_END]), true),
    el(0x00400275, 'SQ', ''),
    el(0x00880200, 'SQ', items(true, [el(0x00280010, 'US', u16(8)), el(0x7fe00010, 'OB', Buffer.alloc(THRESHOLD + 8, 9))])),
  ]),
  'group lengths': file([el(0x00080000, 'UL', Buffer.from([4, 0, 0, 0])), el(0x00280000, 'UL', Buffer.from([0, 0, 0, 0]))]),
  'Specific Character Set ISO_IR 100': file([el(0x00100010, 'PN', 'Doe^Jane')], { characterSet: 'ISO_IR 100' }),
  'Specific Character Set ISO_IR 192': file([el(0x00100010, 'PN', 'Doe^Jane')], { characterSet: 'ISO_IR 192' }),
  'empty Specific Character Set': file([el(0x00100010, 'PN', 'Doe^Jane')], { characterSet: '' }),
};

/** Files left to readPart10: what dcmjs reads its own way, or refuses. */
const LEFT: Record<string, Uint8Array> = {
  'Implicit VR Little Endian': readFileSync(join(__dirname, '../../fixtures/mr-implicit-le.dcm')),
  'Extended Offset Table': makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, numberOfFrames: 2, offsetTable: 'extended' }),
  'Deflated Explicit VR Little Endian': writePart10(readPart10(makeInstance()), TransferSyntax.DeflatedExplicitVRLittleEndian),
  'text beyond ASCII': file([el(0x00100010, 'PN', 'M\xfcller^J\xfcrgen')], { characterSet: 'ISO_IR 100' }),
  'ISO 2022 character set': makeJapaneseInstance(),
  'an item with its own character set': file([el(0x00081115, 'SQ', items(true, [el(0x00080005, 'CS', 'ISO_IR 100')]))]),
  'a leading space in a value': file([el(0x00081030, 'LO', ' Chest')]),
  'a decimal string that is no number': file([el(0x00280030, 'DS', 'abc ')]),
  'a person name group with an inner space at its end': file([el(0x00100010, 'PN', 'Doe^John =X')]),
  'an empty person name among several': file([el(0x00100010, 'PN', '\\Second')]),
  'an empty item': file([el(0x00082112, 'SQ', Buffer.concat([items(false, [el(0x00081150, 'UI', '1.2\0')], []), SEQUENCE_END]), true)]),
  'an empty binary number': file([el(0x00280011, 'US', '')]),
  UN: file([el(0x00091010, 'UN', Buffer.from([1, 2]))]),
  OF: file([el(0x00091010, 'OF', f32(1))]),
  'tags out of order': file([el(0x00100010, 'PN', 'A'), el(0x00100010, 'PN', 'B')]),
  'Data Set Trailing Padding': file([el(0xfffcfffc, 'OB', Buffer.alloc(4))]),
  'a control character in a text': file([el(0x00204000, 'LT', 'line\r\nline')]),
};

describe('readPart10Json', () => {
  it('reads each value form as readPart10 and toDicomJson do, byte for byte once stringified', () => {
    for (const [name, bytes] of Object.entries(READ_HERE)) expect(readsAlike(name, bytes), `${name}: left to readPart10`).toBe(true);
  });

  it('leaves to readPart10 what dcmjs reads its own way', () => {
    for (const [name, bytes] of Object.entries(LEFT)) expect(readPart10Json(bytes, THRESHOLD, uri), name).toBeUndefined();
  });

  it('leaves every truncation and corruption to readPart10, or reads alike what it still takes', () => {
    // Every byte of the written files, flipped two ways: what dcmjs refuses is never read here.
    for (const [name, bytes] of Object.entries(READ_HERE)) {
      // The attributes, not the pixels of the larger files.
      const end = Math.min(bytes.length, 1600);
      for (let cut = 132; cut < end; cut += 3) readsAlike(`${name}, cut at ${cut}`, bytes.subarray(0, cut));
      for (let at = 132; at < end; at++) {
        for (const mask of [0x01, 0x5a]) {
          const corrupt = Uint8Array.from(bytes);
          corrupt[at]! ^= mask;
          readsAlike(`${name}, byte ${at} ^ ${mask}`, corrupt);
        }
      }
    }
  });

  it('reads the bench corpora and, where the machine has them, pydicom test files alike', () => {
    const files: [string, Uint8Array][] = [
      ...stowCorpus(4, 40_000, 2, 'PART10-JSON').files.map((f, i): [string, Uint8Array] => [`~40 KB corpus ${i}`, f]),
      ...stowCorpus(2, 500_000, 1, 'PART10-JSON').files.map((f, i): [string, Uint8Array] => [`~0.5 MB corpus ${i}`, f]),
    ];
    // python3-pydicom's files (Debian), when installed: real modalities' encodings, read alike or left.
    const pydicom = '/usr/lib/python3/dist-packages/pydicom/data';
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (statSync(path).size < 20_000_000) files.push([path, readFileSync(path)]);
      }
    };
    if (existsSync(pydicom)) walk(pydicom);
    const read = files.filter(([name, bytes]) => readsAlike(name, bytes)).length;
    expect(read).toBeGreaterThanOrEqual(6);
  });
});

describe('prepareInstance on a file readPart10Json reads', () => {
  /** prepareInstance's answer as through readPart10 (readInstance, frameOffsetsOf, preparedInstance). */
  function throughReadPart10(bytes: Uint8Array) {
    const read = readInstance(bytes, { patientInstance: true, bulkDataAbove: 1024 });
    if ('failed' in read) throw new Error('not read');
    return preparedInstance(read, { size: bytes.length, frameOffsets: frameOffsetsOf(bytes, read.instance) }, 1024);
  }
  // The object keys' versions are random (keys.ts objectVersion).
  const withoutVersions = (p: unknown) => JSON.parse(JSON.stringify(p).replace(/\.[0-9a-f]{16}-[0-9a-f]{8}\.(dcm|json)/g, '.V.$1'));

  it('makes the metadata, index entries and frame offsets of the dcmjs reading', () => {
    const files: Record<string, Uint8Array> = {
      'native Pixel Data above the threshold': newPart10(
        {
          ...readPart10(READ_HERE['factory instance, sequences and multiple values']!).dict,
          [Tag.PixelData]: { vr: 'OW', Value: [new Uint8Array(4096).fill(1).buffer] },
        },
        TransferSyntax.ExplicitVRLittleEndian,
      ),
      'JPEG, 8 frames, Basic Offset Table': makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, numberOfFrames: 8 }),
      'JPEG, 8 frames, no offset table': makeInstance({
        transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit,
        numberOfFrames: 8,
        offsetTable: 'none',
      }),
    };
    for (const [name, bytes] of Object.entries(files)) {
      expect(readPart10Json(bytes, 1024, uri), name).toBeDefined();
      const fast = prepareInstance(bytes, 1024);
      expect(withoutVersions(fast), name).toEqual(withoutVersions(throughReadPart10(bytes)));
      if (!('prepared' in fast)) throw new Error(`${name}: not prepared`);
      expect(fast.prepared.metadataJson, name).toMatch(/"7FE00010":\{"vr":"O[BW]","BulkDataURI":/);
    }
    // The frames of the JPEG without an offset table are found, as readPart10's reading finds them.
    const noTable = prepareInstance(files['JPEG, 8 frames, no offset table']!, 1024);
    expect('prepared' in noTable && noTable.prepared.entries.instance.instance?.frameOffsets).toHaveLength(9);
  });
});
