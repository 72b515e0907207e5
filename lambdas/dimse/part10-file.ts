/**
 * Between the data set a C-STORE carries (encoded in the presentation context's transfer syntax, no
 * File Meta Information) and the Part 10 file the archive stores as received (PS3.10 7.1). The data
 * set bytes are never re-encoded, so what a DIMSE peer sent is what WADO-RS returns. Pure.
 */
import { Part10Error } from '../dicom/part10';

/** PS3.10 7.1: Implementation Class UID of this archive (a UUID-derived UID, PS3.5 B.2). */
export const IMPLEMENTATION_CLASS_UID = '2.25.268187318417196416212937419620950467381';
export const IMPLEMENTATION_VERSION_NAME = 'DICOMWEB_ARCH_1';

export interface FileMeta {
  readonly mediaStorageSOPClassUID: string;
  readonly mediaStorageSOPInstanceUID: string;
  readonly transferSyntaxUID: string;
  /** (0002,0016) Source Application Entity Title: the calling AE of the C-STORE. */
  readonly sourceAETitle?: string;
}

/** One explicit VR little endian element of the File Meta group (PS3.10 7.1, PS3.5 7.1.2). */
function element(elementNumber: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OB';
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(0x0002, 0);
  header.writeUInt16LE(elementNumber, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

/** PS3.5 6.2: UI values are padded with NUL, other string values with a space, to even length. */
function text(value: string, pad: '\0' | ' '): Buffer {
  return Buffer.from(value.length % 2 ? value + pad : value, 'latin1');
}

/**
 * A Part 10 file: preamble, 'DICM', File Meta Information, then the data set bytes unchanged, given
 * whole or as the fragments they arrived in (copied once, into the file).
 */
export function part10File(meta: FileMeta, dataSet: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const elements = [
    element(0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 'UI', text(meta.mediaStorageSOPClassUID, '\0')),
    element(0x0003, 'UI', text(meta.mediaStorageSOPInstanceUID, '\0')),
    element(0x0010, 'UI', text(meta.transferSyntaxUID, '\0')),
    element(0x0012, 'UI', text(IMPLEMENTATION_CLASS_UID, '\0')),
    element(0x0013, 'SH', text(IMPLEMENTATION_VERSION_NAME, ' ')),
    ...(meta.sourceAETitle ? [element(0x0016, 'AE', text(meta.sourceAETitle, ' '))] : []),
  ];
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(elements.reduce((n, e) => n + e.length, 0));
  const fragments = dataSet instanceof Uint8Array ? [dataSet] : dataSet;
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), element(0x0000, 'UL', groupLength), ...elements, ...fragments]);
}

/**
 * The data set of a Part 10 file, after its File Meta Information, found through File Meta
 * Information Group Length (0002,0000), which PS3.10 7.1 makes mandatory.
 */
export function dataSetOf(file: Uint8Array): Uint8Array {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < 144 || buf.toString('latin1', 128, 132) !== 'DICM') throw new Part10Error('not a Part 10 file');
  if (buf.readUInt16LE(132) !== 0x0002 || buf.readUInt16LE(134) !== 0x0000 || buf.toString('latin1', 136, 138) !== 'UL') {
    throw new Part10Error('the File Meta Information does not start with its Group Length');
  }
  const end = 144 + buf.readUInt32LE(140);
  if (end > buf.length) throw new Part10Error('the File Meta Information Group Length exceeds the file');
  return file.subarray(end);
}
