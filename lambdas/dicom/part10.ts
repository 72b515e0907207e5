/**
 * DICOM Part 10 files (PS3.10 7) read and written with dcmjs.
 *
 * dcmjs silently accepts a file cut short inside a binary value, and can be sent into long loops by
 * garbage lengths, so every file is first walked element by element (PS3.5 7.1, 7.5, A.4) and
 * refused with a Part10Error unless each value, item and fragment lies inside the bytes.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import dcmjs, { type DcmjsDataSet } from 'dcmjs';
import { CHARACTER_SET_VRS, UTF8_TERM, characterSetDecoding, hasNonAsciiText, isLatin1Compatible, latin1Bytes, type TextDecoding } from './character-sets';
import { vrsOf } from './dictionary';
import { Tag } from './tags';
import { TransferSyntax, isUncompressedTransferSyntax } from './uid';

// dcmjs logs through loglevel, sometimes with element values: silence it so no patient data reaches the logs.
dcmjs.log.setLevel('silent');
for (const logger of Object.values(dcmjs.log.getLoggers())) logger.setLevel('silent');

/** The bytes are not a DICOM Part 10 file this service can understand (malformed, truncated, not DICOM). */
export class Part10Error extends Error {}
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
   * order whatever the transfer syntax, encapsulated Pixel Data as one ArrayBuffer per frame or fragment.
   */
  readonly dict: DataSet;
}

const PREAMBLE_LENGTH = 128;
const DICM = 'DICM';
const UNDEFINED_LENGTH = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_DELIMITATION = 0xfffee00d;
const SEQUENCE_DELIMITATION = 0xfffee0dd;
const PIXEL_DATA = 0x7fe00010;

/** PS3.5 7.1.2: VRs with a 2-byte reserved field and a 4-byte length in explicit VR encoding. */
const LONG_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
/** PS3.5 6.2: every VR. */
const VRS: ReadonlySet<string> = new Set([
  ...LONG_VRS,
  ...['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'PN', 'SH', 'SL', 'SS', 'ST', 'TM', 'UI', 'UL', 'US'],
]);
/** PS3.5 7.3: binary VRs whose words are byte-swapped in big endian, by word size. */
const WORD_SIZE: Readonly<Record<string, number>> = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 };

/** Implementation Class UID (PS3.7 D.3.3.2) of files this archive writes; a fixed UUID-derived UID (PS3.5 B.2). */
const IMPLEMENTATION_CLASS_UID = '2.25.302582477409813853929541315512405298457';
const IMPLEMENTATION_VERSION_NAME = 'DICOMWEB_SEND_1';

interface Encoding {
  readonly explicitVR: boolean;
  readonly littleEndian: boolean;
}
const EXPLICIT_LE: Encoding = { explicitVR: true, littleEndian: true };
const IMPLICIT_LE: Encoding = { explicitVR: false, littleEndian: true };

function encodingOf(transferSyntaxUID: string): Encoding {
  if (transferSyntaxUID === TransferSyntax.ImplicitVRLittleEndian) return IMPLICIT_LE;
  if (transferSyntaxUID === TransferSyntax.ExplicitVRBigEndian) return { explicitVR: true, littleEndian: false };
  return EXPLICIT_LE; // PS3.5 A.4: every encapsulated transfer syntax is Explicit VR Little Endian
}

/** Sees a value of defined length: its tag, where it starts, its length, and its VR in explicit VR. */
type ElementVisitor = (tag: number, valueStart: number, length: number, vr: string | undefined) => void;

/** One element as encoded: its VR only in explicit VR; length may be undefined (0xFFFFFFFF). */
export interface ElementAt {
  readonly tag: number;
  readonly vr?: string;
  readonly length: number;
  readonly valueStart: number;
}

/** Structural walk of encoded elements; throws Part10Error at the first value that does not fit. */
class ElementWalker {
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(pos: number, count: number, end: number): void {
    if (pos + count > end) throw new Part10Error('truncated data element');
  }

  private tagAt(pos: number, enc: Encoding): number {
    const group = this.view.getUint16(pos, enc.littleEndian);
    const element = this.view.getUint16(pos + 2, enc.littleEndian);
    return ((group << 16) | element) >>> 0;
  }

  /**
   * Walks the elements in [pos, end). Inside an item of undefined length, returns just after its
   * Item Delimitation Item (PS3.5 7.5.1); otherwise returns end. `visit` sees the top-level values of
   * defined length, and with `nested` those inside sequence items too, in the order of the bytes.
   */
  dataSet(pos: number, end: number, enc: Encoding, inUndefinedItem: boolean, visit?: ElementVisitor, nested = false): number {
    return this.walk(pos, end, enc, inUndefinedItem, visit, undefined, nested ? visit : undefined).end;
  }

