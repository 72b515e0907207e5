/**
 * Segmented Palette Color Lookup Table Data (PS3.3 C.7.9.2), 16-bit entries, expanded into the plain
 * LUT it stands for: discrete segments (opcode 0, values as they are), linear segments (opcode 1, a
 * ramp from the last value to the next, rounded) and indirect segments (opcode 2, segments copied from
 * a 32-bit offset, least significant word first, counted in words of the data as pydicom reads it).
 */
import { RenderError } from './render-error';

const MAX_DEPTH = 8; // indirect segments pointing at indirect segments: no loops

function expand(data: Uint16Array, from: number, segments: number, out: number[], depth: number): void {
  let at = from;
  for (let read = 0; read < segments && at + 1 < data.length; read++) {
    const opcode = data[at]!;
    const length = data[at + 1]!;
    at += 2;
    if (opcode === 0) {
      if (at + length > data.length) throw new RenderError('not-an-image', 'a discrete palette segment runs past its data');
      for (let i = 0; i < length; i++) out.push(data[at + i]!);
      at += length;
    } else if (opcode === 1) {
      const y0 = out.at(-1);
      const y1 = data[at++];
      if (y0 === undefined || y1 === undefined) throw new RenderError('not-an-image', 'a linear palette segment without a start');
      for (let i = 1; i <= length; i++) out.push(Math.round(y0 + ((y1 - y0) * i) / length));
    } else if (opcode === 2 && depth < MAX_DEPTH && out.length > 0 && at + 1 < data.length) {
      const offset = data[at]! + data[at + 1]! * 0x10000;
      at += 2;
      expand(data, offset, length, out, depth + 1);
    } else throw new RenderError('not-an-image', `palette segment of opcode ${opcode} cannot be expanded`);
  }
}

/** The LUT of `entries` 16-bit values a segmented LUT describes; RenderError('not-an-image') when it does not. */
export function expandSegmentedLut(data: Uint16Array, entries: number): Uint16Array {
  const out: number[] = [];
  expand(data, 0, Infinity, out, 0);
  if (out.length < entries) throw new RenderError('not-an-image', 'a segmented palette shorter than its descriptor');
  return Uint16Array.from(out.slice(0, entries));
}
