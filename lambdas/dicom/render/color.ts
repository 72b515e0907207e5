/**
 * Color frames to 8-bit RGB, interleaved (PS3.3 C.7.6.3.1.2): RGB as it is, YBR_FULL and YBR_FULL_422
 * through the equations of C.7.6.3.1.2, PALETTE COLOR through its three LUTs (C.7.6.3.1.5-6),
 * segmented ones (C.7.9.2) expanded first.
 * Samples wider than 8 bits keep their 8 most significant stored bits.
 */
import type { DataSet } from '../data-set';
import { numbers, lutWords } from './attributes';
import { Tag } from '../tags';
import { storedValueReader, type Samples } from './grayscale';
import { expandSegmentedLut } from './segmented-palette';
import type { ImagePixel } from './image';
import { RenderError } from './render-error';

/** A byte per stored value: the value itself at 8 bits, else its 8 most significant bits (or scaled up to 8). */
function byteReader(image: ImagePixel): (word: number) => number {
  const stored = storedValueReader({ ...image, signed: false });
  const bits = image.bitsStored;
  if (bits === 8) return stored;
  if (bits > 8) return (w) => Math.floor(stored(w) / 2 ** (bits - 8));
  return (w) => Math.round((stored(w) * 255) / (2 ** bits - 1));
}

function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
}

/**
 * PS3.3 C.7.6.3.1.2: full-range YCbCr to RGB, in place; values truncated as dcmtk (dcmimage) does,
 * the renderer the tests compare with.
 */
export function ybrFullToRgb(rgb: Uint8Array): void {
  for (let i = 0; i < rgb.length; i += 3) {
    const y = rgb[i]!;
    const cb = rgb[i + 1]!;
    const cr = rgb[i + 2]!;
    rgb[i] = clampByte(y + 1.402 * cr - 0.701 * 255);
    rgb[i + 1] = clampByte(y - 0.3441 * cb - 0.7141 * cr + 0.5291 * 255);
    rgb[i + 2] = clampByte(y + 1.772 * cb - 0.8859 * 255);
  }
}

/** Three samples per pixel, interleaved, as bytes; `subsampled` reads YBR_FULL_422 native order (Y1 Y2 Cb Cr). */
function interleavedBytes(samples: Samples, image: ImagePixel, planar: boolean, subsampled: boolean): Uint8Array {
  const toByte = byteReader(image);
  const count = image.rows * image.columns;
  const out = new Uint8Array(count * 3);
  if (subsampled) {
    // PS3.3 C.7.6.3.1.2 YBR_FULL_422 (native): per pair of pixels of a row, Y Y Cb Cr.
    const pairs = Math.ceil(image.columns / 2);
    for (let r = 0; r < image.rows; r++) {
      for (let p = 0; p < pairs; p++) {
        const at = (r * pairs + p) * 4;
        const cb = toByte(samples[at + 2]!);
        const cr = toByte(samples[at + 3]!);
        for (let k = 0; k < 2 && 2 * p + k < image.columns; k++) {
          const o = (r * image.columns + 2 * p + k) * 3;
          out[o] = toByte(samples[at + k]!);
          out[o + 1] = cb;
          out[o + 2] = cr;
        }
      }
    }
    return out;
  }
  if (planar) {
    for (let i = 0; i < count; i++) for (let s = 0; s < 3; s++) out[i * 3 + s] = toByte(samples[s * count + i]!);
    return out;
  }
  if (samples instanceof Uint8Array && image.bitsStored === 8 && image.highBit === 7) {
    out.set(samples.subarray(0, count * 3));
    return out;
  }
  for (let i = 0; i < count * 3; i++) out[i] = toByte(samples[i]!);
  return out;
}

/**
 * RGB of a color frame. `photometric` is what the samples hold after decoding (a JPEG decoder may
 * already have turned YBR into RGB); `subsampled` marks native YBR_FULL_422 with its pixel pairs.
 */
export function renderColor(samples: Samples, image: ImagePixel, photometric: string, planar: boolean, subsampled: boolean): Uint8Array {
  if (samples instanceof Float32Array || samples instanceof Float64Array) throw new RenderError('not-an-image', 'float color pixel data');
  // 8-bit RGB interleaved is its own rendering: the frame's bytes as they are (an ultrasound frame of
  // 640 x 480 is 0.9 MB not allocated and copied per image); nothing below writes into them.
  const asStored = !planar && !subsampled && samples instanceof Uint8Array && image.bitsStored === 8 && image.highBit === 7;
  if (asStored && photometric === 'RGB') return samples.subarray(0, image.rows * image.columns * 3);
  const rgb = interleavedBytes(samples, image, planar, subsampled);
  if (photometric.startsWith('YBR_FULL')) ybrFullToRgb(rgb);
  return rgb;
}

/** One palette (C.7.6.3.1.5): descriptor and 16-bit entries, or 8-bit entries two to a word. */
function palette(dict: DataSet, descriptorTag: string, dataTag: string, segmentedTag: string, signed: boolean) {
  const [count, first, bits] = numbers(dict, descriptorTag);
  const entries = count === 0 ? 65536 : (count ?? 0);
  const segmented = lutWords(dict, segmentedTag);
  const words = lutWords(dict, dataTag) ?? (segmented && bits === 16 ? expandSegmentedLut(segmented, entries) : undefined);
  if (count === undefined || first === undefined || bits === undefined || !words)
    throw new RenderError('not-an-image', 'PALETTE COLOR without its lookup tables');
  const firstMapped = signed && first > 0x7fff ? first - 0x10000 : first;
  const table = new Uint8Array(entries);
  if (words.length >= entries) {
    // 16-bit entries (or 8-bit entries one to a word): keep the 8 most significant bits of `bits`.
    const shift = Math.max(bits, 8) - 8;
    for (let i = 0; i < entries; i++) table[i] = (words[i]! >> shift) & 0xff;
  } else if (words.length * 2 >= entries) {
    for (let i = 0; i < entries; i++) table[i] = (words[i >> 1]! >> ((i & 1) * 8)) & 0xff;
  } else throw new RenderError('not-an-image', 'PALETTE COLOR lookup table shorter than its descriptor');
  return { first: firstMapped, table };
}

/** RGB of a PALETTE COLOR frame: each stored value looked up in the red, green and blue LUTs, clamped at their ends. */
export function renderPalette(samples: Samples, image: ImagePixel, dict: DataSet): Uint8Array {
  const luts = [
    palette(
      dict,
      Tag.RedPaletteColorLookupTableDescriptor,
      Tag.RedPaletteColorLookupTableData,
      Tag.SegmentedRedPaletteColorLookupTableData,
      image.signed,
    ),
    palette(
      dict,
      Tag.GreenPaletteColorLookupTableDescriptor,
      Tag.GreenPaletteColorLookupTableData,
      Tag.SegmentedGreenPaletteColorLookupTableData,
      image.signed,
    ),
    palette(
      dict,
      Tag.BluePaletteColorLookupTableDescriptor,
      Tag.BluePaletteColorLookupTableData,
      Tag.SegmentedBluePaletteColorLookupTableData,
      image.signed,
    ),
  ];
  const stored = storedValueReader(image);
  const count = image.rows * image.columns;
  const out = new Uint8Array(count * 3);
  for (let i = 0; i < count; i++) {
    const value = stored(samples[i]!);
    for (let c = 0; c < 3; c++) {
      const { first, table } = luts[c]!;
      const k = value - first;
      out[i * 3 + c] = table[k <= 0 ? 0 : k >= table.length ? table.length - 1 : k]!;
    }
  }
  return out;
}