  /**
   * Walks the top-level elements in [pos, end) up to the first whose tag is stopTag or above (PS3.5 7.1:
   * a data set is in ascending tag order), whose value need not lie in the bytes: the bytes may be
   * only the beginning of a file. Answers that element, or undefined when the bytes end before it.
   */
  header(pos: number, end: number, enc: Encoding, stopTag: number, visit?: ElementVisitor): ElementAt | undefined {
    return this.walk(pos, end, enc, false, visit, stopTag).stop;
  }

  /** The element whose header starts at pos: tag, VR (explicit VR only), value length and value start. */
  private element(pos: number, end: number, enc: Encoding): ElementAt {
    const tag = this.tagAt(pos, enc);
    if (!enc.explicitVR) return { tag, length: this.view.getUint32(pos + 4, enc.littleEndian), valueStart: pos + 8 };
    const vr = String.fromCharCode(this.bytes[pos + 4]!, this.bytes[pos + 5]!);
    if (!VRS.has(vr)) throw new Part10Error('unknown value representation');
    if (!LONG_VRS.has(vr)) return { tag, vr, length: this.view.getUint16(pos + 6, enc.littleEndian), valueStart: pos + 8 };
    this.need(pos, 12, end);
    return { tag, vr, length: this.view.getUint32(pos + 8, enc.littleEndian), valueStart: pos + 12 };
  }

  private walk(
    pos: number,
    end: number,
    enc: Encoding,
    inUndefinedItem: boolean,
    visit?: ElementVisitor,
    stopTag?: number,
    visitNested?: ElementVisitor,
  ): { end: number; stop?: ElementAt } {
    while (pos < end) {
      this.need(pos, 8, end);
      const tag = this.tagAt(pos, enc);
      if (tag === ITEM_DELIMITATION && inUndefinedItem) return { end: pos + 8 };
      if (tag >>> 16 === 0xfffe) throw new Part10Error('unexpected item or delimiter in a data set');
      const element = this.element(pos, end, enc);
      if (stopTag !== undefined && tag >= stopTag) return { end: pos, stop: element };
      const { vr, length } = element;
      pos = element.valueStart;
      if (length === UNDEFINED_LENGTH) {
        if (tag === PIXEL_DATA && vr !== 'SQ') pos = this.fragments(pos, end, enc);
        // PS3.5 6.2.2: a UN value of undefined length is a sequence encoded in Implicit VR Little Endian.
        // Its items are not visited: dcmjs keeps such a value as bytes, so they are no items of its data set.
        else if (vr === 'UN') pos = this.sequence(pos, end, IMPLICIT_LE);
        else if (vr === undefined || vr === 'SQ') pos = this.sequence(pos, end, enc, visitNested);
        else throw new Part10Error('undefined length on a value that is not a sequence');
      } else {
        this.need(pos, length, end);
        if (vr === 'SQ') this.definedSequence(pos, pos + length, enc, visitNested);
        visit?.(tag, pos, length, vr);
        pos += length;
      }
    }
    if (inUndefinedItem) throw new Part10Error('item without Item Delimitation Item');
    return { end };
  }

  /** A sequence of defined length: items fill [pos, end) exactly. */
  private definedSequence(pos: number, end: number, enc: Encoding, visit?: ElementVisitor): void {
    while (pos < end) pos = this.item(pos, end, enc, visit);
  }

  /** A sequence of undefined length (PS3.5 7.5.2): items up to the Sequence Delimitation Item. */
  private sequence(pos: number, end: number, enc: Encoding, visit?: ElementVisitor): number {
    for (;;) {
      this.need(pos, 8, end);
      if (this.tagAt(pos, enc) === SEQUENCE_DELIMITATION) return pos + 8;
      pos = this.item(pos, end, enc, visit);
    }
  }

  /** One item; `visit`, when given, sees its values (and those of the items within). */
  private item(pos: number, end: number, enc: Encoding, visit?: ElementVisitor): number {
    this.need(pos, 8, end);
    if (this.tagAt(pos, enc) !== ITEM) throw new Part10Error('expected an item in a sequence');
    const length = this.view.getUint32(pos + 4, enc.littleEndian);
    pos += 8;
    if (length === UNDEFINED_LENGTH) return this.dataSet(pos, end, enc, true, visit, true);
    this.need(pos, length, end);
    this.dataSet(pos, pos + length, enc, false, visit, true);
    return pos + length;
  }

