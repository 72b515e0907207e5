/**
 * Frames of the Pixel Data of an instance: native (PS3.5 8.1.1, 8.2) or encapsulated (PS3.5 A.4).
 */
import type { ParsedInstance } from './part10';
import { binaryValueBytes, BulkDataValue, concatBytes, ElementWalker, EXPLICIT_LE, Part10Error, PIXEL_DATA, UNDEFINED_LENGTH, type Part10Header } from './part10-scan';
import { PIXEL_DATA_TAGS, Tag } from './tags';
import { isUncompressedTransferSyntax, TransferSyntax } from './uid';

/** The frames cannot be told apart or the request names an impossible frame. */
export class FrameError extends Error {}

/** PS3.3 C.7.6.3.1.4: Float Pixel Data is 32-bit, Double Float Pixel Data 64-bit. */
const FLOAT_BITS_ALLOCATED: Readonly<Record<string, number>> = { [Tag.FloatPixelData]: 32, [Tag.DoubleFloatPixelData]: 64 };

function pixelDataOf(instance: ParsedInstance) {
  for (const tag of PIXEL_DATA_TAGS) {
    const element = instance.dict[tag];
    if (element?.Value?.some((v) => v instanceof ArrayBuffer)) return { tag, values: element.Value };
  }
  return undefined;
}

function integerOf(instance: ParsedInstance, tag: string): number | undefined {
  const value = Number(instance.dict[tag]?.Value?.[0]);
  return Number.isInteger(value) ? value : undefined;
}

/** NumberOfFrames (0028,0008), or 1 when Pixel Data is present without it; 0 without pixel data. */
export function numberOfFrames(instance: ParsedInstance): number {
  if (!pixelDataOf(instance)) return 0;
  return frameCountOf(integerOf(instance, Tag.NumberOfFrames));
}

/** The frames of Pixel Data whose NumberOfFrames reads `declared`: that many, or 1 without it (or below 1). */
function frameCountOf(declared: number | undefined): number {
  return declared !== undefined && declared >= 1 ? declared : 1;
}

/**
 * Bytes [start, end) of native pixel data of `length` bytes that hold frame k (0-based); FrameError
 * when the pixel data is shorter than its frames.
 */
function nativeFrameRange(length: number, frameBits: number, k: number): readonly [number, number] {
  const startBit = k * frameBits;
  if (startBit + frameBits > length * 8) throw new FrameError('Pixel Data is shorter than its frames');
  return [Math.floor(startBit / 8), Math.ceil((startBit + frameBits) / 8)];
}

/**
 * Frame k (0-based) of native pixel data, from `pixels`, which hold its bytes from byte `offset` on:
 * whole bytes when the frame size is, else bits repacked (BitsAllocated 1).
 */
function nativeFrame(pixels: Uint8Array, offset: number, frameBits: number, k: number): Uint8Array {
  const startBit = k * frameBits;
  if (frameBits % 8 === 0 && startBit % 8 === 0) return pixels.subarray(startBit / 8 - offset, (startBit + frameBits) / 8 - offset);
  // PS3.5 8.1.1 (BitsAllocated 1): pixels are packed from the least significant bit of each byte, and a
  // frame may start in the middle of a byte; the frame is returned starting at bit 0 of its first byte.
  const frame = new Uint8Array(Math.ceil(frameBits / 8));
  for (let i = 0; i < frameBits; i++) {
    const bit = startBit + i;
    if ((pixels[(bit >> 3) - offset]! >> (bit & 7)) & 1) frame[i >> 3]! |= 1 << (i & 7);
  }
  return frame;
}

/**
 * Frames of encapsulated pixel data as readPart10 holds them: one buffer per frame when a Basic Offset
 * Table is present, else one per fragment, which framesOfFragments delimits.
 */
function encapsulatedFrames(values: readonly unknown[], count: number, transferSyntaxUID: string): Uint8Array[] {
  const fragments = values.filter((v): v is ArrayBuffer => v instanceof ArrayBuffer).map((b) => new Uint8Array(b));
  const frames = framesOfFragments(fragments, count, transferSyntaxUID);
  if (!frames) throw new FrameError('frame boundaries unknown: without an offset table, the fragments do not delimit NumberOfFrames frames');
  return frames.map(concatBytes);
}

/**
 * Returns the requested frames (1-based) in request order; frame numbers beyond numberOfFrames are
 * returned in `missing`. Native frames are Rows x Columns x SamplesPerPixel x BitsAllocated bits each
 * (little-endian byte order); encapsulated frames are the frame's fragments as stored.
 */
