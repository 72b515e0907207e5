/**
 * Real Part 10 test data, generated with the codec layer (dcmjs underneath). Every UID not given is
 * fresh; pixel values are deterministic (pixelFrame) so tests can compare retrieved frames.
 */
import { PIXEL_DATA_SCAN_STOP } from '../../lambdas/dicom/frames/header-scan';
import type { DataSet } from '../../lambdas/dicom/data-set';
import { readPart10, scanPart10Header } from '../../lambdas/dicom/part10';
import { newPart10, writePart10 } from '../../lambdas/dicom/part10-write';
import { dataSetOf, part10File } from '../../lambdas/dimse/part10-file';
import { dataSet } from '../../lambdas/dicom/data-set';
import { tagOf } from '../../lambdas/dicom/dictionary';
import { Tag } from '../../lambdas/dicom/tags';
import { SopClass, TransferSyntax, newUid } from '../../lambdas/dicom/uid';

export { dataSet };

export interface InstanceOptions {
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  sopInstanceUID?: string;
  sopClassUID?: string;
  patientName?: string;
  patientID?: string;
  patientBirthDate?: string;
  patientSex?: string;
  studyDate?: string;
  studyTime?: string;
  accessionNumber?: string;
  studyID?: string;
  studyDescription?: string;
  referringPhysicianName?: string;
  modality?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  instanceNumber?: number;
  rows?: number;
  columns?: number;
  numberOfFrames?: number;
  bitsAllocated?: 8 | 16;
  /** default Explicit VR Little Endian; ImplicitVRLittleEndian and JPEGBaseline8Bit (fake but
   *  well-formed encapsulated fragments, one per frame, with offset table) also supported */
  transferSyntaxUID?: string;
  /** approximate total size in bytes: picks rows/columns so the pixel data reaches it */
  approximateBytes?: number;
  /** extra attributes by keyword, e.g. { InstitutionName: 'X' }; a sequence as an array of such objects */
  extra?: Record<string, unknown>;
  /** keywords to leave out (e.g. 'SOPInstanceUID' to make an invalid instance) */
  omit?: string[];
  /** JPEGBaseline8Bit: where the frames' offsets are (moveOffsetTable); default a Basic Offset Table */
  offsetTable?: 'basic' | 'none' | 'extended';
}

const MODALITY_OF: Readonly<Record<string, string>> = {
  [SopClass.CTImageStorage]: 'CT',
  [SopClass.MRImageStorage]: 'MR',
  [SopClass.UltrasoundImageStorage]: 'US',
  [SopClass.ComputedRadiographyImageStorage]: 'CR',
};

/**
 * The native bytes of frame `frameNumber` (1-based): byte i is (i * 7 + frameNumber) & 0xff.
 * For 16-bit data these are the little-endian bytes of the pixel values.
 */
export function pixelFrame(frameNumber: number, byteLength: number): Uint8Array {
  const frame = new Uint8Array(byteLength);
  for (let i = 0; i < byteLength; i++) frame[i] = (i * 7 + frameNumber) & 0xff;
  return frame;
}

/**
 * The fake JPEG bitstream of frame `frameNumber` in a JPEGBaseline8Bit instance: SOI, the native
 * frame bytes, EOI (PS3.5 A.4: one fragment per frame). Not decodable, but well-formed DICOM.
 */
export function fakeJpegFrame(frameNumber: number, nativeByteLength: number): Uint8Array {
  const body = pixelFrame(frameNumber, nativeByteLength);
  const frame = new Uint8Array(body.length + 4);
  frame.set([0xff, 0xd8]);
  frame.set(body, 2);
  frame.set([0xff, 0xd9], body.length + 2);
  return frame;
}