  /** Encapsulated Pixel Data (PS3.5 A.4): offset table and fragments as items of defined length. */
  private fragments(pos: number, end: number, enc: Encoding): number {
    for (;;) {
      this.need(pos, 8, end);
      const tag = this.tagAt(pos, enc);
      if (tag === SEQUENCE_DELIMITATION) return pos + 8;
      if (tag !== ITEM) throw new Part10Error('expected a fragment item in encapsulated pixel data');
      const length = this.view.getUint32(pos + 4, enc.littleEndian);
      if (length === UNDEFINED_LENGTH) throw new Part10Error('fragment of undefined length');
      this.need(pos + 8, length, end);
      pos += 8 + length;
    }
  }
}

const asciiDecoder = new TextDecoder('latin1');

function firstString(set: DataSet, tag: string): string {
  const value = set[tag]?.Value?.[0];
  return typeof value === 'string' ? value.replace(/[\0 ]+$/, '') : '';
}

/** The bytes of a binary value as dcmjs holds it (ArrayBuffer[]), concatenated; no copy for a single buffer. */
export function binaryValueBytes(values: readonly unknown[]): Uint8Array {
  const parts = values.filter((v): v is ArrayBuffer => v instanceof ArrayBuffer).map((v) => new Uint8Array(v));
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
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

/**
 * Reads a Part 10 file (PS3.10 7.1: preamble, 'DICM', File Meta Information, data set).
 * Throws Part10Error, and nothing else, when the bytes are not a well-formed Part 10 file.
 */
export function readPart10(bytes: Uint8Array): ParsedInstance {
  try {
    return parse(bytes);
  } catch (error) {
    if (error instanceof Part10Error) throw error;
    // dcmjs throws plain Errors, TypeErrors, RangeErrors: all mean "cannot understand".
    throw new Part10Error('not a readable DICOM Part 10 file');
  }
}

/** PS3.10 7.1: preamble, 'DICM' and File Meta Information; the transfer syntax and where the data set starts. */
function readFileMeta(bytes: Uint8Array, walker: ElementWalker): { transferSyntaxUID: string; metaEnd: number } {
  const metaStart = PREAMBLE_LENGTH + DICM.length;
  if (bytes.length < metaStart + 12 || asciiDecoder.decode(bytes.subarray(PREAMBLE_LENGTH, metaStart)) !== DICM) {
    throw new Part10Error("not a DICOM Part 10 file: no 'DICM' prefix after the preamble");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // PS3.10 7.1: File Meta Information Group Length (0002,0000) UL comes first and sizes the group.
  const groupLength = asciiDecoder.decode(bytes.subarray(metaStart, metaStart + 6));
  if (groupLength !== '\x02\x00\x00\x00UL' || view.getUint16(metaStart + 6, true) !== 4) {
    throw new Part10Error('File Meta Information Group Length (0002,0000) missing');
  }
  const metaEnd = metaStart + 12 + view.getUint32(metaStart + 8, true);
  if (metaEnd > bytes.length) throw new Part10Error('truncated File Meta Information');
  let transferSyntaxUID = '';
  walker.dataSet(metaStart + 12, metaEnd, EXPLICIT_LE, false, (tag, start, length) => {
    if (tag >>> 16 !== 0x0002) throw new Part10Error('File Meta Information holds an element outside group 0002');
    if (tag === 0x00020010) transferSyntaxUID = asciiDecoder.decode(bytes.subarray(start, start + length)).replace(/[\0 ]+$/, '');
  });
  if (!transferSyntaxUID) throw new Part10Error('Transfer Syntax UID (0002,0010) missing');
  return { transferSyntaxUID, metaEnd };
}

/** The header of a Part 10 file as scanPart10Header reads it, without dcmjs. */
export interface Part10Header {
  readonly transferSyntaxUID: string;
  /** Top-level elements of defined length before `stop`, by tag number; positions are in the file. */
  readonly elements: ReadonlyMap<number, ElementAt>;
  /** The first top-level element whose tag is the stop tag or above; its value may lie beyond the bytes. */
  readonly stop: ElementAt;
}

/**
 * Reads the File Meta Information and the top-level elements of a data set up to the first element
 * whose tag is `stopTag` or above, walking them like readPart10 does but without dcmjs; `bytes` may
 * be the beginning of a file only. Undefined when the data set is not little endian and uninflated
 * (big endian and deflated data sets need decoding first), when the bytes end before that element, or
 * when they are not a well-formed Part 10 file (readPart10 then says why).
 */
export function scanPart10Header(bytes: Uint8Array, stopTag: number): Part10Header | undefined {
  try {
    const walker = new ElementWalker(bytes);
    const { transferSyntaxUID, metaEnd } = readFileMeta(bytes, walker);
    if (transferSyntaxUID === TransferSyntax.ExplicitVRBigEndian || transferSyntaxUID === TransferSyntax.DeflatedExplicitVRLittleEndian) {
      return undefined;
    }
    const elements = new Map<number, ElementAt>();
    const stop = walker.header(metaEnd, bytes.length, encodingOf(transferSyntaxUID), stopTag, (tag, valueStart, length, vr) => {
      elements.set(tag, { tag, vr, length, valueStart });
    });
    return stop && { transferSyntaxUID, elements, stop };
  } catch (error) {
    // Bytes that end inside the header (a prefix too short), or a file readPart10 will refuse itself.
    if (error instanceof Part10Error) return undefined;
    throw error;
  }
}

function parse(bytes: Uint8Array): ParsedInstance {
  const walker = new ElementWalker(bytes);
  const { transferSyntaxUID, metaEnd } = readFileMeta(bytes, walker);

  // Every Specific Character Set (0008,0005) of the data set and its items, in the order of the bytes.
  const characterSets: { readonly valueStart: number; readonly length: number; readonly terms: string[] }[] = [];
  const findCharacterSetsIn =
    (dataSetBytes: Uint8Array): ElementVisitor =>
    (tag, valueStart, length) => {
      if (tag !== SPECIFIC_CHARACTER_SET) return;
      const terms = asciiDecoder.decode(dataSetBytes.subarray(valueStart, valueStart + length)).split('\\').map((term) => term.trim());
      characterSets.push({ valueStart, length, terms });
    };
  const deflated = transferSyntaxUID === TransferSyntax.DeflatedExplicitVRLittleEndian;
  // The data set's own bytes: inflated (a copy of ours) when deflated, else a view of the caller's.
  const dataSet = deflated ? inflate(bytes.subarray(metaEnd)) : bytes.subarray(metaEnd);
  if (dataSet.length === 0) throw new Part10Error('empty data set');
  new ElementWalker(dataSet).dataSet(0, dataSet.length, deflated ? EXPLICIT_LE : encodingOf(transferSyntaxUID), false, findCharacterSetsIn(dataSet), true);

  // dcmjs reads the values of a data set's own character set only when it has one value it knows, and
  // those of sequence items always as ISO 8859-1. Unless every character set here reads as ISO 8859-1,
  // each is blanked while dcmjs reads (and restored after: the caller's bytes come back unchanged, with
  // no copy of an object that may be large), so that dcmjs reads every text value as ISO 8859-1, one
  // character per byte; the values are then decoded from those bytes in the character set of each.
  // A deflated data set is blanked in its inflated copy and deflated again for dcmjs, which inflates it.
  const decodeTexts = characterSets.some((set) => !isLatin1Compatible(set.terms));
  // Copies (a Buffer's slice would share the bytes it restores).
  const originals = decodeTexts ? characterSets.map((set) => Uint8Array.from(dataSet.subarray(set.valueStart, set.valueStart + set.length))) : [];
  let file: ReturnType<typeof dcmjs.data.DicomMessage.readFile>;
  try {
    for (const set of decodeTexts ? characterSets : []) dataSet.fill(0x20, set.valueStart, set.valueStart + set.length);
    const input = deflated && decodeTexts ? Buffer.concat([bytes.subarray(0, metaEnd), deflateRawSync(dataSet)]) : bytes;
    file = dcmjs.data.DicomMessage.readFile(toArrayBuffer(input), { ignoreErrors: false });
  } finally {
    if (!deflated) characterSets.forEach((set, i) => originals[i] && dataSet.set(originals[i]!, set.valueStart));
  }
  const meta = file.meta as DataSet;
  const dict = file.dict as DataSet;
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
const readers = new Map<string, ReturnType<typeof dcmjs.data.ValueRepresentation.createByTypeString>>();
function readerOf(vr: string) {
  let reader = readers.get(vr);
  if (!reader) readers.set(vr, (reader = dcmjs.data.ValueRepresentation.createByTypeString(vr)));
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
      const terms = text === undefined || text.trim() === '' ? (designated.shift() ?? []) : text.split('\\').map((t) => t.trim());
      decoding = characterSetDecoding(terms);
      set[tag] = { vr: 'CS', Value: ['ISO_IR 192'] };
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
  const file = new dcmjs.data.DicomDict(meta);
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