export function extractFrames(instance: ParsedInstance, frameNumbers: readonly number[]): { frames: Uint8Array[]; missing: number[] } {
  const pixelData = pixelDataOf(instance);
  if (!pixelData) throw new FrameError('the instance has no pixel data');
  if (frameNumbers.some((n) => !Number.isInteger(n) || n < 1)) throw new FrameError('frame numbers start at 1');
  const count = numberOfFrames(instance);
  const wanted = frameNumbers.filter((n) => n <= count);
  const missing = frameNumbers.filter((n) => n > count);
  // Frames beyond NumberOfFrames are missing however the pixel data divides (readEncapsulatedFrames too).
  if (wanted.length === 0) return { frames: [], missing };

  if (pixelData.tag === Tag.PixelData && !isUncompressedTransferSyntax(instance.transferSyntaxUID)) {
    const all = encapsulatedFrames(pixelData.values, count, instance.transferSyntaxUID);
    return { frames: wanted.map((n) => all[n - 1]!), missing };
  }

  const rows = integerOf(instance, Tag.Rows);
  const columns = integerOf(instance, Tag.Columns);
  const samplesPerPixel = integerOf(instance, Tag.SamplesPerPixel) ?? 1;
  const bitsAllocated = integerOf(instance, Tag.BitsAllocated) ?? FLOAT_BITS_ALLOCATED[pixelData.tag];
  if (!rows || !columns || !bitsAllocated || samplesPerPixel < 1) throw new FrameError('Rows, Columns or BitsAllocated missing');
  const frameBits = rows * columns * samplesPerPixel * bitsAllocated;
  const pixels = binaryValueBytes(pixelData.values);
  return {
    frames: wanted.map((n) => {
      nativeFrameRange(pixels.length, frameBits, n - 1);
      return nativeFrame(pixels, 0, frameBits, n - 1);
    }),
    missing,
  };
}

/** Native Pixel Data located in a file without reading it: where its value lies and how it divides into frames. */
export interface NativePixelData {
  /** Offset of the Pixel Data value in the file, and its length, in bytes. */
  readonly valueStart: number;
  readonly length: number;
  /** NumberOfFrames, or 1 without it (as numberOfFrames). */
  readonly frameCount: number;
  readonly frameBits: number;
}

/** The tag a header scan for native pixel data stops at: the first of the pixel data tags (PS3.5 7.1, ascending order). */
export const PIXEL_DATA_SCAN_STOP = 0x7fe00008;

const latin1 = new TextDecoder('latin1');
const LITTLE_ENDIAN_NATIVE: ReadonlySet<string> = new Set([TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian]);

/** Whether nativePixelDataOf may locate the pixel data of a file in this transfer syntax. */
export function isLittleEndianNative(transferSyntaxUID: string): boolean {
  return LITTLE_ENDIAN_NATIVE.has(transferSyntaxUID);
}

/**
 * The Pixel Data (7FE0,0010) of a header scanned up to PIXEL_DATA_SCAN_STOP (`bytes` hold the scanned
 * part of the file), when it is native little endian pixel data whose frame geometry reads plainly:
 * then readNativeFrames cuts the same frames extractFrames would, reading only their bytes. Undefined
 * for anything else (encapsulated, float pixel data, no pixel data, unusual encodings of Rows, Columns,
 * BitsAllocated, SamplesPerPixel or NumberOfFrames), which readPart10 and extractFrames then decide.
 */
export function nativePixelDataOf(header: Part10Header, bytes: Uint8Array): NativePixelData | undefined {
  const { stop } = header;
  if (!isLittleEndianNative(header.transferSyntaxUID) || stop.tag !== PIXEL_DATA) return undefined;
  if ((stop.vr !== undefined && stop.vr !== 'OB' && stop.vr !== 'OW') || stop.length === UNDEFINED_LENGTH || stop.length === 0) return undefined;
  const { us, is } = headerNumbers(header, bytes);
  const rows = us(Tag.Rows);
  const columns = us(Tag.Columns);
  const samplesPerPixel = us(Tag.SamplesPerPixel) ?? 1;
  const bitsAllocated = us(Tag.BitsAllocated);
  const frames = is(Tag.NumberOfFrames);
  if (!rows || !columns || !bitsAllocated || !samplesPerPixel || Number.isNaN(frames)) return undefined;
  return {
    valueStart: stop.valueStart,
    length: stop.length,
    frameCount: frameCountOf(frames),
    frameBits: rows * columns * samplesPerPixel * bitsAllocated,
  };
}

