/**
 * DICOM Part 10 files (PS3.10 7) read and written with dcmjs.
 *
 * dcmjs silently accepts a file cut short inside a binary value, and can be sent into long loops by
 * garbage lengths, so every file is first walked element by element (PS3.5 7.1, 7.5, A.4) and
 * refused with a Part10Error unless each value, item and fragment lies inside the bytes.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { data as dcmjsData, log as dcmjsLog, type DcmjsDataSet } from 'dcmjs';
import {
  CHARACTER_SET_VRS,
  UTF8_TERM,
  characterSetDecoding,
  hasNonAsciiText,
  isLatin1Compatible,
  latin1Bytes,
  specificCharacterSetTerms,
  type TextDecoding,
} from './character-sets';
import { vrsOf } from './dictionary';
import {
  asciiDecoder,
  BulkDataValue,
  DICM,
  ElementWalker,
  encodingOf,
  EXPLICIT_LE,
  isPlainBinary,
  Part10Error,
  PIXEL_DATA,
  PREAMBLE_LENGTH,
  readFileMeta,
  UNDEFINED_LENGTH,
  type ElementExtent,
  type ElementVisitor,
  type Encoding,
} from './part10-scan';

export { binaryValueBytes, BulkDataValue, Part10Error, scanPart10Header, type ElementAt, type Part10Header } from './part10-scan';
import { Tag, tagString } from './tags';
import { TransferSyntax, isUncompressedTransferSyntax } from './uid';

// dcmjs logs through loglevel, sometimes with element values: silence it so no patient data reaches the logs.
dcmjsLog.setLevel('silent');
for (const logger of Object.values(dcmjsLog.getLoggers())) logger.setLevel('silent');

/** The instance cannot be re-encoded in the requested transfer syntax. */
export class TranscodeError extends Error {}

export type DataSet = Record<string, { vr: string; Value?: unknown[] }>;

export interface ParsedInstance {
  readonly transferSyntaxUID: string;
  /** '' when absent, like the four UIDs below. */
  readonly sopClassUID: string;
  readonly sopInstanceUID: string;
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID: string;
  readonly mediaStorageSOPInstanceUID: string;
  readonly mediaStorageSOPClassUID: string;
  /** File Meta Information (group 0002) as a dcmjs dict. */
  readonly meta: DataSet;
  /**
   * The data set as a dcmjs dict: tag -> { vr, Value }. Strings, numbers, PN as { Alphabetic, ... },
   * AT as numbers, sequences as arrays of dicts, binary values as ArrayBuffer[] in little-endian byte
   * order whatever the transfer syntax, encapsulated Pixel Data as one ArrayBuffer per frame or fragment;
   * a value left unread (readPart10's `bulkDataAbove`) as one BulkDataValue.
   */
  readonly dict: DataSet;
}

/** PS3.5 7.3: binary VRs whose words are byte-swapped in big endian, by word size. */
const WORD_SIZE: Readonly<Record<string, number>> = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 };

/** Implementation Class UID (PS3.7 D.3.3.2) of files this archive writes; a fixed UUID-derived UID (PS3.5 B.2). */
const IMPLEMENTATION_CLASS_UID = '2.25.302582477409813853929541315512405298457';
const IMPLEMENTATION_VERSION_NAME = 'DICOMWEB_SEND_1';

function firstString(set: DataSet, tag: string): string {
  const value = set[tag]?.Value?.[0];
  return typeof value === 'string' ? value.replace(/[\0 ]+$/, '') : '';
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const { buffer, byteOffset, byteLength } = bytes;
  if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) return buffer;
  return new Uint8Array(bytes).buffer; // a copy of exactly these bytes (Buffer#slice would not copy)
}

