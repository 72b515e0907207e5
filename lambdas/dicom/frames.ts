/**
 * Frames of the Pixel Data of an instance: native (PS3.5 8.1.1, 8.2) or encapsulated (PS3.5 A.4).
 */
import { binaryValueBytes, type ParsedInstance } from './part10';
import { Tag } from './tags';
import { isUncompressedTransferSyntax } from './uid';

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

/** Frame k (0-based) of native pixel data: whole bytes when the frame size is, else bits repacked (BitsAllocated 1). */
function nativeFrame(pixels: Uint8Array, frameBits: number, k: number): Uint8Array {
  const startBit = k * frameBits;
  if (startBit + frameBits > pixels.length * 8) throw new FrameError('Pixel Data is shorter than its frames');
  if (frameBits % 8 === 0 && startBit % 8 === 0) return pixels.subarray(startBit / 8, (startBit + frameBits) / 8);
  // PS3.5 8.1.1 (BitsAllocated 1): pixels are packed from the least significant bit of each byte, and a
  // frame may start in the middle of a byte; the frame is returned starting at bit 0 of its first byte.
  const frame = new Uint8Array(Math.ceil(frameBits / 8));
  for (let i = 0; i < frameBits; i++) {
    const bit = startBit + i;
    if ((pixels[bit >> 3]! >> (bit & 7)) & 1) frame[i >> 3]! |= 1 << (i & 7);
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
  return { frames: wanted.map((n) => nativeFrame(pixels, frameBits, n - 1)), missing };
}