/**
 * US and IS values of a scanned header, as extractFrames reads them from dcmjs: undefined when absent,
 * NaN when present but not a plain single value (the caller then declines).
 */
function headerNumbers(header: Part10Header, bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    us: (tag: string): number | undefined => {
      const e = header.elements.get(parseInt(tag, 16));
      if (!e) return undefined;
      return (e.vr === undefined || e.vr === 'US') && e.length === 2 ? view.getUint16(e.valueStart, true) : NaN;
    },
    is: (tag: string): number | undefined => {
      const e = header.elements.get(parseInt(tag, 16));
      if (!e) return undefined;
      const text = latin1.decode(bytes.subarray(e.valueStart, e.valueStart + e.length)).replace(/[\0 ]+$/, '');
      return (e.vr === undefined || e.vr === 'IS') && /^ *[0-9]{1,9}$/.test(text) ? Number(text) : NaN;
    },
  };
}

/**
 * extractFrames over native pixel data located by nativePixelDataOf: the requested frames (1-based) in
 * request order, frame numbers beyond the frame count in `missing`. `read(start, end)` answers bytes
 * [start, end) of the file; it is called once, for the span of the frames asked.
 */
export async function readNativeFrames(
  pixelData: NativePixelData,
  frameNumbers: readonly number[],
  read: (start: number, end: number) => Promise<Uint8Array>,
): Promise<{ frames: Uint8Array[]; missing: number[] }> {
  const wanted = frameNumbers.filter((n) => n <= pixelData.frameCount);
  const missing = frameNumbers.filter((n) => n > pixelData.frameCount);
  if (wanted.length === 0) return { frames: [], missing };
  const ranges = wanted.map((n) => nativeFrameRange(pixelData.length, pixelData.frameBits, n - 1));
  const from = Math.min(...ranges.map(([start]) => start));
  const to = Math.max(...ranges.map(([, end]) => end));
  const bytes = await read(pixelData.valueStart + from, pixelData.valueStart + to);
  return { frames: wanted.map((n) => nativeFrame(bytes, from, pixelData.frameBits, n - 1)), missing };
}

/** Encapsulated Pixel Data located in a file without reading it (PS3.5 A.4). */
export interface EncapsulatedPixelData {
  /** Offset in the file of its first item, the Basic Offset Table. */
  readonly itemsStart: number;
  /** NumberOfFrames, or 1 without it (as numberOfFrames). */
  readonly frameCount: number;
  readonly transferSyntaxUID: string;
  /**
   * The Extended Offset Table (7FE0,0001) and its Lengths (7FE0,0002), PS3.3 C.7.6.3.1.8, when both are
   * in the header and agree with NumberOfFrames: where each frame's item starts, from the first item
   * after the Basic Offset Table, and the length of its value (one fragment per frame).
   */
  readonly extendedOffsetTable?: { readonly offsets: readonly number[]; readonly lengths: readonly number[] };
  /** Without either table: the frames' offsets the index keeps (frameOffsetsOf), when it has them. */
  readonly frameOffsets?: readonly number[];
}

/**
 * The Pixel Data (7FE0,0010) of a header scanned up to PIXEL_DATA_SCAN_STOP, when it is encapsulated
 * (PS3.5 A.4: undefined length, in a transfer syntax that is not uncompressed) and NumberOfFrames reads
 * plainly; undefined for anything else.
 */
export function encapsulatedPixelDataOf(header: Part10Header, bytes: Uint8Array): EncapsulatedPixelData | undefined {
  const { stop, transferSyntaxUID } = header;
  if (isUncompressedTransferSyntax(transferSyntaxUID) || stop.tag !== PIXEL_DATA || stop.length !== UNDEFINED_LENGTH) return undefined;
  const frames = headerNumbers(header, bytes).is(Tag.NumberOfFrames);
  if (Number.isNaN(frames)) return undefined;
  const frameCount = frameCountOf(frames);
  const extendedOffsetTable = extendedOffsetTableOf(header, bytes, frameCount);
  return { itemsStart: stop.valueStart, frameCount, transferSyntaxUID, ...(extendedOffsetTable && { extendedOffsetTable }) };
}

/**
 * PS3.3 C.7.6.3.1.8: the Extended Offset Table and its Lengths, OV values of one 64-bit entry per frame;
 * undefined unless both are there with NumberOfFrames entries, the offsets start at 0 and each frame's
 * item ends before the next one starts. A table that says otherwise is not used (the items are walked).
 */