export function makeInstance(opts: InstanceOptions = {}): Uint8Array {
  const transferSyntaxUID = opts.transferSyntaxUID ?? TransferSyntax.ExplicitVRLittleEndian;
  const encapsulated = transferSyntaxUID === TransferSyntax.JPEGBaseline8Bit;
  const supported: string[] = [
    TransferSyntax.ExplicitVRLittleEndian,
    TransferSyntax.ImplicitVRLittleEndian,
    TransferSyntax.JPEGBaseline8Bit,
  ];
  if (!supported.includes(transferSyntaxUID)) throw new Error(`dicom-factory: unsupported transfer syntax ${transferSyntaxUID}`);

  const bitsAllocated = encapsulated ? 8 : (opts.bitsAllocated ?? 16);
  const numberOfFrames = opts.numberOfFrames ?? 1;
  const bytesPerPixel = bitsAllocated / 8;
  const side =
    opts.approximateBytes === undefined ? 4 : Math.max(1, Math.ceil(Math.sqrt(opts.approximateBytes / (numberOfFrames * bytesPerPixel))));
  const rows = opts.rows ?? side;
  const columns = opts.columns ?? side;
  const frameLength = rows * columns * bytesPerPixel;
  const sopClassUID = opts.sopClassUID ?? SopClass.CTImageStorage;

  let pixelData: DataSet[string];
  if (encapsulated) {
    pixelData = { vr: 'OB', Value: Array.from({ length: numberOfFrames }, (_, f) => fakeJpegFrame(f + 1, frameLength).buffer) };
  } else {
    const native = new Uint8Array(frameLength * numberOfFrames);
    for (let f = 0; f < numberOfFrames; f++) native.set(pixelFrame(f + 1, frameLength), f * frameLength);
    pixelData = { vr: bitsAllocated === 8 ? 'OB' : 'OW', Value: [native.buffer] };
  }

  const attributes: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: sopClassUID,
    SOPInstanceUID: opts.sopInstanceUID ?? newUid(),
    StudyDate: opts.studyDate ?? '20240115',
    StudyTime: opts.studyTime ?? '101500',
    AccessionNumber: opts.accessionNumber ?? 'ACC0001',
    Modality: opts.modality ?? MODALITY_OF[sopClassUID] ?? 'OT',
    ReferringPhysicianName: opts.referringPhysicianName ?? 'Referring^Doctor',
    StudyDescription: opts.studyDescription ?? 'Test study',
    SeriesDescription: opts.seriesDescription ?? 'Test series',
    PatientName: opts.patientName ?? 'Test^Patient',
    PatientID: opts.patientID ?? 'PID0001',
    PatientBirthDate: opts.patientBirthDate ?? '19700101',
    PatientSex: opts.patientSex ?? 'O',
    StudyInstanceUID: opts.studyInstanceUID ?? newUid(),
    SeriesInstanceUID: opts.seriesInstanceUID ?? newUid(),
    StudyID: opts.studyID ?? 'STUDY1',
    SeriesNumber: opts.seriesNumber ?? 1,
    InstanceNumber: opts.instanceNumber ?? 1,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    NumberOfFrames: opts.numberOfFrames,
    Rows: rows,
    Columns: columns,
    BitsAllocated: bitsAllocated,
    BitsStored: bitsAllocated,
    HighBit: bitsAllocated - 1,
    PixelRepresentation: 0,
    ...opts.extra,
  };
  const dict = dataSet(attributes);
  dict[Tag.PixelData] = pixelData;
  for (const keyword of opts.omit ?? []) {
    const tag = tagOf(keyword);
    if (tag !== undefined) delete dict[tag];
  }
  const file = newPart10(dict, transferSyntaxUID);
  return encapsulated && opts.offsetTable && opts.offsetTable !== 'basic' ? moveOffsetTable(file, opts.offsetTable) : file;
}

/**
 * The same data set bytes in the File Meta Information another sender writes (PS3.10 7.1): another
 * Implementation Class UID and Version Name (the DIMSE gateway's), and this Source AE Title.
 */
export function withOtherFileMeta(file: Uint8Array, sourceAETitle: string): Uint8Array {
  const instance = readPart10(file);
  const meta = { mediaStorageSOPClassUID: instance.sopClassUID, mediaStorageSOPInstanceUID: instance.sopInstanceUID };
  return part10File({ ...meta, transferSyntaxUID: instance.transferSyntaxUID, sourceAETitle }, dataSetOf(file));
}

/** The same data set re-encoded in Implicit VR Little Endian (PS3.5 A.1), as a C-STORE SCU may send it. */
export function inImplicitVR(file: Uint8Array): Uint8Array {
  return writePart10(readPart10(file), TransferSyntax.ImplicitVRLittleEndian);
}

/**
 * The same encapsulated file with an empty Basic Offset Table and, for 'extended', its offsets in an
 * Extended Offset Table and its Lengths (PS3.3 C.7.6.3.1.8, OV elements written before Pixel Data).
 */
export function moveOffsetTable(bytes: Uint8Array, to: 'none' | 'extended'): Uint8Array {
  const { stop } = scanPart10Header(bytes, PIXEL_DATA_SCAN_STOP)!;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const firstFragment = stop.valueStart + 8 + view.readUInt32LE(stop.valueStart + 4);
  const offsets: number[] = [];
  const lengths: number[] = [];
  for (let at = firstFragment; view.readUInt16LE(at + 2) === 0xe000; at += 8 + lengths.at(-1)!) {
    offsets.push(at - firstFragment);
    lengths.push(view.readUInt32LE(at + 4));
  }
  const ov = (element: number, values: number[]) => {
    const out = Buffer.alloc(12 + 8 * values.length);
    out.writeUInt32LE(0x7fe0 | (element << 16), 0);
    out.write('OV', 4, 'latin1');
    out.writeUInt32LE(8 * values.length, 8);
    values.forEach((v, k) => out.writeBigUInt64LE(BigInt(v), 12 + 8 * k));
    return out;
  };
  const elementStart = stop.valueStart - 12; // (7FE0,0010) OB: tag, VR, 2 reserved bytes, 4-byte length
  return Buffer.concat([
    view.subarray(0, elementStart),
    ...(to === 'extended' ? [ov(0x0001, offsets), ov(0x0002, lengths)] : []),
    view.subarray(elementStart, stop.valueStart),
    Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0]), // an empty Basic Offset Table
    view.subarray(firstFragment),
  ]);
}

