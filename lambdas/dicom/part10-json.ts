/**
 * The DICOM JSON Model (PS3.18 F.2) of a Part 10 file read straight from its bytes, for the files
 * most modalities send: Explicit VR Little Endian (PS3.5 A.2) and the encapsulated transfer syntaxes
 * (A.4), text in ASCII. Storing an instance reads its attributes once, to index them and to answer
 * its metadata. Through dcmjs (part10.ts, then json.ts toDicomJson) that read took ~0.21 ms of the
 * ~0.55 ms a ~40 KB instance's preparation cost, for an element object, a stream and a Proxy per
 * attribute; here it takes ~0.055 ms.
 *
 * The answer is toDicomJson(readPart10(file, { bulkDataAbove }).dict)'s, byte for byte once
 * stringified: the same values, keys in the same order. Where that answer depends on how dcmjs reads
 * a value (text beyond ASCII, leading spaces, Implicit VR, Big Endian, deflate, UN, OF OD OL OV SV
 * UV, an Extended Offset Table, an empty binary number or item, an element out of order, a malformed
 * file), this reader answers undefined and the caller reads the file through readPart10, which
 * decides and reports as before. test/unit/dicom/part10-json.test.ts compares both over every test
 * file at hand, and over each of its written files with every byte flipped.
 */
import type { PixelDataFacts } from './frames/frame-offsets';
import { PN_GROUPS, type DicomJson, type DicomJsonElement } from './json';
import type { Part10Identity } from './part10';
import { isLatin1Compatible, specificCharacterSetTerms } from './character-sets';
import { checkOffsetTable } from './part10-bulk';
import {
  asciiDecoder,
  DICM,
  ElementWalker,
  EXPLICIT_LE,
  PIXEL_DATA,
  PREAMBLE_LENGTH,
  readFileMeta,
  transferSyntaxEncoding,
  extentOf,
  UNDEFINED_LENGTH,
  type ElementExtent,
} from './part10-scan';
import { Tag, tagNumber, tagString } from './tags';
import { TransferSyntax } from './uid';

/** What readPart10 gives of a file's identity, with its data set's DICOM JSON. */
export interface Part10Json extends Part10Identity {
  /** The DICOM JSON; a BulkDataURI is `bulkDataUri(tagPath)`, called once the whole data set is read. */
  readonly json: DicomJson;
  /** What its frame offsets depend on (frameOffsetsOfPixelData), as readPart10's dict gives it. */
  readonly pixelData: PixelDataFacts;
}

/** Thrown inside the reader when a value needs dcmjs's reading; caught in readPart10Json. */
class NotHere extends Error {}

const SPECIFIC_CHARACTER_SET = tagNumber(Tag.SpecificCharacterSet);
const MEDIA_STORAGE_SOP_CLASS_UID = tagNumber(Tag.MediaStorageSOPClassUID);
const MEDIA_STORAGE_SOP_INSTANCE_UID = tagNumber(Tag.MediaStorageSOPInstanceUID);
/** dcmjs reads a data set's text as UTF-8 and says so in (0008,0005) of the dict (PS3.3 C.12.1.1.2). */
const UTF8_CHARACTER_SET = 'ISO_IR 192';

/** Text VRs (PS3.5 6.2); all but LT hold several values split on "\" (dcmjs splits ST and UT too). */
const TEXT_VRS: ReadonlySet<string> = new Set([
  'AE',
  'AS',
  'CS',
  'DA',
  'DS',
  'DT',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'ST',
  'TM',
  'UC',
  'UI',
  'UR',
  'UT',
]);
/** Binary numbers this reader decodes, by size in bytes (PS3.5 6.2). */
const NUMBER_SIZES: Readonly<Record<string, number>> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, AT: 4 };
/** PS3.18 F.2.3: a decimal or integer string read as a JSON number; anything else is left to dcmjs. */
const DS_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const IS_TEXT = /^[+-]?\d+$/;
const EXTENDED_OFFSET_TABLE = tagNumber(Tag.ExtendedOffsetTable);
const ITEM_DELIMITATION = 0xfffee00d;
const SEQUENCE_DELIMITATION = 0xfffee0dd;
const UID_TEXT = /^[0-9.\\]* *$/;
const SPACE = 0x20;
/** PS3.10 7.1: the File Meta Information's first element after its Group Length (0002,0000) UL. */
const META_ELEMENTS_START = PREAMBLE_LENGTH + DICM.length + 12;

/**
 * The DICOM JSON of the Part 10 file `bytes` and its identifying UIDs, binary values longer than
 * `bulkDataThreshold` as BulkDataURIs; undefined when the file is one to read through readPart10.
 */
