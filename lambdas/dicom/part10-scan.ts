/**
 * The structure of a DICOM Part 10 file (PS3.10 7.1, PS3.5 7.1, 7.5, A.4) read without dcmjs: its File
 * Meta Information, every element's place, and a header up to a tag. part10.ts walks every file with
 * this before dcmjs reads it; a function that only needs the header (frames of native pixel data)
 * loads no dcmjs at all, which shortens its cold start (docs/performance.md).
 */
import { inflateRawSync } from 'node:zlib';
import { PIXEL_DATA_TAGS, Tag, tagNumber } from './tags';
import { TransferSyntax } from './uid';

/** The bytes are not a DICOM Part 10 file this service can understand (malformed, truncated, not DICOM). */
export class Part10Error extends Error {}

/** The bytes end inside an element: the file needs at least `bytesNeeded` bytes to hold it. */
export class TruncatedElementError extends Part10Error {
  constructor(readonly bytesNeeded: number) {
    super('truncated data element');
  }
}

export const PREAMBLE_LENGTH = 128;
export const DICM = 'DICM';
export const UNDEFINED_LENGTH = 0xffffffff;
const ITEM = tagNumber(Tag.Item);
const ITEM_DELIMITATION = tagNumber(Tag.ItemDelimitationItem);
const SEQUENCE_DELIMITATION = tagNumber(Tag.SequenceDelimitationItem);
export const PIXEL_DATA = tagNumber(Tag.PixelData);
const TRANSFER_SYNTAX_UID = tagNumber(Tag.TransferSyntaxUID);

