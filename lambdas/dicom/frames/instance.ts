/**
 * Frames of the Pixel Data of an instance dcmjs parsed (readPart10): native (PS3.5 8.1.1, 8.2) or
 * encapsulated (PS3.5 A.4). The reference cut: the header-scan readers (native.ts, encapsulated.ts)
 * answer the same frames from a stored object, and decline to this whatever they cannot read plainly.
 */
import type { ParsedInstance } from '../part10';

/** What frames are cut from: a data set as readPart10 reads it, with its transfer syntax. */
type FrameSource = Pick<ParsedInstance, 'dict' | 'transferSyntaxUID'>;
import { binaryValueBytes, concatBytes } from '../part10-scan';
import { PIXEL_DATA_TAGS, Tag } from '../tags';
import { isUncompressedTransferSyntax } from '../uid';
import { framesOfFragments } from './codestreams';
import { FrameError, frameCountOf, framesAsked, type FramesFound } from './frame-numbers';
import { nativeFrame, nativeFrameRange } from './native';

/** PS3.3 C.7.6.3.1.4: Float Pixel Data is 32-bit, Double Float Pixel Data 64-bit. */
const FLOAT_BITS_ALLOCATED: Readonly<Record<string, number>> = { [Tag.FloatPixelData]: 32, [Tag.DoubleFloatPixelData]: 64 };

/** The first of the pixel data elements (PS3.3 C.7.6.3) that holds binary values, with its tag. */
function binaryPixelData(instance: FrameSource) {
  for (const tag of PIXEL_DATA_TAGS) {
    const element = instance.dict[tag];
    if (element?.Value?.some((v) => v instanceof ArrayBuffer)) return { tag, values: element.Value };
  }
  return undefined;
}

/** The first value of an element as an integer; undefined when absent or not an integer. */
function integerValue(instance: FrameSource, tag: string): number | undefined {
  const value = Number(instance.dict[tag]?.Value?.[0]);
  return Number.isInteger(value) ? value : undefined;
}

/** NumberOfFrames (0028,0008), or 1 when Pixel Data is present without it (frameCountOf); 0 without pixel data. */
export function numberOfFrames(instance: FrameSource): number {
  if (!binaryPixelData(instance)) return 0;
  return frameCountOf(instance.dict[Tag.NumberOfFrames]?.Value?.[0]);
}

/**
 * Frames of encapsulated pixel data as readPart10 holds them: one buffer per frame when a Basic Offset
 * Table is present, else one per fragment, which framesOfFragments delimits.
 */
function encapsulatedFrames(values: readonly unknown[], count: number, transferSyntaxUID: string): Uint8Array[] {
  const fragments = values.filter((v): v is ArrayBuffer => v instanceof ArrayBuffer).map((b) => new Uint8Array(b));
  const frames = framesOfFragments(fragments, count, transferSyntaxUID);
  if (!frames)
    throw new FrameError('frame boundaries unknown: without an offset table, the fragments do not delimit NumberOfFrames frames');
  return frames.map(concatBytes);
}

/**
 * Returns the requested frames (1-based) in request order; frame numbers beyond numberOfFrames are
 * returned in `missing`. Native frames are Rows x Columns x SamplesPerPixel x BitsAllocated bits each
 * (little-endian byte order); encapsulated frames are the frame's fragments as stored.
 */
export function extractFrames(instance: FrameSource, frameNumbers: readonly number[]): FramesFound {
  const pixelData = binaryPixelData(instance);
  if (!pixelData) throw new FrameError('the instance has no pixel data');
  if (frameNumbers.some((n) => !Number.isInteger(n) || n < 1)) throw new FrameError('frame numbers start at 1');
  const count = numberOfFrames(instance);
  // Frames beyond NumberOfFrames are missing however the pixel data divides (readEncapsulatedFrames too).
  const { wanted, missing } = framesAsked(frameNumbers, count);
  if (wanted.length === 0) return { frames: [], missing };

  if (pixelData.tag === Tag.PixelData && !isUncompressedTransferSyntax(instance.transferSyntaxUID)) {
    const all = encapsulatedFrames(pixelData.values, count, instance.transferSyntaxUID);
    return { frames: wanted.map((n) => all[n - 1]!), missing };
  }

  const rows = integerValue(instance, Tag.Rows);
  const columns = integerValue(instance, Tag.Columns);
  const samplesPerPixel = integerValue(instance, Tag.SamplesPerPixel) ?? 1;
  const bitsAllocated = integerValue(instance, Tag.BitsAllocated) ?? FLOAT_BITS_ALLOCATED[pixelData.tag];
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