export function readPart10Json(
  bytes: Uint8Array,
  bulkDataThreshold: number,
  bulkDataUri: (uids: { study: string; series: string; sop: string }, tagPath: string) => string,
): Part10Json | undefined {
  try {
    const walker = new ElementWalker(bytes);
    const { transferSyntaxUID, metaEnd } = readFileMeta(bytes, walker);
    // Explicit VR Little Endian data sets: that transfer syntax's, and the encapsulated ones' (PS3.5 A.4).
    const encoding = transferSyntaxEncoding(transferSyntaxUID);
    if (!encoding.explicitVR || !encoding.littleEndian || transferSyntaxUID === TransferSyntax.DeflatedExplicitVRLittleEndian)
      return undefined;
    if (metaEnd >= bytes.length) return undefined;
    const meta = new Map<number, string>();
    walker.dataSet(META_ELEMENTS_START, metaEnd, EXPLICIT_LE, false, (tag, start, length) => {
      if (tag === MEDIA_STORAGE_SOP_CLASS_UID || tag === MEDIA_STORAGE_SOP_INSTANCE_UID) meta.set(tag, firstText(bytes, start, length));
    });
    const reader = new JsonReader(bytes, walker, bulkDataThreshold);
    const json = reader.dataSet(metaEnd, bytes.length, '', true);
    const uid = (tag: string) => {
      const value = json[tag]?.Value?.[0];
      return typeof value === 'string' ? value : '';
    };
    const uids = { study: uid(Tag.StudyInstanceUID), series: uid(Tag.SeriesInstanceUID), sop: uid(Tag.SOPInstanceUID) };
    for (const { element, tagPath } of reader.bulkData) element.BulkDataURI = bulkDataUri(uids, tagPath);
    return {
      transferSyntaxUID,
      sopClassUID: uid(Tag.SOPClassUID),
      sopInstanceUID: uids.sop,
      studyInstanceUID: uids.study,
      seriesInstanceUID: uids.series,
      mediaStorageSOPClassUID: meta.get(MEDIA_STORAGE_SOP_CLASS_UID) ?? '',
      mediaStorageSOPInstanceUID: meta.get(MEDIA_STORAGE_SOP_INSTANCE_UID) ?? '',
      json,
      pixelData: {
        transferSyntaxUID,
        ...(reader.encapsulated && { unread: reader.encapsulated }),
        extendedOffsetTable: false, // a file with one is left to readPart10 (JsonReader.element)
        numberOfFrames: json[Tag.NumberOfFrames]?.Value?.[0],
      },
    };
  } catch {
    // A value to read through dcmjs (NotHere), or a malformed file: readPart10 reads it, or says why not.
    return undefined;
  }
}

/** The first value of a UI of the File Meta Information, as readPart10's firstString reads it. */
function firstText(bytes: Uint8Array, start: number, length: number): string {
  return uidText(asciiText(bytes, start, length, true))
    .split('\\')[0]!
    .replace(/ +$/, '');
}

/** UIDs (PS3.5 9.1) as dcmjs reads them: it drops any other character, so a UID with one is left to it. */
function uidText(text: string): string {
  if (!UID_TEXT.test(text)) throw new NotHere();
  return text;
}

/** The value's bytes as text when each is printable ASCII (or, with `nulPadding`, a trailing NUL). */
function asciiText(bytes: Uint8Array, start: number, length: number, nulPadding: boolean): string {
  let end = start + length;
  if (nulPadding) while (end > start && bytes[end - 1] === 0) end--;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte < SPACE || byte > 0x7e) throw new NotHere();
  }
  return asciiDecoder.decode(bytes.subarray(start, end));
}

/** An element of the data set: its header from `start`, and where its value (a sequence's items included) ends. */
type Element = ElementExtent;

/** Tags as DICOM JSON keys ('GGGGEEEE'), kept: the same few hundred come in every instance. */
const TAG_KEYS = new Map<number, string>();
function tagKey(tag: number): string {
  let key = TAG_KEYS.get(tag);
  if (key === undefined) {
    key = tagString(tag);
    if (TAG_KEYS.size < 8192) TAG_KEYS.set(tag, key);
  }
  return key;
}

class JsonReader {
  private readonly view: DataView;
  /** The elements whose BulkDataURI is written once the UIDs are known, with their tag paths. */
  readonly bulkData: { element: DicomJsonElement; tagPath: string }[] = [];
  /** The top-level encapsulated Pixel Data, where it lies. */
  encapsulated?: { readonly offset: number; readonly length: number };