function extendedOffsetTableOf(header: Part10Header, bytes: Uint8Array, frameCount: number): EncapsulatedPixelData['extendedOffsetTable'] {
  const entries = (tag: string): number[] | undefined => {
    const e = header.elements.get(parseInt(tag, 16));
    if (!e || (e.vr !== undefined && e.vr !== 'OV') || e.length !== 8 * frameCount) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset + e.valueStart, e.length);
    const values = Array.from({ length: frameCount }, (_, k) => view.getBigUint64(8 * k, true));
    return values.every((v) => v <= BigInt(Number.MAX_SAFE_INTEGER)) ? values.map(Number) : undefined;
  };
  const offsets = entries(Tag.ExtendedOffsetTable);
  const lengths = entries(Tag.ExtendedOffsetTableLengths);
  if (!offsets || !lengths || offsets[0] !== 0) return undefined;
  const ordered = offsets.every((o, k) => k + 1 === frameCount || o + ITEM_HEADER + lengths[k]! <= offsets[k + 1]!);
  return ordered ? { offsets, lengths } : undefined;
}

const ITEM_HEADER = 8;

/** What a walk answers, or undefined where the bytes are not as PS3.5 describes (Part10Error). */
function unlessMalformed<T>(walk: () => T): T | undefined {
  try {
    return walk();
  } catch (error) {
    if (error instanceof Part10Error) return undefined;
    throw error;
  }
}

/**
 * The items of encapsulated Pixel Data in `bytes` from its start (ElementWalker.fragments), each one's
 * offset and value: through the Sequence Delimitation Item, or with `toEnd` filling the bytes exactly.
 * Undefined when they do not.
 */
function fragmentItems(bytes: Uint8Array, toEnd: boolean): { offset: number; value: Uint8Array }[] | undefined {
  const items: { offset: number; value: Uint8Array }[] = [];
  const visit = (offset: number, length: number) => items.push({ offset, value: bytes.subarray(offset + ITEM_HEADER, offset + ITEM_HEADER + length) });
  return unlessMalformed(() => new ElementWalker(bytes).fragments(0, bytes.length, EXPLICIT_LE, visit, toEnd)) === undefined ? undefined : items;
}

/** How readEncapsulatedFrames reads a stored object of `size` bytes. */
export interface StoredObjectReader {
  readonly size: number;
  /** Bytes [start, end) of the object. */
  read(start: number, end: number): Promise<Uint8Array>;
  /** The bytes from `start` to the end of the object, in chunks. */
  stream(start: number): Promise<AsyncIterable<Uint8Array>>;
}

/**
 * Called with what the frames asked hold at least, in bytes, before they are read (and while a walk
 * keeps them); throws to refuse the request.
 */
export type FrameBytesLimit = (bytes: number) => void;

/**
 * extractFrames over encapsulated Pixel Data located by encapsulatedPixelDataOf, reading the object
 * through `source`, so that memory holds the frames asked, not the object:
 * - with a Basic Offset Table, frame k is the items from its offset to the next frame's (PS3.5 A.4),
 *   and only those of the frames asked are read (a range per run of adjacent frames);
 * - with an empty one and an Extended Offset Table (PS3.3 C.7.6.3.1.8), frame k is the one item its
 *   entries name, read by range;
 * - with neither, the items are streamed to the Sequence Delimitation Item, keeping only those of the
 *   frames asked: a fragment per frame when their numbers match, all of them for a single frame, else
 *   a frame per codestream (one starting with the transfer syntax's start marker, PS3.5 A.4 and its
 *   Note on frame boundaries), and FrameError when none of these holds.
 * Undefined when a Basic Offset Table says otherwise than NumberOfFrames or the items, or the items are
 * not as PS3.5 A.4 describes: the caller then reads the file with dcmjs, as before, and extractFrames
 * decides.
 */