/** Byte-swaps OW/OF/OL/OD/OV values in place (recursing into sequences): big <-> little endian. */
function swapBinaryWords(set: DataSet): void {
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
 * PS3.5 A.1 (c): in Implicit VR, an element whose dictionary VR is 'US or SS' is SS when Pixel
 * Representation (0028,0103) is 1. dcmjs reads them all as US; relabel and re-sign them so the values
 * are right and a re-encoding in Explicit VR carries the right VR.
 */
function resolveUsOrSs(dict: DataSet): void {
  if (Number(dict[Tag.PixelRepresentation]?.Value?.[0]) !== 1) return;
  for (const [tag, element] of Object.entries(dict)) {
    if (element.vr !== 'US' || !vrsOf(tag).includes('SS')) continue;
    dict[tag] = { vr: 'SS', Value: element.Value?.map((v) => (typeof v === 'number' && v > 0x7fff ? v - 0x10000 : v)) };
  }
}

export interface ReadPart10Options {
  /**
   * Top-level binary values (OB OD OF OL OV OW; in Implicit VR, Pixel Data) longer than this many bytes,
   * and encapsulated Pixel Data, are not read: the dict holds a BulkDataValue, where the value lies in
   * the bytes, instead of a copy of it. For a reader that wants the attributes and not the pixels (a
   * Store request, whose DICOM JSON gives those values a BulkDataURI): dcmjs copies every value it
   * reads, and a Pixel Data copy per instance in flight is most of what storing holds in memory.
   */
  readonly bulkDataAbove?: number;
}

/**
 * Reads a Part 10 file (PS3.10 7.1: preamble, 'DICM', File Meta Information, data set).
 * Throws Part10Error, and nothing else, when the bytes are not a well-formed Part 10 file.
 */
export function readPart10(bytes: Uint8Array, opts: ReadPart10Options = {}): ParsedInstance {
  try {
    return parse(bytes, opts);
  } catch (error) {
    if (error instanceof Part10Error) throw error;
    // dcmjs throws plain Errors, TypeErrors, RangeErrors: all mean "cannot understand".
    throw new Part10Error('not a readable DICOM Part 10 file');
  }
}

/** An empty Basic Offset Table item and the Sequence Delimitation Item (PS3.5 A.4): encapsulated Pixel Data without fragments. */
const NO_FRAGMENTS = Uint8Array.from([0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);

/** The top-level values of a data set that readPart10's `bulkDataAbove` leaves unread. */
function unreadValues(dataSet: Uint8Array, enc: Encoding, above: number): ElementExtent[] {
  const unread: ElementExtent[] = [];
  new ElementWalker(dataSet).topLevel(0, dataSet.length, enc, (element) => {
    const encapsulated = element.length === UNDEFINED_LENGTH;
    if (isPlainBinary(element) && (encapsulated ? element.tag === PIXEL_DATA : element.length > above)) unread.push(element);
  });
  return unread;
}

/**
 * dcmjs reads encapsulated Pixel Data that has a Basic Offset Table (PS3.5 A.4) window by window: from
 * each offset (counted from the first fragment) to the next, the last to the end of the file, the
 * items of each until its end or the Sequence Delimitation Item, and it reads on with the data set
 * where the last window ended. readPart10's `bulkDataAbove` hands dcmjs no items, so what dcmjs would
 * refuse of them is refused here: a window that meets anything but an item or the delimiter, or that
 * runs past the file, and a last window that does not end where the items do (dcmjs would read the
 * rest of the data set from elsewhere). The items themselves the walk has checked.
 */
function checkOffsetTable(dataSet: Uint8Array, e: ElementExtent): void {
  const walker = new ElementWalker(dataSet);
  const tableLength = walker.itemLength(e.valueStart, dataSet.length, EXPLICIT_LE);
  if (tableLength === 0) return;
  if (tableLength % 4 !== 0) throw new Part10Error('a Basic Offset Table whose length is not a multiple of 4');
  const view = new DataView(dataSet.buffer, dataSet.byteOffset, dataSet.byteLength);
  const first = e.valueStart + 8 + tableLength;
  const starts = Array.from({ length: tableLength / 4 }, (_, k) => first + view.getUint32(e.valueStart + 8 + 4 * k, true));
  let end = first;
  starts.forEach((start, k) => {
    const stop = starts[k + 1] ?? dataSet.length;
    let pos = start;
    while (pos < stop) {
      // An item, or the Sequence Delimitation Item (of length 0), where the window reads; else Part10Error.
      const length = walker.fragmentLength(pos, dataSet.length, EXPLICIT_LE);
      pos += 8;
      if (length === undefined) break;
      pos += length;
      if (pos > dataSet.length) throw new Part10Error('a Basic Offset Table offset where no item starts');
    }
    end = pos;
  });
  if (end !== e.end) throw new Part10Error('a Basic Offset Table that does not fit the fragments');
}

/**
 * A copy of a Part 10 file without the values of `unread` (positions from `dataSetStart`): each value
 * of defined length becomes empty (its length field 0), encapsulated Pixel Data an empty offset table.
 */
function withoutValues(bytes: Uint8Array, dataSetStart: number, unread: readonly ElementExtent[]): Uint8Array {
  let size = bytes.length;
  for (const e of unread) size -= e.end - e.valueStart - (e.length === UNDEFINED_LENGTH ? NO_FRAGMENTS.length : 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let from = 0;
  let to = 0;
  for (const e of unread) {
    const valueStart = dataSetStart + e.valueStart;
    out.set(bytes.subarray(from, valueStart), to);
    to += valueStart - from;
    if (e.length === UNDEFINED_LENGTH) {
      out.set(NO_FRAGMENTS, to);
      to += NO_FRAGMENTS.length;
    } else {
      view.setUint32(to - 4, 0); // the 4-byte length field just before the value: 0 in either byte order
    }
    from = dataSetStart + e.end;
  }
  out.set(bytes.subarray(from), to);
  return out;
}

function parse(bytes: Uint8Array, opts: ReadPart10Options): ParsedInstance {
  const walker = new ElementWalker(bytes);
  const { transferSyntaxUID, metaEnd } = readFileMeta(bytes, walker);

  // Every Specific Character Set (0008,0005) of the data set and its items, in the order of the bytes.
  const characterSets: { readonly valueStart: number; readonly length: number; readonly terms: string[] }[] = [];
  const findCharacterSetsIn =
    (dataSetBytes: Uint8Array): ElementVisitor =>
    (tag, valueStart, length) => {
      if (tag !== SPECIFIC_CHARACTER_SET) return;
      const terms = specificCharacterSetTerms(asciiDecoder.decode(dataSetBytes.subarray(valueStart, valueStart + length)));
      characterSets.push({ valueStart, length, terms });
    };
  const deflated = transferSyntaxUID === TransferSyntax.DeflatedExplicitVRLittleEndian;
  // The data set's own bytes: inflated (a copy of ours) when deflated, else a view of the caller's.
  const dataSet = deflated ? inflate(bytes.subarray(metaEnd)) : bytes.subarray(metaEnd);
  if (dataSet.length === 0) throw new Part10Error('empty data set');
  const encoding = deflated ? EXPLICIT_LE : encodingOf(transferSyntaxUID);
  new ElementWalker(dataSet).dataSet(0, dataSet.length, encoding, false, findCharacterSetsIn(dataSet), true);
  // A deflated data set is read whole: leaving values out would mean deflating it again for dcmjs.
  const unread = opts.bulkDataAbove === undefined || deflated ? [] : unreadValues(dataSet, encoding, opts.bulkDataAbove);
  // What dcmjs would refuse of the items it does not read now, refused all the same.
  for (const e of unread) if (e.length === UNDEFINED_LENGTH) checkOffsetTable(dataSet, e);

  // dcmjs reads the values of a data set's own character set only when it has one value it knows, and
  // those of sequence items always as ISO 8859-1. Unless every character set here reads as ISO 8859-1,
  // each is blanked while dcmjs reads (and restored after: the caller's bytes come back unchanged, with
  // no copy of an object that may be large), so that dcmjs reads every text value as ISO 8859-1, one
  // character per byte; the values are then decoded from those bytes in the character set of each.
  // A deflated data set is blanked in its inflated copy and deflated again for dcmjs, which inflates it.
  const decodeTexts = characterSets.some((set) => !isLatin1Compatible(set.terms));
  const blanked = decodeTexts ? characterSets : [];
  // What the caller's bytes held there, copied (a Buffer's slice would share the bytes it restores).
  const originals = deflated ? [] : blanked.map((set) => Uint8Array.from(dataSet.subarray(set.valueStart, set.valueStart + set.length)));
  let file: ReturnType<typeof dcmjsData.DicomMessage.readFile>;
  try {
    for (const set of blanked) dataSet.fill(0x20, set.valueStart, set.valueStart + set.length);
    const input =
      deflated && decodeTexts
        ? Buffer.concat([bytes.subarray(0, metaEnd), deflateRawSync(dataSet)])
        : unread.length > 0
          ? withoutValues(bytes, metaEnd, unread)
          : bytes;
    file = dcmjsData.DicomMessage.readFile(toArrayBuffer(input), { ignoreErrors: false });
  } finally {
    originals.forEach((original, i) => dataSet.set(original, blanked[i]!.valueStart));
  }
  const meta = file.meta as DataSet;
  const dict = file.dict as DataSet;
  for (const e of unread) {
    const key = tagString(e.tag);
    dict[key] = { vr: dict[key]?.vr ?? e.vr ?? 'OW', Value: [new BulkDataValue(metaEnd + e.valueStart, e.end - e.valueStart)] };
  }
  if (decodeTexts) decodeTextValues(dict, characterSetDecoding([]), characterSets.map((set) => set.terms));
  if (transferSyntaxUID === TransferSyntax.ExplicitVRBigEndian) swapBinaryWords(dict);
  if (transferSyntaxUID === TransferSyntax.ImplicitVRLittleEndian) resolveUsOrSs(dict);
  return {
    transferSyntaxUID,
    sopClassUID: firstString(dict, Tag.SOPClassUID),
    sopInstanceUID: firstString(dict, Tag.SOPInstanceUID),
    studyInstanceUID: firstString(dict, Tag.StudyInstanceUID),
    seriesInstanceUID: firstString(dict, Tag.SeriesInstanceUID),
    mediaStorageSOPClassUID: firstString(meta, Tag.MediaStorageSOPClassUID),
    mediaStorageSOPInstanceUID: firstString(meta, Tag.MediaStorageSOPInstanceUID),
    meta,
    dict,
  };
}

const SPECIFIC_CHARACTER_SET = 0x00080005;
/** Text of ASCII characters other than ESC: the same in every character set whose G0 is ASCII. */
const PLAIN_ASCII = /^[\x00-\x1a\x1c-\x7f]*$/;
/** dcmjs's reader of each VR, made once. */
const readers = new Map<string, ReturnType<typeof dcmjsData.ValueRepresentation.createByTypeString>>();
function readerOf(vr: string) {
  let reader = readers.get(vr);
  if (!reader) readers.set(vr, (reader = dcmjsData.ValueRepresentation.createByTypeString(vr)));
  return reader;
}

/**
 * Decodes the text values of a data set that dcmjs read as ISO 8859-1 (its blanked character sets)
 * in the character set that applies to each (PS3.5 6.1.2.3): the data set's own, else the enclosing
 * data set's. `designated` holds the original terms of the blanked (0008,0005)s in the order of the
 * bytes, which is the order dcmjs read them in. Afterwards the values are Unicode and each (0008,0005)
 * says ISO_IR 192, as dcmjs leaves every data set it decodes, so that writing them back is consistent.
 */
function decodeTextValues(set: DataSet, inherited: TextDecoding, designated: string[][]): void {
  let decoding = inherited;
  for (const [tag, element] of Object.entries(set)) {
    const raw = (element as { _rawValue?: unknown })._rawValue;
    const text = Array.isArray(raw) ? raw.join('\\') : typeof raw === 'string' ? raw : undefined;
    if (tag === Tag.SpecificCharacterSet) {
      // Blanked here, or (in a sequence of defined length in Implicit VR, which the walk does not enter) left as it was.
      const terms = text === undefined || text.trim() === '' ? (designated.shift() ?? []) : specificCharacterSetTerms(text);
      decoding = characterSetDecoding(terms);
      set[tag] = { vr: 'CS', Value: [UTF8_TERM] };
    } else if (element.vr === 'SQ') {
      for (const item of element.Value ?? []) decodeTextValues(item as DataSet, decoding, designated);
    } else if (CHARACTER_SET_VRS.has(element.vr) && text && !(decoding.asciiIsAscii && PLAIN_ASCII.test(text))) {
      const decoded = decoding.decode(latin1Bytes(text), element.vr);
      const reader = readerOf(element.vr);
      // As dcmjs keeps them: PN formatted whole (into one object per value), LT as one value, the rest split at "\\".
      const values = element.vr === 'PN' ? decoded : element.vr === 'LT' ? [decoded] : decoded.split('\\');
      Object.assign(element, {
        Value: typeof values === 'string' ? (reader.applyFormatting(values) as unknown[]) : values.map((v) => reader.applyFormatting(v)),
        _rawValue: values,
      });
    }
  }
}

function inflate(bytes: Uint8Array): Uint8Array {
  try {
    return inflateRawSync(bytes);
  } catch {
    throw new Part10Error('deflated data set cannot be inflated');
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
export function writePart10(instance: Pick<ParsedInstance, 'meta' | 'dict'>, transferSyntaxUID: string): Uint8Array {
  const dict = cloneDataSet(instance.dict);
  // dcmjs writes text as UTF-8: a data set without a character set of its own that needs more than
  // ASCII says so, or a reader would take those bytes for the default repertoire (PS3.3 C.12.1.1.2).
  if (!dict[Tag.SpecificCharacterSet] && hasNonAsciiText(dict as DataSet)) dict[Tag.SpecificCharacterSet] = { vr: 'CS', Value: [UTF8_TERM] };
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

/**
 * Returns the bytes unchanged when already Explicit VR Little Endian; re-encodes the other uncompressed
 * transfer syntaxes (PS3.5 A.1-A.5), keeping every value and the Pixel Data byte-exact; throws
 * TranscodeError for encapsulated (compressed) ones, which would need a codec.
 */
export function toExplicitVRLittleEndian(bytes: Uint8Array): Uint8Array {
  const instance = readPart10(bytes);
  if (instance.transferSyntaxUID === TransferSyntax.ExplicitVRLittleEndian) return bytes;
  if (!isUncompressedTransferSyntax(instance.transferSyntaxUID)) {
    throw new TranscodeError(`cannot decompress transfer syntax ${instance.transferSyntaxUID}`);
  }
  return writePart10(instance, TransferSyntax.ExplicitVRLittleEndian);
}

/** A new Part 10 file of a data set built in code (File Meta Information derived from it). */
export function newPart10(dict: DataSet, transferSyntaxUID: string = TransferSyntax.ExplicitVRLittleEndian): Uint8Array {
  return writePart10({ meta: {}, dict }, transferSyntaxUID);
}
