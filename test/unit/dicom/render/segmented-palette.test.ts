/** Segmented palettes (PS3.3 C.7.9.2) expanded on values computed by hand (dcmtk 3.6.7 renders none). */
import { describe, expect, it } from 'vitest';
import { renderPalette } from '../../../../lambdas/dicom/render/color';
import type { ImagePixel } from '../../../../lambdas/dicom/render/image';
import { expandSegmentedLut } from '../../../../lambdas/dicom/render/segmented-palette';

describe('expandSegmentedLut', () => {
  it('expands discrete, linear (rounded ramp from the last value) and indirect segments', () => {
    const data = Uint16Array.of(0, 3, 10, 20, 30, 1, 2, 41, 2, 1, 0, 0);
    // discrete 10 20 30; linear to 41 in 2: 35.5 -> 36, 41; indirect: the first segment again
    expect(Array.from(expandSegmentedLut(data, 8))).toEqual([10, 20, 30, 36, 41, 10, 20, 30]);
  });
  it('answers not-an-image for a linear first segment, an unknown opcode, too few entries or an indirect loop', () => {
    expect(() => expandSegmentedLut(Uint16Array.of(1, 2, 10), 2)).toThrow(expect.objectContaining({ reason: 'not-an-image' }));
    expect(() => expandSegmentedLut(Uint16Array.of(0, 1, 5, 7, 1, 0), 2)).toThrow(expect.objectContaining({ reason: 'not-an-image' }));
    expect(() => expandSegmentedLut(Uint16Array.of(0, 1, 5), 2)).toThrow(expect.objectContaining({ reason: 'not-an-image' }));
    expect(() => expandSegmentedLut(Uint16Array.of(0, 1, 5, 2, 1, 3, 0), 100)).toThrow(expect.objectContaining({ reason: 'not-an-image' }));
  });
});

describe('renderPalette with Segmented Palette Color Lookup Table Data', () => {
  it('looks stored values up in the expanded LUTs', () => {
    const image: ImagePixel = {
      rows: 1,
      columns: 3,
      samplesPerPixel: 1,
      bitsAllocated: 8,
      bitsStored: 8,
      highBit: 7,
      signed: false,
      planar: false,
      photometricInterpretation: 'PALETTE COLOR',
      float: false,
    };
    const descriptor = { vr: 'US', Value: [3, 0, 16] };
    const segmented = (...words: number[]) => ({ vr: 'OW', Value: [Uint16Array.from(words).buffer] });
    const dict = {
      '00281101': descriptor,
      '00281102': descriptor,
      '00281103': descriptor,
      '00281221': segmented(0, 1, 0, 1, 2, 0xff00), // 0, 0x7f80, 0xff00
      '00281222': segmented(0, 3, 0x1000, 0x2000, 0x3000),
      '00281223': segmented(0, 1, 0xffff, 1, 2, 0xffff),
    };
    expect(Array.from(renderPalette(Uint8Array.of(0, 1, 2), image, dict))).toEqual([0, 0x10, 0xff, 0x7f, 0x20, 0xff, 0xff, 0x30, 0xff]);
  });
});