export async function readEncapsulatedFrames(
  pixelData: EncapsulatedPixelData,
  frameNumbers: readonly number[],
  source: StoredObjectReader,
  limit: FrameBytesLimit = () => {},
): Promise<{ frames: Uint8Array[]; missing: number[] } | undefined> {
  const { itemsStart, frameCount, extendedOffsetTable } = pixelData;
  const wanted = frameNumbers.filter((n) => n <= frameCount);
  const missing = frameNumbers.filter((n) => n > frameCount);
  const table = await offsetTableOf(pixelData, source);
  if (!table) return undefined;
  const { tableLength, firstFragment } = table;

  if (tableLength === 0 && !extendedOffsetTable) {
    // At least the Sequence Delimitation Item follows the table.
    if (firstFragment + ITEM_HEADER > source.size) return undefined;
    if (wanted.length === 0) return { frames: [], missing };
    // The offsets the index kept when the instance was stored stand for a table; should the items not
    // be where they say, the items are streamed.
    const { frameOffsets } = pixelData;
    if (frameOffsets?.length === frameCount + 1) {
      const spans: FrameSpans = { offsets: frameOffsets.slice(0, -1), end: (k) => frameOffsets[k + 1]!, fragments: (_, items) => items.length > 0 };
      const frames = await framesBySpans(spans, firstFragment, wanted, source, limit);
      if (frames) return { frames, missing };
    }
    const frames = await streamedFrames(pixelData, wanted, await source.stream(firstFragment), source.size - firstFragment, limit);
    return frames && { frames, missing };
  }
  let spans: FrameSpans;
  if (tableLength === 0) {
    const { offsets, lengths } = extendedOffsetTable!;
    spans = { offsets, end: (k) => offsets[k]! + ITEM_HEADER + lengths[k]!, fragments: (k, items) => items.length === 1 && items[0]!.value.length === lengths[k] };
  } else {
    const entries = await source.read(itemsStart + ITEM_HEADER, firstFragment);
    const offsetsView = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
    const offsets = Array.from({ length: tableLength / 4 }, (_, k) => offsetsView.getUint32(4 * k, true));
    if (offsets.length !== frameCount || offsets[0] !== 0 || offsets.some((o, k) => k > 0 && o <= offsets[k - 1]!)) return undefined;
    // The last frame's items run to the Sequence Delimitation Item.
    spans = { offsets, end: (k) => (k + 1 < frameCount ? offsets[k + 1] : undefined), fragments: (_, items) => items.length > 0 };
  }
  if (wanted.length === 0) return { frames: [], missing };
  const frames = await framesBySpans(spans, firstFragment, wanted, source, limit);
  return frames && { frames, missing };
}

/**
 * The value of encapsulated Pixel Data as Retrieve Bulkdata returns it (getBulkData of what dcmjs
 * reads): its fragments one after the other, the Basic Offset Table left out. The items are streamed
 * through the Sequence Delimitation Item, `limit` seeing their size as they come, so memory holds the
 * value and no more than the limit. Undefined when the items are not as PS3.5 A.4 describes, or there
 * is none (the caller then reads the file with dcmjs, as for any other value).
 */
export async function readEncapsulatedValue(
  pixelData: EncapsulatedPixelData,
  source: StoredObjectReader,
  limit: FrameBytesLimit = () => {},
): Promise<Uint8Array | undefined> {
  const table = await offsetTableOf(pixelData, source);
  if (!table || table.firstFragment + ITEM_HEADER > source.size) return undefined;
  const stream = await source.stream(table.firstFragment);
  // As one frame: all of the fragments.
  return (await streamedFrames({ ...pixelData, frameCount: 1 }, [1], stream, source.size - table.firstFragment, limit))?.[0];
}

/**
 * The Basic Offset Table (PS3.5 A.4: the first item, of a length that is a multiple of 4) read through
 * `source`: its length and where the first fragment starts; undefined when the items do not start so.
 */
async function offsetTableOf(pixelData: EncapsulatedPixelData, source: StoredObjectReader): Promise<{ tableLength: number; firstFragment: number } | undefined> {
  const { itemsStart } = pixelData;
  if (itemsStart + ITEM_HEADER > source.size) return undefined;
  const table = await source.read(itemsStart, itemsStart + ITEM_HEADER);
  const tableLength = unlessMalformed(() => new ElementWalker(table).itemLength(0, table.length, EXPLICIT_LE));
  if (tableLength === undefined) return undefined;
  const firstFragment = itemsStart + ITEM_HEADER + tableLength;
  return tableLength % 4 === 0 && firstFragment <= source.size ? { tableLength, firstFragment } : undefined;
}

/** Where each frame's items lie, from the first item after the Basic Offset Table. */
interface FrameSpans {
  readonly offsets: readonly number[];
  /** Where frame k's items end, or undefined when they run to the Sequence Delimitation Item. */
  end(k: number): number | undefined;
  /** Whether the items found in frame k's span are what the table says. */
  fragments(k: number, items: readonly { offset: number; value: Uint8Array }[]): boolean;
}

/** How many ranges of one request are read at once. */
const RANGE_READS_AT_ONCE = 4;