/** PS3.5 7.1.2: VRs with a 2-byte reserved field and a 4-byte length in explicit VR encoding. */
const LONG_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
/** PS3.5 6.2: every VR. */
const VRS: ReadonlySet<string> = new Set([
  ...LONG_VRS,
  ...['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'PN', 'SH', 'SL', 'SS', 'ST', 'TM', 'UI', 'UL', 'US'],
]);

/** Each VR by its two bytes (first << 8 | second), so an element's VR is found without making a string. */
const VR_BY_CODE: ReadonlyMap<number, string> = new Map([...VRS].map((vr) => [(vr.charCodeAt(0) << 8) | vr.charCodeAt(1), vr]));

/** How a data set's elements are encoded (PS3.5 7.1): VR explicit or implicit, byte order. */
export interface Encoding {
  readonly explicitVR: boolean;
  readonly littleEndian: boolean;
}
export const EXPLICIT_LE: Encoding = { explicitVR: true, littleEndian: true };
export const IMPLICIT_LE: Encoding = { explicitVR: false, littleEndian: true };

/** The encoding of a transfer syntax's data set (PS3.5 A.1-A.4); deflate (A.5) is undone before the walk. */
export function transferSyntaxEncoding(transferSyntaxUID: string): Encoding {
  if (transferSyntaxUID === TransferSyntax.ImplicitVRLittleEndian) return IMPLICIT_LE;
  if (transferSyntaxUID === TransferSyntax.ExplicitVRBigEndian) return { explicitVR: true, littleEndian: false };
  return EXPLICIT_LE; // PS3.5 A.4: every encapsulated transfer syntax is Explicit VR Little Endian
}

/** Sees a value of defined length: its tag, where it starts, its length, and its VR in explicit VR. */
export type ElementVisitor = (tag: number, valueStart: number, length: number, vr: string | undefined) => void;

/** One element as encoded: its VR only in explicit VR; length may be undefined (0xFFFFFFFF). */
export interface ElementAt {
  readonly tag: number;
  readonly vr?: string;
  readonly length: number;
  readonly valueStart: number;
}

/** A top-level element and the bytes it spans: its header from `start`, its value up to `end`. */
export interface ElementExtent extends ElementAt {
  readonly start: number;
  readonly end: number;
}

/**
 * `element` spanning [start, end), built field by field: V8 makes `{ ...element, start, end }`
 * ~100 times slower, and a walk makes one per element.
 */
export function extentOf(element: ElementAt, start: number, end: number): ElementExtent {
  return { tag: element.tag, vr: element.vr, length: element.length, valueStart: element.valueStart, start, end };
}

/**
 * A binary value that readPart10 left unread in the caller's bytes (its `bulkDataAbove` option):
 * `length` bytes from `offset` in the file; for encapsulated Pixel Data, its items through the
 * Sequence Delimitation Item. The DICOM JSON Model gives it a BulkDataURI, never an InlineBinary.
 */
export class BulkDataValue {
  constructor(
    readonly offset: number,
    readonly length: number,
  ) {}
}

/** Structural walk of encoded elements; throws Part10Error at the first value that does not fit. */
export class ElementWalker {
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The bytes end inside an element (TruncatedElementError), or a value runs beyond its sequence or item. */
  private need(pos: number, count: number, end: number): void {
    if (pos + count <= end) return;
    throw end === this.bytes.length ? new TruncatedElementError(pos + count) : new Part10Error('a value runs beyond its item or sequence');
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
  header(
    pos: number,
    end: number,
    enc: Encoding,
    stopTag: number,
    visit?: ElementVisitor,
    visitTopLevel?: (element: ElementExtent) => void,
  ): ElementAt | undefined {
    return this.walk(pos, end, enc, false, visit, stopTag, undefined, visitTopLevel).stop;
  }

  /** Walks the elements in [pos, end); `visit` sees each top-level element, of any length, with its extent. */
  topLevel(pos: number, end: number, enc: Encoding, visit: (element: ElementExtent) => void): void {
    this.walk(pos, end, enc, false, undefined, undefined, undefined, visit);
  }

  /** The element whose header starts at pos: tag, VR (explicit VR only), value length and value start. */
  private element(pos: number, end: number, enc: Encoding): ElementAt {
    const tag = this.tagAt(pos, enc);
    // One object shape for every element (vr undefined in implicit VR): the walk's sites stay monomorphic.
    if (!enc.explicitVR) return { tag, vr: undefined, length: this.view.getUint32(pos + 4, enc.littleEndian), valueStart: pos + 8 };
    const vr = VR_BY_CODE.get((this.bytes[pos + 4]! << 8) | this.bytes[pos + 5]!);
    if (vr === undefined) throw new Part10Error('unknown value representation');
    if (!LONG_VRS.has(vr)) return { tag, vr, length: this.view.getUint16(pos + 6, enc.littleEndian), valueStart: pos + 8 };
    this.need(pos, 12, end);
    return { tag, vr, length: this.view.getUint32(pos + 8, enc.littleEndian), valueStart: pos + 12 };
  }

  /** The header of the data set element at pos: an item or a delimiter there is a Part10Error. */
  elementHeader(pos: number, end: number, enc: Encoding): ElementAt {
    this.need(pos, 8, end);
    if (this.tagAt(pos, enc) >>> 16 === 0xfffe) throw new Part10Error('unexpected item or delimiter in a data set');
    return this.element(pos, end, enc);
  }

  /** The data set element at pos walked through its value, as the walk of a data set walks it. */
  elementExtent(pos: number, end: number, enc: Encoding): ElementExtent {
    const element = this.elementHeader(pos, end, enc);
    return extentOf(element, pos, this.value(element, end, enc));
  }

  private walk(
    pos: number,
    end: number,
    enc: Encoding,
    inUndefinedItem: boolean,
    visit?: ElementVisitor,
    stopTag?: number,
    visitNested?: ElementVisitor,
    visitTopLevel?: (element: ElementExtent) => void,
  ): { end: number; stop?: ElementAt } {
    while (pos < end) {
      const start = pos;
      this.need(pos, 8, end);
      if (inUndefinedItem && this.tagAt(pos, enc) === ITEM_DELIMITATION) return { end: pos + 8 };
      const element = this.elementHeader(pos, end, enc);
      if (stopTag !== undefined && element.tag >= stopTag) return { end: pos, stop: element };
      pos = this.value(element, end, enc, visit, visitNested);
      visitTopLevel?.(extentOf(element, start, pos));
    }
    if (!inUndefinedItem) return { end };
    // The bytes end inside the item (a file cut short), or its sequence or item of defined length does.
    throw end === this.bytes.length ? new TruncatedElementError(end + 8) : new Part10Error('item without Item Delimitation Item');
  }

  /** Walks the value of an element whose header was read; answers where the element ends. */
  private value(element: ElementAt, end: number, enc: Encoding, visit?: ElementVisitor, visitNested?: ElementVisitor): number {
    const { tag, vr, length } = element;
    const pos = element.valueStart;
    if (length === UNDEFINED_LENGTH) {
      if (tag === PIXEL_DATA && vr !== 'SQ') return this.fragments(pos, end, enc);
      // PS3.5 6.2.2: a UN value of undefined length is a sequence encoded in Implicit VR Little Endian.
      // Its items are not visited: dcmjs keeps such a value as bytes, so they are no items of its data set.
      if (vr === 'UN') return this.sequence(pos, end, IMPLICIT_LE);
      if (vr === undefined || vr === 'SQ') return this.sequence(pos, end, enc, visitNested);
      throw new Part10Error('undefined length on a value that is not a sequence');
    }
    this.need(pos, length, end);
    // A sequence of defined length: items fill the value exactly.
    if (vr === 'SQ') for (let at = pos; at < pos + length;) at = this.item(at, pos + length, enc, visitNested);
    visit?.(tag, pos, length, vr);
    return pos + length;
  }

  /** A sequence of undefined length (PS3.5 7.5.2): items up to the Sequence Delimitation Item. */
  private sequence(pos: number, end: number, enc: Encoding, visit?: ElementVisitor): number {
    for (;;) {
      this.need(pos, 8, end);
      if (this.tagAt(pos, enc) === SEQUENCE_DELIMITATION) return pos + 8;
      pos = this.item(pos, end, enc, visit);
    }
  }

  /**
   * The items of a sequence value from pos (PS3.5 7.5): where each item's data set starts and ends, its
   * Item Delimitation Item excluded. Of defined length, the items fill [pos, end) exactly; of undefined
   * length, they end at the Sequence Delimitation Item.
   */
  items(pos: number, end: number, enc: Encoding, definedLength: boolean): { readonly start: number; readonly end: number }[] {
    const items: { start: number; end: number }[] = [];
    for (;;) {
      if (definedLength && pos === end) return items;
      this.need(pos, 8, end);
      const tag = this.tagAt(pos, enc);
      if (!definedLength && tag === SEQUENCE_DELIMITATION) return items;
      if (tag !== ITEM) throw new Part10Error('expected an item in a sequence');
      const length = this.view.getUint32(pos + 4, enc.littleEndian);
      const start = pos + 8;
      if (length === UNDEFINED_LENGTH) {
        pos = this.dataSet(start, end, enc, true);
        items.push({ start, end: pos - 8 });
      } else {
        this.need(start, length, end);
        pos = start + length;
        items.push({ start, end: pos });
      }
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

  /**
   * Encapsulated Pixel Data (PS3.5 A.4) from pos: the offset table and the fragments, items of defined
   * length; `visit` sees each item (where its header starts, its value's length). Returns just after
   * the Sequence Delimitation Item, or with `toEnd` (some of the items, cut between two of them) at
   * `end`, where the items must end exactly.
   */
  fragments(pos: number, end: number, enc: Encoding, visit?: (itemStart: number, length: number) => void, toEnd = false): number {
    for (;;) {
      if (toEnd && pos === end) return pos;
      const length = this.fragmentLength(pos, end, enc);
      if (length === undefined) {
        if (toEnd) throw new Part10Error('Sequence Delimitation Item inside the items');
        return pos + 8;
      }
      this.need(pos + 8, length, end);
      visit?.(pos, length);
      pos += 8 + length;
    }
  }

  /**
   * Of the header at pos among the items of encapsulated Pixel Data (PS3.5 A.4): the item's value
   * length, or undefined for the Sequence Delimitation Item that ends them (whose length is 0).
   */
  fragmentLength(pos: number, end: number, enc: Encoding): number | undefined {
    this.need(pos, 8, end);
    if (this.tagAt(pos, enc) !== SEQUENCE_DELIMITATION) return this.itemLength(pos, end, enc);
    if (this.view.getUint32(pos + 4, enc.littleEndian) !== 0)
      throw new Part10Error('a Sequence Delimitation Item of a length that is not 0');
    return undefined;
  }

  /** The value length of the item of encapsulated Pixel Data whose header starts at pos (PS3.5 A.4). */
  itemLength(pos: number, end: number, enc: Encoding): number {
    this.need(pos, 8, end);
    if (this.tagAt(pos, enc) !== ITEM) throw new Part10Error('expected a fragment item in encapsulated pixel data');
    const length = this.view.getUint32(pos + 4, enc.littleEndian);
    if (length === UNDEFINED_LENGTH) throw new Part10Error('fragment of undefined length');
    return length;
  }
}

export const asciiDecoder = new TextDecoder('latin1');

/** The bytes of a binary value as dcmjs holds it (ArrayBuffer[]), concatenated; no copy for a single buffer. */
export function binaryValueBytes(values: readonly unknown[]): Uint8Array {
  if (values.some((v) => v instanceof BulkDataValue)) throw new TypeError('a value left in the bytes (bulkDataAbove) was not read');
  return concatBytes(values.filter((v): v is ArrayBuffer => v instanceof ArrayBuffer).map((v) => new Uint8Array(v)));
}

/** Byte arrays one after the other; no copy for a single one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** PS3.5 A.5: the data set of a Deflated Explicit VR Little Endian file, inflated (a copy). */
export function inflateDataSet(bytes: Uint8Array): Uint8Array {
  try {
    return inflateRawSync(bytes);
  } catch {
    throw new Part10Error('deflated data set cannot be inflated');
  }
}

/**
 * PS3.10 7.1: preamble, 'DICM' and File Meta Information; the transfer syntax and where the data set
 * starts. Bytes that end inside them are a TruncatedElementError (a stream reads on).
 */
export function readFileMeta(bytes: Uint8Array, walker: ElementWalker): { transferSyntaxUID: string; metaEnd: number } {
  const metaStart = PREAMBLE_LENGTH + DICM.length;
  if (bytes.length >= metaStart && asciiDecoder.decode(bytes.subarray(PREAMBLE_LENGTH, metaStart)) !== DICM) {
    throw new Part10Error("not a DICOM Part 10 file: no 'DICM' prefix after the preamble");
  }
  if (bytes.length < metaStart + 12) throw new TruncatedElementError(metaStart + 12);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // PS3.10 7.1: File Meta Information Group Length (0002,0000) UL comes first and sizes the group.
  const groupLength = asciiDecoder.decode(bytes.subarray(metaStart, metaStart + 6));
  if (groupLength !== '\x02\x00\x00\x00UL' || view.getUint16(metaStart + 6, true) !== 4) {
    throw new Part10Error('File Meta Information Group Length (0002,0000) missing');
  }
  const metaEnd = metaStart + 12 + view.getUint32(metaStart + 8, true);
  if (metaEnd > bytes.length) throw new TruncatedElementError(metaEnd);
  let transferSyntaxUID = '';
  walker.dataSet(metaStart + 12, metaEnd, EXPLICIT_LE, false, (tag, start, length) => {
    if (tag >>> 16 !== 0x0002) throw new Part10Error('File Meta Information holds an element outside group 0002');
    if (tag === TRANSFER_SYNTAX_UID) transferSyntaxUID = asciiDecoder.decode(bytes.subarray(start, start + length)).replace(/[\0 ]+$/, '');
  });
  if (!transferSyntaxUID) throw new Part10Error('Transfer Syntax UID (0002,0010) missing');
  return { transferSyntaxUID, metaEnd };
}

/** The header of a Part 10 file as scanPart10Header reads it, without dcmjs. */
export interface Part10Header {
  readonly transferSyntaxUID: string;
  /** Top-level elements of defined length before `stop`, by tag number; positions are in the file. */
  readonly elements: ReadonlyMap<number, ElementAt>;
  /** Every top-level element's tag before `stop`, sequences of undefined length included. */
  readonly topLevelTags: ReadonlySet<number>;
  /** The first top-level element whose tag is the stop tag or above; its value may lie beyond the bytes. */
  readonly stop: ElementAt;
}

/**
 * Reads the File Meta Information and the top-level elements of a data set up to the first element
 * whose tag is `stopTag` or above, walking them like readPart10 does but without dcmjs; `bytes` may be
 * the beginning of a file only. Undefined when the data set is big endian or deflated (to be decoded
 * first), when the bytes end before that element, or they are not a well-formed Part 10 file.
 */
export function scanPart10Header(bytes: Uint8Array, stopTag: number): Part10Header | undefined {
  const scan = scanPart10HeaderOrNeed(bytes, stopTag);
  return scan && 'stop' in scan ? scan : undefined;
}

/**
 * scanPart10Header, or, when `bytes` end inside the header, how long a beginning of the file would
 * hold at least the element they end in (read that much and scan again: the next one may end beyond).
 */
export function scanPart10HeaderOrNeed(bytes: Uint8Array, stopTag: number): Part10Header | { readonly bytesNeeded: number } | undefined {
  try {
    const walker = new ElementWalker(bytes);
    const { transferSyntaxUID, metaEnd } = readFileMeta(bytes, walker);
    if (transferSyntaxUID === TransferSyntax.ExplicitVRBigEndian || transferSyntaxUID === TransferSyntax.DeflatedExplicitVRLittleEndian) {
      return undefined;
    }
    const elements = new Map<number, ElementAt>();
    const topLevelTags = new Set<number>();
    const stop = walker.header(
      metaEnd,
      bytes.length,
      transferSyntaxEncoding(transferSyntaxUID),
      stopTag,
      (tag, valueStart, length, vr) => {
        elements.set(tag, { tag, vr, length, valueStart });
      },
      (element) => topLevelTags.add(element.tag),
    );
    return stop && { transferSyntaxUID, elements, topLevelTags, stop };
  } catch (error) {
    // Bytes that end inside the header (a prefix too short), or a file readPart10 will refuse itself.
    if (error instanceof TruncatedElementError) return { bytesNeeded: error.bytesNeeded };
    if (error instanceof Part10Error) return undefined;
    throw error;
  }
}

/** Binary VRs whose values dcmjs keeps as read (UN it may read as the dictionary's VR). */
const PLAIN_BINARY_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW']);
const PIXEL_DATA_TAG_NUMBERS: ReadonlySet<number> = new Set(PIXEL_DATA_TAGS.map(tagNumber));

/** Whether a value is binary as dcmjs reads it: OB OD OF OL OV OW, or in Implicit VR a Pixel Data tag. */
export function isPlainBinary(element: Pick<ElementAt, 'tag' | 'vr'>): boolean {
  return element.vr === undefined ? PIXEL_DATA_TAG_NUMBERS.has(element.tag) : PLAIN_BINARY_VRS.has(element.vr);
}

/**
 * Where the value of the top-level binary element `tag` lies in a file whose header was scanned up to
 * it (scanPart10Header(bytes, tag)): the element is there, with a defined length that is not 0, and
 * binary (isPlainBinary). Undefined otherwise, for the caller to read the file with dcmjs.
 */
export function binaryValueAt(header: Part10Header, tag: number): { readonly valueStart: number; readonly length: number } | undefined {
  const { stop } = header;
  if (stop.tag !== tag || stop.length === UNDEFINED_LENGTH || stop.length === 0 || !isPlainBinary(stop)) return undefined;
  return { valueStart: stop.valueStart, length: stop.length };
}