  constructor(
    private readonly bytes: Uint8Array,
    private readonly walker: ElementWalker,
    private readonly bulkDataThreshold: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The elements in [pos, end), in ascending tag order as PS3.5 7.1 has them, group lengths left out. */
  dataSet(pos: number, end: number, prefix: string, topLevel: boolean): DicomJson {
    const json: DicomJson = {};
    let previous = -1;
    while (pos < end) {
      const header = this.walker.elementHeader(pos, end, EXPLICIT_LE);
      // A sequence of undefined length is walked to its end; any other value lies inside [pos, end).
      const e =
        header.length === UNDEFINED_LENGTH
          ? this.walker.elementExtent(pos, end, EXPLICIT_LE)
          : extentOf(header, pos, header.valueStart + header.length);
      if (e.end > end) throw new NotHere();
      pos = e.end;
      // dcmjs keeps the last of a repeated tag; the group of File Meta Information and of items is not here.
      if (e.tag <= previous || e.tag >>> 16 === 0x0002 || e.tag >>> 16 >= 0xfffa) throw new NotHere();
      previous = e.tag;
      if ((e.tag & 0xffff) === 0) continue; // group lengths are not part of the model (json.ts)
      const key = tagKey(e.tag);
      json[key] = this.element(e, `${prefix}${key}`, topLevel);
    }
    return json;
  }

  private element(e: Element, tagPath: string, topLevel: boolean): DicomJsonElement {
    const vr = e.vr!;
    if (e.length === UNDEFINED_LENGTH && vr !== 'SQ') return this.encapsulatedPixelData(e, tagPath, topLevel);
    // A frame's offsets are not indexed beside an Extended Offset Table: left to dcmjs's reading of it.
    if (e.tag === EXTENDED_OFFSET_TABLE) throw new NotHere();
    if (vr === 'SQ') return this.sequence(e, tagPath);
    if (e.tag === SPECIFIC_CHARACTER_SET) {
      if (vr !== 'CS') throw new NotHere();
      return this.characterSet(e, topLevel);
    }
    if (TEXT_VRS.has(vr)) return values(vr, this.texts(vr, e));
    const size = NUMBER_SIZES[vr];
    if (size !== undefined) return values(vr, this.numbers(vr, size, e));
    if (vr === 'OB' || vr === 'OW') return this.binary(e, tagPath);
    throw new NotHere();
  }

  private sequence(e: Element, tagPath: string): DicomJsonElement {
    const defined = e.length !== UNDEFINED_LENGTH;
    const items = this.walker.items(e.valueStart, defined ? e.valueStart + e.length : e.end, EXPLICIT_LE, defined);
    if (items.length === 0) return { vr: 'SQ' };
    // dcmjs leaves an empty item out of its sequence, and refuses a delimiter with a length: left to it.
    if (items.some((item) => item.start === item.end || this.delimiterWithLength(item.end, ITEM_DELIMITATION))) throw new NotHere();
    if (!defined && this.delimiterWithLength(e.end - 8, SEQUENCE_DELIMITATION)) throw new NotHere();
    return { vr: 'SQ', Value: items.map((item, i) => this.dataSet(item.start, item.end, `${tagPath}/${i}/`, false)) };
  }

  /** Whether the delimiter `tag` (PS3.5 7.5) is at pos with a length other than 0. */
  private delimiterWithLength(pos: number, tag: number): boolean {
    if (pos + 8 > this.bytes.length) return false;
    const at = ((this.view.getUint16(pos, true) << 16) | this.view.getUint16(pos + 2, true)) >>> 0;
    return at === tag && this.view.getUint32(pos + 4, true) !== 0;
  }

  /**
   * Specific Character Set: dcmjs reads every value of the data set to UTF-8 and writes ISO_IR 192
   * here. Read here only for the character sets whose ASCII reads the same in all of them, and only at
   * the top level (an item's own character set is dcmjs's to apply).
   */
  private characterSet(e: Element, topLevel: boolean): DicomJsonElement {
    const terms = specificCharacterSetTerms(asciiText(this.bytes, e.valueStart, e.length, false));
    if (!topLevel || !(isLatin1Compatible(terms) || (terms.length === 1 && terms[0] === UTF8_CHARACTER_SET))) throw new NotHere();
    return { vr: e.vr!, Value: [UTF8_CHARACTER_SET] };
  }

  /** PS3.5 6.2 text values as json.ts valueOf makes them: trailing padding off, empty as null. */
  private texts(vr: string, e: Element): unknown[] {
    const ascii = asciiText(this.bytes, e.valueStart, e.length, vr === 'UI');
    const text = vr === 'UI' ? uidText(ascii) : ascii;
    if (text === '') return [];
    const parts = vr === 'LT' || !text.includes('\\') ? [text] : text.split('\\');
    if (vr === 'PN') return personNames(parts);
    return parts.map((part) => {
      if (vr === 'DS' || vr === 'IS') return numberText(vr, part);
      if (part.charCodeAt(0) === SPACE) throw new NotHere(); // dcmjs trims some VRs' leading spaces, not others
      const value = part.replace(/ +$/, '');
      return value === '' ? null : value;
    });
  }

  /** US SS UL SL FL FD, and AT as 8 hex digits (PS3.18 F.2.3), little endian. */
  private numbers(vr: string, size: number, e: Element): unknown[] {
    // dcmjs reads an empty one as its VR's default value; a length off the size, its own way.
    if (e.length === 0 || e.length % size !== 0) throw new NotHere();
    const out: unknown[] = [];
    for (let at = e.valueStart; at < e.valueStart + e.length; at += size) {
      if (vr === 'US') out.push(this.view.getUint16(at, true));
      else if (vr === 'SS') out.push(this.view.getInt16(at, true));
      else if (vr === 'UL') out.push(this.view.getUint32(at, true));
      else if (vr === 'SL') out.push(this.view.getInt32(at, true));
      else if (vr === 'FL') out.push(finiteOrText(this.view.getFloat32(at, true)));
      else if (vr === 'FD') out.push(finiteOrText(this.view.getFloat64(at, true)));
      else out.push(tagString(((this.view.getUint16(at, true) << 16) | this.view.getUint16(at + 2, true)) >>> 0));
    }
    return out;
  }

  /**
   * Encapsulated Pixel Data (PS3.5 A.4) of the top level: a BulkDataURI, its items left unread, and
   * refused as readPart10 refuses it when its Basic Offset Table does not fit its fragments.
   */
  private encapsulatedPixelData(e: Element, tagPath: string, topLevel: boolean): DicomJsonElement {
    if (!topLevel || e.tag !== PIXEL_DATA || (e.vr !== 'OB' && e.vr !== 'OW')) throw new NotHere();
    checkOffsetTable(this.bytes, e);
    this.encapsulated = { offset: e.valueStart, length: e.end - e.valueStart };
    return this.bulkDataElement(e.vr, tagPath);
  }

  /** OB, OW (PS3.18 F.2.7): inline up to the threshold, else a BulkDataURI (readPart10's bulkDataAbove). */
  private binary(e: Element, tagPath: string): DicomJsonElement {
    if (e.length === 0) return { vr: e.vr! };
    if (e.length > this.bulkDataThreshold) return this.bulkDataElement(e.vr!, tagPath);
    const bytes = this.bytes.subarray(e.valueStart, e.valueStart + e.length);
    return { vr: e.vr!, InlineBinary: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64') };
  }

  /** An element whose BulkDataURI readPart10Json writes once the UIDs are read. */
  private bulkDataElement(vr: string, tagPath: string): DicomJsonElement {
    const element: DicomJsonElement = { vr, BulkDataURI: '' };
    this.bulkData.push({ element, tagPath });
    return element;
  }
}

/** PS3.18 F.2.5: an element without any value has no Value; an empty value among others is null. */
function values(vr: string, list: unknown[]): DicomJsonElement {
  return list.every((v) => v === null) ? { vr } : { vr, Value: list };
}

/** json.ts numberValue: a number that JSON cannot hold (NaN, an infinity) as its text. */
function finiteOrText(n: number): number | string {
  return Number.isFinite(n) ? n : String(n);
}

/** DS and IS as numbers: the text without its spaces; an empty value is null. */
function numberText(vr: string, part: string): number | null {
  const text = part.trim();
  if (text === '') return null;
  if (!(vr === 'DS' ? DS_TEXT : IS_TEXT).test(text)) throw new NotHere();
  const n = Number(text);
  if (!Number.isFinite(n)) throw new NotHere();
  return n;
}

/** PS3.18 F.2.4: each name as its non-empty component groups (PS3.5 6.2), null when all are empty. */
function personNames(parts: string[]): unknown[] {
  const last = parts.length - 1;
  // The element's padding (one space after the last name) is not part of it.
  if (parts[last]!.endsWith(' ')) parts[last] = parts[last]!.slice(0, -1);
  return parts.map((part) => {
    const split = part.split('=');
    if (split.length > PN_GROUPS.length) throw new NotHere();
    const groups: Record<string, string> = {};
    split.forEach((group, i) => {
      if (group === '') return;
      if (group.startsWith(' ') || group.endsWith(' ')) throw new NotHere();
      groups[PN_GROUPS[i]!] = group;
    });
    // dcmjs leaves an empty name out of several (its place would be null): left to it.
    if (Object.keys(groups).length === 0 && parts.length > 1) throw new NotHere();
    return Object.keys(groups).length > 0 ? groups : null;
  });
}