/**
 * The frames asked (1-based, all within the frame count), each from its span: a range per run of
 * adjacent frames, the items of each span checked. Undefined when a span does not hold its items.
 */
async function framesBySpans(
  spans: FrameSpans,
  firstFragment: number,
  wanted: readonly number[],
  source: StoredObjectReader,
  limit: FrameBytesLimit,
): Promise<Uint8Array[] | undefined> {
  const ks = [...new Set(wanted.map((n) => n - 1))].sort((a, b) => a - b);
  // Each frame holds its span but at least one item header; a span to the delimiter, at least nothing.
  limit(ks.reduce((sum, k) => sum + Math.max(0, (spans.end(k) ?? spans.offsets[k]!) - spans.offsets[k]! - ITEM_HEADER), 0));
  const runs: number[][] = [];
  for (const k of ks) {
    const run = runs.at(-1);
    if (run && spans.end(run.at(-1)!) === spans.offsets[k]) run.push(k);
    else runs.push([k]);
  }
  const frames = new Map<number, Uint8Array>();
  let failed = false;
  const readRun = async (run: number[]) => {
    const start = spans.offsets[run[0]!]!;
    const end = spans.end(run.at(-1)!);
    // Within the object, which the reads require (a range that starts at its end is no range).
    if (firstFragment + start >= source.size || firstFragment + (end ?? start) > source.size) return void (failed = true);
    const items = fragmentItems(await source.read(firstFragment + start, end === undefined ? source.size : firstFragment + end), end !== undefined);
    if (!items) return void (failed = true);
    for (const k of run) {
      const from = spans.offsets[k]! - start;
      const to = (spans.end(k) ?? Number.POSITIVE_INFINITY) - start;
      const own = items.filter((i) => i.offset >= from && i.offset < to);
      // Each offset must be where an item starts, and each frame must have what the table says.
      if (own[0]?.offset !== from || !spans.fragments(k, own)) return void (failed = true);
      frames.set(k + 1, concatBytes(own.map((i) => i.value)));
    }
  };
  for (let i = 0; i < runs.length && !failed; i += RANGE_READS_AT_ONCE) {
    await Promise.all(runs.slice(i, i + RANGE_READS_AT_ONCE).map(readRun));
  }
  return failed ? undefined : wanted.map((n) => frames.get(n)!);
}

/**
 * PS3.5 A.4 (and Annex A's Notes on frame boundaries): the bytes each frame of these transfer
 * syntaxes starts with, the start of its codestream: JPEG and JPEG-LS SOI then a marker (ISO/IEC
 * 10918-1, 14495-1), JPEG 2000 and HTJ2K SOC then SIZ (ISO/IEC 15444-1, -15).
 */
const CODESTREAM_START: Readonly<Record<string, Uint8Array>> = (() => {
  const jpeg = Uint8Array.of(0xff, 0xd8, 0xff);
  const j2k = Uint8Array.of(0xff, 0x4f, 0xff, 0x51);
  return {
    [TransferSyntax.JPEGBaseline8Bit]: jpeg,
    [TransferSyntax.JPEGExtended12Bit]: jpeg,
    [TransferSyntax.JPEGLossless]: jpeg,
    [TransferSyntax.JPEGLosslessSV1]: jpeg,
    [TransferSyntax.JPEGLSLossless]: jpeg,
    [TransferSyntax.JPEGLSNearLossless]: jpeg,
    [TransferSyntax.JPEG2000Lossless]: j2k,
    [TransferSyntax.JPEG2000]: j2k,
    [TransferSyntax.HTJ2KLossless]: j2k,
    [TransferSyntax.HTJ2KLosslessRPCL]: j2k,
    [TransferSyntax.HTJ2K]: j2k,
  };
})();

const MARKER_BYTES = 4;

function startsWith(value: Uint8Array, marker: Uint8Array | undefined): boolean {
  return marker !== undefined && value.length >= marker.length && marker.every((b, i) => value[i] === b);
}

/**
 * Frames of encapsulated Pixel Data without an offset table, from its fragments (PS3.5 A.4): one
 * fragment per frame when their numbers match, all of them for a single frame, else one frame per
 * fragment that starts a codestream (CODESTREAM_START) with the following ones, when the first
 * fragment starts one and there are as many as frames. Undefined when none of these holds.
 */
