/**
 * Frames of the Pixel Data of an instance: native (PS3.5 8.1.1, 8.2) or encapsulated (PS3.5 A.4).
 */
import type { ParsedInstance } from './part10';
import { binaryValueBytes, concatBytes, ElementWalker, EXPLICIT_LE, Part10Error, PIXEL_DATA, UNDEFINED_LENGTH, type Part10Header } from './part10-scan';
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
  const n = integerOf(instance, Tag.NumberOfFrames);
  return n !== undefined && n >= 1 ? n : 1;
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

/** Frames of encapsulated pixel data as readPart10 holds them (one buffer per frame when a Basic Offset Table is present). */
function encapsulatedFrames(values: readonly unknown[], count: number): Uint8Array[] {
  const buffers = values.filter((v): v is ArrayBuffer => v instanceof ArrayBuffer);
  if (buffers.length === count) return buffers.map((b) => new Uint8Array(b));
  // PS3.5 A.4: without an offset table a single frame may span several fragments.
  if (count === 1) return [binaryValueBytes(buffers)];
  throw new FrameError('frame boundaries unknown: fragments do not match NumberOfFrames and there is no Basic Offset Table');
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

  if (pixelData.tag === Tag.PixelData && !isUncompressedTransferSyntax(instance.transferSyntaxUID)) {
    const all = encapsulatedFrames(pixelData.values, count);
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
    frameCount: frames !== undefined && frames >= 1 ? frames : 1,
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
}

/**
 * The Pixel Data (7FE0,0010) of a header scanned up to PIXEL_DATA_SCAN_STOP, when it is encapsulated
 * (PS3.5 A.4: undefined length, in a transfer syntax that is not uncompressed) and NumberOfFrames reads
 * plainly; undefined for anything else.
 */
export function encapsulatedPixelDataOf(header: Part10Header, bytes: Uint8Array): EncapsulatedPixelData | undefined {
  const { stop } = header;
  if (isUncompressedTransferSyntax(header.transferSyntaxUID) || stop.tag !== PIXEL_DATA || stop.length !== UNDEFINED_LENGTH) return undefined;
  const frames = headerNumbers(header, bytes).is(Tag.NumberOfFrames);
  if (Number.isNaN(frames)) return undefined;
  return { itemsStart: stop.valueStart, frameCount: frames !== undefined && frames >= 1 ? frames : 1 };
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

/**
 * extractFrames over encapsulated Pixel Data located by encapsulatedPixelDataOf, reading through
 * `read(start, end)` (bytes [start, end) of a file of `fileSize` bytes): the Basic Offset Table first;
 * with one, only the items of the frames asked (frame k is the fragments from its offset to the next
 * frame's, PS3.5 A.4); without one, the items through the Sequence Delimitation Item, one fragment per
 * frame or all of them for a single frame. Undefined whenever the items do not say the same as
 * NumberOfFrames, or are not as PS3.5 A.4 describes: the caller then reads the file with dcmjs, as
 * before, and extractFrames decides.
 */
export async function readEncapsulatedFrames(
  pixelData: EncapsulatedPixelData,
  frameNumbers: readonly number[],
  read: (start: number, end: number) => Promise<Uint8Array>,
  fileSize: number,
): Promise<{ frames: Uint8Array[]; missing: number[] } | undefined> {
  const { itemsStart, frameCount } = pixelData;
  const wanted = frameNumbers.filter((n) => n <= frameCount);
  const missing = frameNumbers.filter((n) => n > frameCount);
  if (itemsStart + ITEM_HEADER > fileSize) return undefined;
  const table = await read(itemsStart, itemsStart + ITEM_HEADER);
  const tableLength = unlessMalformed(() => new ElementWalker(table).itemLength(0, table.length, EXPLICIT_LE));
  if (tableLength === undefined) return undefined;
  const firstFragment = itemsStart + ITEM_HEADER + tableLength;
  if (tableLength % 4 !== 0 || firstFragment > fileSize) return undefined;

  if (tableLength === 0) {
    const items = fragmentItems(await read(firstFragment, fileSize), false);
    if (!items || items.length === 0) return undefined;
    if (items.length === frameCount) return { frames: wanted.map((n) => items[n - 1]!.value), missing };
    // PS3.5 A.4: without an offset table a single frame may span several fragments.
    if (frameCount === 1) return { frames: wanted.map(() => concatBytes(items.map((i) => i.value))), missing };
    return undefined;
  }

  const entries = await read(itemsStart + ITEM_HEADER, firstFragment);
  const offsetsView = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
  const offsets = Array.from({ length: tableLength / 4 }, (_, k) => offsetsView.getUint32(4 * k, true));
  if (offsets.length !== frameCount || offsets[0] !== 0 || offsets.some((o, k) => k > 0 && o <= offsets[k - 1]!)) return undefined;
  if (wanted.length === 0) return { frames: [], missing };
  // The span of the frames asked: from the first one's offset to the next frame's (the last frame's
  // items run to the Sequence Delimitation Item).
  const first = Math.min(...wanted) - 1;
  const last = Math.max(...wanted) - 1;
  const toDelimiter = last === frameCount - 1;
  const from = firstFragment + offsets[first]!;
  const to = toDelimiter ? fileSize : firstFragment + offsets[last + 1]!;
  if (to > fileSize || from >= to) return undefined;
  const items = fragmentItems(await read(from, to), !toDelimiter);
  if (!items) return undefined;
  const frames = new Map<number, Uint8Array>();
  for (const k of new Set(wanted.map((n) => n - 1))) {
    const start = offsets[k]! - offsets[first]!;
    const end = k + 1 < frameCount ? offsets[k + 1]! - offsets[first]! : Number.POSITIVE_INFINITY;
    const own = items.filter((i) => i.offset >= start && i.offset < end);
    // Each offset must be where an item starts, and each frame must have a fragment.
    if (own.length === 0 || own[0]!.offset !== start) return undefined;
    frames.set(k + 1, concatBytes(own.map((i) => i.value)));
  }
  return { frames: wanted.map((n) => frames.get(n)!), missing };
}