export function makeStudy(opts: { series: number; instancesPerSeries: number } & InstanceOptions): {
  studyInstanceUID: string;
  instances: { seriesInstanceUID: string; sopInstanceUID: string; bytes: Uint8Array }[];
} {
  const { series, instancesPerSeries, ...instanceOptions } = opts;
  const studyInstanceUID = opts.studyInstanceUID ?? newUid();
  const instances = [];
  for (let s = 0; s < series; s++) {
    const seriesInstanceUID = newUid();
    for (let i = 0; i < instancesPerSeries; i++) {
      const sopInstanceUID = newUid();
      const bytes = makeInstance({
        ...instanceOptions,
        studyInstanceUID,
        seriesInstanceUID,
        sopInstanceUID,
        seriesNumber: s + 1,
        instanceNumber: i + 1,
      });
      instances.push({ seriesInstanceUID, sopInstanceUID, bytes });
    }
  }
  return { studyInstanceUID, instances };
}

/**
 * An instance whose text values are given as encoded bytes, for the character sets of PS3.3
 * C.12.1.1.2 (which dcmjs cannot write): `build` places `text(bytes)` wherever such a value goes
 * (SpecificCharacterSet included), each is written as an ASCII placeholder of the same length, and the
 * placeholders are then overwritten with the bytes (padded with a space to an even length).
 */
export function makeEncodedInstance(build: (text: (bytes: Uint8Array | string) => string) => InstanceOptions): Uint8Array {
  const replacements: { placeholder: Buffer; bytes: Buffer }[] = [];
  const text = (value: Uint8Array | string): string => {
    const raw = typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value);
    const length = Math.max(4, raw.length + (raw.length % 2));
    const bytes = Buffer.concat([raw, Buffer.alloc(length - raw.length, 0x20)]);
    const placeholder = `@${replacements.length}@`.padEnd(length, '#');
    replacements.push({ placeholder: Buffer.from(placeholder, 'latin1'), bytes });
    return placeholder;
  };
  const file = Buffer.from(makeInstance(build(text)));
  for (const { placeholder, bytes } of replacements) {
    const at = file.indexOf(placeholder);
    if (at < 0) throw new Error('dicom-factory: a text placeholder was not written');
    bytes.copy(file, at);
  }
  return new Uint8Array(file);
}

/** A piece of an encoded value: latin1 text, or bytes as hex pairs ('1b 24 42'). */
export type EncodedPart = string | { readonly hex: string };

/** The bytes of the pieces, in order: the encoded values of PS3.5 Annexes H-K. */
export function encoded(...parts: EncodedPart[]): Uint8Array {
  return Buffer.concat(
    parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p.hex.replace(/\s+/g, ''), 'hex'))),
  );
}

/** PS3.5 H.3.1: a Japanese Patient's Name in JIS X 0208 under Specific Character Set `\ISO 2022 IR 87`. */
export const JAPANESE_NAME = {
  bytes: encoded(
    'Yamada^Tarou=',
    { hex: '1b 24 42 3b 33 45 44 1b 28 42' },
    '^',
    { hex: '1b 24 42 42 40 4f 3a 1b 28 42' },
    '=',
    { hex: '1b 24 42 24 64 24 5e 24 40 1b 28 42' },
    '^',
    { hex: '1b 24 42 24 3f 24 6d 24 26 1b 28 42' },
  ),
  specificCharacterSet: '\\ISO 2022 IR 87',
  /** As DICOM JSON has it (PS3.18 F.2.2). */
  json: { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' },
} as const;

/** An instance whose Patient's Name is JAPANESE_NAME, encoded as received from a Japanese modality. */
export function makeJapaneseInstance(opts: InstanceOptions = {}): Uint8Array {
  return makeEncodedInstance((text) => ({
    ...opts,
    patientName: text(JAPANESE_NAME.bytes),
    extra: { ...opts.extra, SpecificCharacterSet: text(JAPANESE_NAME.specificCharacterSet) },
  }));
}