export function framesOfFragments(fragments: readonly Uint8Array[], frameCount: number, transferSyntaxUID: string): Uint8Array[][] | undefined {
  if (fragments.length === frameCount) return fragments.map((f) => [f]);
  if (frameCount === 1) return [[...fragments]];
  const marker = CODESTREAM_START[transferSyntaxUID];
  if (!startsWith(fragments[0] ?? new Uint8Array(0), marker)) return undefined;
  const frames: Uint8Array[][] = [];
  for (const f of fragments) {
    if (startsWith(f, marker)) frames.push([f]);
    else frames.at(-1)!.push(f);
  }
  return frames.length === frameCount ? frames : undefined;
}

/** Frames whose offsets the index keeps at most: an instance entry is one DynamoDB item (400 KB). */
export const MAX_INDEXED_FRAME_OFFSETS = 10_000;

/**
 * Where the frames of encapsulated Pixel Data without an offset table lie, for the index to keep when
 * the instance is stored (InstanceObject.frameOffsets): the offset of each frame's first item from the
 * first fragment, then the end of the last item (NumberOfFrames + 1 entries), the frames delimited by
 * framesOfFragments's rules. Retrieve Frames then reads a frame by range, as with a Basic Offset Table,
 * where it would otherwise stream the items of the whole object. `instance` is readPart10's of `part10`
 * with `bulkDataAbove` (its Pixel Data a BulkDataValue). Undefined with an offset table (Basic or
 * Extended), for a single frame or more than MAX_INDEXED_FRAME_OFFSETS, or fragments no rule delimits.
 */
export function frameOffsetsOf(part10: Uint8Array, instance: ParsedInstance): number[] | undefined {
  const value = instance.dict[Tag.PixelData]?.Value?.[0];
  if (!(value instanceof BulkDataValue) || isUncompressedTransferSyntax(instance.transferSyntaxUID)) return undefined;
  if (instance.dict[Tag.ExtendedOffsetTable]?.Value?.length) return undefined;
  const frameCount = frameCountOf(integerOf(instance, Tag.NumberOfFrames));
  if (frameCount < 2 || frameCount > MAX_INDEXED_FRAME_OFFSETS) return undefined;
  const items = fragmentItems(part10.subarray(value.offset, value.offset + value.length), false);
  // The first item is the Basic Offset Table, empty here.
  if (!items || items.length < 2 || items[0]!.value.length !== 0) return undefined;
  const fragments = items.slice(1);
  const frames = framesOfFragments(
    fragments.map((f) => f.value),
    frameCount,
    instance.transferSyntaxUID,
  );
  if (!frames) return undefined;
  const first = fragments[0]!.offset;
  const offsetOf = new Map(fragments.map((f) => [f.value, f.offset - first]));
  const last = fragments.at(-1)!;
  return [...frames.map((frame) => offsetOf.get(frame[0]!)!), last.offset - first + ITEM_HEADER + last.value.length];
}

/**
 * The frames asked of encapsulated Pixel Data without an offset table, its items streamed (`stream`,
 * the `streamLength` bytes from the first after the Basic Offset Table to the object's end) through
 * the Sequence Delimitation Item, keeping only the fragments that framesOfFragments's rules could give
 * a frame asked. FrameError when no rule delimits the frames; undefined when the items are not as
 * PS3.5 A.4 describes, or there is none.
 */
