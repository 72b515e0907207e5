/**
 * DICOM Part 10 files (PS3.10 7.1) written with dcmjs: a data set in a given transfer syntax, with
 * File Meta Information derived from it, each value encoded as the transfer syntax says (PS3.5 A.1-A.5).
 */
import { deflateRawSync } from 'node:zlib';
import { data as dcmjsData, type DcmjsDataSet } from 'dcmjs';
import { UTF8_TERM, hasNonAsciiText } from './character-sets';
import { firstString, type DataSet } from './data-set';
import { DICM, PREAMBLE_LENGTH } from './part10-scan';
import { Tag } from './tags';
import { TransferSyntax } from './uid';

/** Implementation Class UID (PS3.7 D.3.3.2) of files this archive writes; a fixed UUID-derived UID (PS3.5 B.2). */
const IMPLEMENTATION_CLASS_UID = '2.25.302582477409813853929541315512405298457';
const IMPLEMENTATION_VERSION_NAME = 'DICOMWEB_SEND_1';

/** PS3.5 7.3: binary VRs whose words are byte-swapped in big endian, by word size. */
const WORD_SIZE: Readonly<Record<string, number>> = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 };

/** Byte-swaps OW/OF/OL/OD/OV values in place (recursing into sequences): big <-> little endian. */
export function swapBinaryWords(set: DataSet): void {
  for (const element of Object.values(set)) {
    const wordSize = WORD_SIZE[element.vr];
    for (const value of element.Value ?? []) {
      if (element.vr === 'SQ') swapBinaryWords(value as DataSet);
      else if (wordSize !== undefined && value instanceof ArrayBuffer) {
        const bytes = new Uint8Array(value);
        for (let i = 0; i + wordSize <= bytes.length; i += wordSize) bytes.subarray(i, i + wordSize).reverse();
      }
    }
  }
}

/**
 * A deep copy of a data set whose binary values are fresh ArrayBuffers (so swapping never touches the
 * caller's). dcmjs's _rawValue of text values is kept: dcmjs writes it back when Value is unchanged, so
 * strings such as DS '1.50' stay byte-exact.
 */
function cloneDataSet(set: DataSet): DcmjsDataSet {
  const copy: DcmjsDataSet = {};
  for (const [tag, element] of Object.entries(set)) {
    const binary = element.vr === 'SQ' || element.vr.startsWith('O') || element.vr === 'UN';
    const Value = element.Value?.map((value) =>
      element.vr === 'SQ' ? cloneDataSet(value as DataSet) : value instanceof ArrayBuffer ? value.slice(0) : value,
    );
    const out: DcmjsDataSet[string] & { _rawValue?: unknown } = Value === undefined ? { vr: element.vr } : { vr: element.vr, Value };
    const raw = (element as { _rawValue?: unknown })._rawValue;
    if (!binary && raw !== undefined) out._rawValue = raw;
    copy[tag] = out;
  }
  return copy;
}

function uiElement(value: string) {
  return { vr: 'UI', Value: [value] };
}

/**
 * File Meta Information for a data set (PS3.10 7.1): the given meta, with the transfer syntax set and
 * the required elements filled in from the data set when missing.
 */
function fileMetaFor(meta: DataSet, dict: DataSet, transferSyntaxUID: string): DcmjsDataSet {
  const out = cloneDataSet(meta);
  delete out[Tag.FileMetaInformationGroupLength]; // dcmjs computes it
  out[Tag.FileMetaInformationVersion] ??= { vr: 'OB', Value: [new Uint8Array([0x00, 0x01]).buffer] };
  if (!out[Tag.MediaStorageSOPClassUID] && firstString(dict, Tag.SOPClassUID)) {
    out[Tag.MediaStorageSOPClassUID] = uiElement(firstString(dict, Tag.SOPClassUID));
  }
  if (!out[Tag.MediaStorageSOPInstanceUID] && firstString(dict, Tag.SOPInstanceUID)) {
    out[Tag.MediaStorageSOPInstanceUID] = uiElement(firstString(dict, Tag.SOPInstanceUID));
  }
  out[Tag.TransferSyntaxUID] = uiElement(transferSyntaxUID);
  out[Tag.ImplementationClassUID] ??= uiElement(IMPLEMENTATION_CLASS_UID);
  out[Tag.ImplementationVersionName] ??= { vr: 'SH', Value: [IMPLEMENTATION_VERSION_NAME] };
  return out;
}

function encodeFile(meta: DcmjsDataSet, dict: DcmjsDataSet): Uint8Array {
  const file = new dcmjsData.DicomDict(meta);
  file.dict = dict;
  // One fragment per frame (PS3.5 A.4): frames stay addressable through the Basic Offset Table.
  return new Uint8Array(file.write({ fragmentMultiframe: false }));
}

/**
 * Writes a Part 10 file in the given transfer syntax. The data set is written as it is: an encapsulated
 * transfer syntax needs Pixel Data that is already encapsulated (one ArrayBuffer per frame).
 */
export function writePart10(instance: { readonly meta: DataSet; readonly dict: DataSet }, transferSyntaxUID: string): Uint8Array {
  const dict = cloneDataSet(instance.dict);
  // dcmjs writes text as UTF-8: a data set without a character set of its own that needs more than
  // ASCII says so, or a reader would take those bytes for the default repertoire (PS3.3 C.12.1.1.2).
  if (!dict[Tag.SpecificCharacterSet] && hasNonAsciiText(dict as DataSet))
    dict[Tag.SpecificCharacterSet] = { vr: 'CS', Value: [UTF8_TERM] };
  if (transferSyntaxUID === TransferSyntax.ExplicitVRBigEndian) swapBinaryWords(dict as DataSet);
  if (transferSyntaxUID !== TransferSyntax.DeflatedExplicitVRLittleEndian) {
    return encodeFile(fileMetaFor(instance.meta, instance.dict, transferSyntaxUID), dict);
  }
  // PS3.5 A.5: the data set is Explicit VR Little Endian compressed with raw Deflate (RFC 1951).
  const header = encodeFile(fileMetaFor(instance.meta, instance.dict, transferSyntaxUID), {});
  const plain = encodeFile(fileMetaFor(instance.meta, instance.dict, TransferSyntax.ExplicitVRLittleEndian), dict);
  const metaEnd = PREAMBLE_LENGTH + DICM.length + 12 + new DataView(plain.buffer).getUint32(PREAMBLE_LENGTH + DICM.length + 8, true);
  const deflated = deflateRawSync(plain.subarray(metaEnd));
  const out = new Uint8Array(header.length + deflated.length);
  out.set(header);
  out.set(deflated, header.length);
  return out;
}

/** A new Part 10 file of a data set built in code (File Meta Information derived from it). */
export function newPart10(dict: DataSet, transferSyntaxUID: string = TransferSyntax.ExplicitVRLittleEndian): Uint8Array {
  return writePart10({ meta: {}, dict }, transferSyntaxUID);
}
