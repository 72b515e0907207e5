/**
 * Frames of the Pixel Data of an instance: native (PS3.5 8.1.1, 8.2) or encapsulated (PS3.5 A.4).
 */
import type { ParsedInstance } from './part10';
import { binaryValueBytes, type Part10Header } from './part10-scan';
import { Tag } from './tags';
import { isUncompressedTransferSyntax, TransferSyntax } from './uid';

/** The frames cannot be told apart or the request names an impossible frame. */
export class FrameError extends Error {}

const PIXEL_DATA_TAGS = [Tag.PixelData, Tag.FloatPixelData, Tag.DoubleFloatPixelData];
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
  if (!isLittleEndianNative(header.transferSyntaxUID) || stop.tag !== 0x7fe00010) return undefined;
  if ((stop.vr !== undefined && stop.vr !== 'OB' && stop.vr !== 'OW') || stop.length === 0xffffffff || stop.length === 0) return undefined;
  // Absent: undefined; present but not a plain single value: NaN (the caller then declines).
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const us = (tag: string): number | undefined => {
    const e = header.elements.get(parseInt(tag, 16));
    if (!e) return undefined;
    return (e.vr === undefined || e.vr === 'US') && e.length === 2 ? view.getUint16(e.valueStart, true) : NaN;
  };
  const is = (tag: string): number | undefined => {
    const e = header.elements.get(parseInt(tag, 16));
    if (!e) return undefined;
    const text = latin1.decode(bytes.subarray(e.valueStart, e.valueStart + e.length)).replace(/[\0 ]+$/, '');
    return (e.vr === undefined || e.vr === 'IS') && /^ *[0-9]{1,9}$/.test(text) ? Number(text) : NaN;
  };
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