async function streamedFrames(
  pixelData: EncapsulatedPixelData,
  wanted: readonly number[],
  stream: AsyncIterable<Uint8Array>,
  streamLength: number,
  limit: FrameBytesLimit,
): Promise<Uint8Array[] | undefined> {
  const { frameCount } = pixelData;
  const marker = CODESTREAM_START[pixelData.transferSyntaxUID];
  const asked = new Set(wanted);
  // What each rule of framesOfFragments would make of the fragments seen so far: the frame a fragment
  // belongs to (item number k, the single frame, the codestream count), and the fragments kept.
  const rules = {
    perFragment: new KeptFrames(limit),
    single: new KeptFrames(limit),
    codestreams: new KeptFrames(limit),
  };
  let fragments = 0;
  let codestreams = 0;
  let firstStartsCodestream = false;
  const items = new ByteReader(stream, streamLength);
  try {
    for (;;) {
      const length = new ElementWalker(await items.take(ITEM_HEADER)).fragmentLength(0, ITEM_HEADER, EXPLICIT_LE);
      if (length === undefined) break;
      const start = await items.take(Math.min(MARKER_BYTES, length));
      const startsCodestream = startsWith(start, marker);
      fragments += 1;
      if (startsCodestream) codestreams += 1;
      if (fragments === 1) firstStartsCodestream = startsCodestream;
      // Of a single frame every fragment is part; the other rules delimit several.
      const frameByRule =
        frameCount === 1
          ? { perFragment: 0, single: 1, codestreams: 0 }
          : { perFragment: fragments, single: 0, codestreams: firstStartsCodestream ? codestreams : 0 };
      const keepers = (Object.keys(rules) as (keyof typeof rules)[])
        .filter((rule) => asked.has(frameByRule[rule]))
        .filter((rule) => rules[rule].admit(length));
      // A single frame's rule is the one that holds: past the limit, the request is refused now.
      if (frameCount === 1 && rules.single.overLimit) rules.single.frames(wanted);
      if (keepers.length === 0) {
        await items.skip(length - start.length);
        continue;
      }
      const value = concatBytes([start, await items.take(length - start.length)]);
      for (const rule of keepers) rules[rule].keep(frameByRule[rule], value);
    }
  } catch (error) {
    if (error instanceof Part10Error) return undefined;
    throw error;
  } finally {
    // What follows the items is not read: the stream is let go.
    await items.close();
  }
  if (fragments === 0) return undefined;
  const rule =
    frameCount === 1 ? rules.single
    : fragments === frameCount ? rules.perFragment
    : firstStartsCodestream && codestreams === frameCount ? rules.codestreams
    : undefined;
  if (!rule) throw new FrameError('frame boundaries unknown: without an offset table, the fragments do not delimit NumberOfFrames frames');
  return rule.frames(wanted);
}

/** The fragments kept for the frames asked under one rule; past the limit, their size only. */
class KeptFrames {
  private readonly kept = new Map<number, Uint8Array[]>();
  private bytes = 0;
  /** Past the limit: the fragments are counted, not kept. */
  overLimit = false;
  constructor(private readonly limit: FrameBytesLimit) {}

  /** Counts a fragment of `length` bytes of a frame asked: whether to keep it, not once past the limit. */
  admit(length: number): boolean {
    this.bytes += length;
    if (this.overLimit) return false;
    try {
      this.limit(this.bytes);
      return true;
    } catch {
      // The rule may not be the one that holds: refuse only if it is (frames()).
      this.overLimit = true;
      this.kept.clear();
      return false;
    }
  }

  keep(frame: number, value: Uint8Array): void {
    const fragments = this.kept.get(frame);
    if (fragments) fragments.push(value);
    else this.kept.set(frame, [value]);
  }

  frames(wanted: readonly number[]): Uint8Array[] {
    if (this.overLimit) this.limit(this.bytes);
    return wanted.map((n) => concatBytes(this.kept.get(n) ?? []));
  }
}

/** Exact reads from a stream of `length` bytes in chunks; Part10Error for a read beyond them. */
class ByteReader {
  private readonly chunks: AsyncIterator<Uint8Array>;
  private chunk: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private remaining: number;
  constructor(stream: AsyncIterable<Uint8Array>, length: number) {
    this.chunks = stream[Symbol.asyncIterator]();
    this.remaining = length;
  }

  /** The next `count` bytes (a view of the stream's chunk when they lie in one). */
  async take(count: number): Promise<Uint8Array> {
    this.consume(count);
    if (this.chunk.length - this.pos >= count) return this.chunk.subarray(this.pos, (this.pos += count));
    const out = new Uint8Array(count);
    let filled = 0;
    while (filled < count) {
      if (this.pos === this.chunk.length) await this.next();
      const n = Math.min(count - filled, this.chunk.length - this.pos);
      out.set(this.chunk.subarray(this.pos, this.pos + n), filled);
      this.pos += n;
      filled += n;
    }
    return out;
  }

  /** Passes over the next `count` bytes. */
  async skip(count: number): Promise<void> {
    this.consume(count);
    while (count > 0) {
      if (this.pos === this.chunk.length) await this.next();
      const n = Math.min(count, this.chunk.length - this.pos);
      this.pos += n;
      count -= n;
    }
  }

  /** A value length read from the bytes is checked against what is left before anything is allocated for it. */
  private consume(count: number): void {
    if (count > this.remaining) throw new Part10Error('an item runs beyond the end of the object');
    this.remaining -= count;
  }

  /** Ends the stream, read to its end or not. */
  async close(): Promise<void> {
    await this.chunks.return?.();
  }

  private async next(): Promise<void> {
    const { done, value } = await this.chunks.next();
    if (done) throw new Part10Error('encapsulated pixel data ends before its Sequence Delimitation Item');
    this.chunk = value;
    this.pos = 0;
  }
}
