/**
 * Frames of native (uncompressed) Pixel Data, PS3.5 8.1.1 and 8.2: frame k is the k-th run of
 * Rows x Columns x SamplesPerPixel x BitsAllocated bits. instance.ts cuts them from the value dcmjs
 * read; nativePixelDataOf and readNativeFrames locate them in a stored object by a header scan and
 * read only their bytes, so a frame of a large multi-frame object costs its own size.
 */
import { UNDEFINED_LENGTH, PIXEL_DATA, type Part10Header } from '../part10-scan';
import { Tag } from '../tags';
import { TransferSyntax } from '../uid';
import { FrameError, frameCountOf, framesAsked, type FramesFound } from './frame-numbers';
import { headerNumbers } from './header-scan';

/**
 * Bytes [start, end) of native pixel data of `length` bytes that hold frame k (0-based); FrameError
 * when the pixel data is shorter than its frames.
 */
export function nativeFrameRange(length: number, frameBits: number, k: number): readonly [number, number] {
  const startBit = k * frameBits;
  if (startBit + frameBits > length * 8) throw new FrameError('Pixel Data is shorter than its frames');
  return [Math.floor(startBit / 8), Math.ceil((startBit + frameBits) / 8)];
}

/**
 * Frame k (0-based) of native pixel data, from `pixels`, which hold its bytes from byte `offset` on:
 * whole bytes when the frame size is, else bits repacked (BitsAllocated 1).
 */
export function nativeFrame(pixels: Uint8Array, offset: number, frameBits: number, k: number): Uint8Array {
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

/** Native Pixel Data located in a file without reading it: where its value lies and how it divides into frames. */
export interface NativePixelData {
  /** Offset of the Pixel Data value in the file, and its length, in bytes. */
  readonly valueStart: number;
  readonly length: number;
  /** NumberOfFrames, or 1 without it (frameCountOf). */
  readonly frameCount: number;
  readonly frameBits: number;
}

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
  if ((stop.vr !== undefined && stop.vr !== 'OB' && stop.vr !== 'OW') || stop.length === UNDEFINED_LENGTH || stop.length === 0)
    return undefined;
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
 * extractFrames over native pixel data located by nativePixelDataOf: the requested frames (1-based) in
 * request order, frame numbers beyond the frame count in `missing`. `read(start, end)` answers bytes
 * [start, end) of the file; it is called once, for the span of the frames asked.
 */
export async function readNativeFrames(
  pixelData: NativePixelData,
  frameNumbers: readonly number[],
  read: (start: number, end: number) => Promise<Uint8Array>,
): Promise<FramesFound> {
  const { wanted, missing } = framesAsked(frameNumbers, pixelData.frameCount);
  if (wanted.length === 0) return { frames: [], missing };
  const ranges = wanted.map((n) => nativeFrameRange(pixelData.length, pixelData.frameBits, n - 1));
  const from = Math.min(...ranges.map(([start]) => start));
  const to = Math.max(...ranges.map(([, end]) => end));
  const bytes = await read(pixelData.valueStart + from, pixelData.valueStart + to);
  return { frames: wanted.map((n) => nativeFrame(bytes, from, pixelData.frameBits, n - 1)), missing };
}
