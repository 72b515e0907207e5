/**
 * The attributes the pixel pipeline reads (PS3.3 C.7.6.3 Image Pixel, C.11 LUTs, C.7.6.16 Multi-frame
 * Functional Groups), by keyword, and how to read them for one frame: a functional group macro of the
 * frame's Per-Frame item, else of the Shared item, else the top-level attribute (PS3.3 C.7.6.16.2).
 */
import type { DataSet } from '../data-set';
import { Tag } from '../tags';

/** The values of an element as numbers (DS and IS arrive as strings or numbers); [] when absent. */
export function numbers(set: DataSet | undefined, tag: string): number[] {
  const values = set?.[tag]?.Value ?? [];
  return values.map((v) => (typeof v === 'string' ? Number.parseFloat(v) : Number(v))).filter((n) => Number.isFinite(n));
}

/** The first value of an element as a number; undefined when absent or not a number. */
export function firstNumber(set: DataSet | undefined, tag: string): number | undefined {
  return numbers(set, tag)[0];
}

/** The first value of a string element, trimmed and upper case; '' when absent. */
export function firstCode(set: DataSet | undefined, tag: string): string {
  const value = set?.[tag]?.Value?.[0];
  return typeof value === 'string' ? value.trim().toUpperCase() : '';
}

/** The items of a sequence element; [] when absent. */
export function items(set: DataSet | undefined, tag: string): DataSet[] {
  return (set?.[tag]?.Value ?? []).filter((v): v is DataSet => typeof v === 'object' && v !== null && !(v instanceof ArrayBuffer));
}

/**
 * The data set that holds the attributes of functional group `macro` (a sequence tag, e.g. Pixel Value
 * Transformation) for frame `frameIndex` (0-based): the macro's item of the frame's Per-Frame group,
 * else of the Shared group, else the top-level data set, where a non-enhanced image keeps them.
 */
export function frameMacro(dict: DataSet, macro: string, frameIndex: number): DataSet {
  const perFrame = items(dict, Tag.PerFrameFunctionalGroupsSequence)[frameIndex];
  const shared = items(dict, Tag.SharedFunctionalGroupsSequence)[0];
  return items(perFrame, macro)[0] ?? items(shared, macro)[0] ?? dict;
}

/** The 16-bit words of LUT Data: an OW value (ArrayBuffers, little endian) or US/SS values; undefined when absent. */
export function lutWords(set: DataSet | undefined, tag: string): Uint16Array | undefined {
  const values = set?.[tag]?.Value;
  if (!values || values.length === 0) return undefined;
  if (values[0] instanceof ArrayBuffer) {
    const buffers = values.filter((v): v is ArrayBuffer => v instanceof ArrayBuffer);
    const total = buffers.reduce((n, b) => n + b.byteLength, 0);
    const bytes = new Uint8Array(total + (total % 2));
    let at = 0;
    for (const b of buffers) {
      bytes.set(new Uint8Array(b), at);
      at += b.byteLength;
    }
    const words = new Uint16Array(bytes.length / 2);
    for (let i = 0; i < words.length; i++) words[i] = bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
    return words;
  }
  return Uint16Array.from(values.map((v) => Number(v) & 0xffff));
}
