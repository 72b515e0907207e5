/** Color frames to RGB (PS3.3 C.7.6.3.1.2, C.7.6.3.1.5-6) on values computed by hand. */
import { describe, expect, it } from 'vitest';
import { renderColor, renderPalette, ybrFullToRgb } from '../../../../lambdas/dicom/render/color';
import type { ImagePixel } from '../../../../lambdas/dicom/render/image';
import { RenderError } from '../../../../lambdas/dicom/render/render-error';

const image = (over: Partial<ImagePixel> = {}): ImagePixel => ({
  rows: 1,
  columns: 2,
  samplesPerPixel: 3,
  bitsAllocated: 8,
  bitsStored: 8,
  highBit: 7,
  signed: false,
  planar: false,
  photometricInterpretation: 'RGB',
  float: false,
  ...over,
});

describe('renderColor', () => {
  it('keeps color-by-pixel RGB and interleaves color-by-plane', () => {
    expect(Array.from(renderColor(Uint8Array.of(1, 2, 3, 4, 5, 6), image(), 'RGB', false, false))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(renderColor(Uint8Array.of(1, 4, 2, 5, 3, 6), image(), 'RGB', true, false))).toEqual([1, 2, 3, 4, 5, 6]);
  });
  it('keeps the 8 most significant stored bits of wider samples', () => {
    const wide = image({ bitsAllocated: 16, bitsStored: 12, highBit: 11 });
    expect(Array.from(renderColor(Uint16Array.of(0xfff, 0x800, 0x010, 0, 0, 0), wide, 'RGB', false, false))).toEqual([
      255, 128, 1, 0, 0, 0,
    ]);
  });
  it('converts YBR_FULL with the equations of C.7.6.3.1.2, truncated', () => {
    const rgb = Uint8Array.of(255, 128, 128, 76, 85, 255, 0, 128, 128);
    ybrFullToRgb(rgb);
    // white; pure red (Y 76, Cb 85, Cr 255); black
    expect(Array.from(rgb)).toEqual([255, 254, 255, 254, 0, 0, 0, 0, 0]);
  });
  it('expands native YBR_FULL_422 pixel pairs (Y1 Y2 Cb Cr) before converting', () => {
    const out = renderColor(Uint8Array.of(0, 255, 128, 128), image(), 'YBR_FULL_422', false, true);
    expect(Array.from(out)).toEqual([0, 0, 0, 255, 254, 255]);
  });
  it('refuses float color samples', () => {
    expect(() => renderColor(Float32Array.of(0, 0, 0, 0, 0, 0), image(), 'RGB', false, false)).toThrow(RenderError);
  });
});

describe('renderPalette (PALETTE COLOR)', () => {
  const gray = image({ samplesPerPixel: 1, photometricInterpretation: 'PALETTE COLOR' });
  const descriptor = (entries: number, first: number, bits: number) => ({ vr: 'US', Value: [entries, first, bits] });
  const words = (...values: number[]) => ({ vr: 'OW', Value: [Uint16Array.from(values).buffer] });

  it('looks up 16-bit entries, keeping their high byte, clamped below the first mapped value', () => {
    const dict = {
      '00281101': descriptor(2, 10, 16),
      '00281102': descriptor(2, 10, 16),
      '00281103': descriptor(2, 10, 16),
      '00281201': words(0xff00, 0x0100),
      '00281202': words(0x8000, 0x4000),
      '00281203': words(0x0000, 0xffff),
    };
    expect(Array.from(renderPalette(Uint8Array.of(5, 11), gray, dict))).toEqual([255, 128, 0, 1, 64, 255]);
  });
  it('reads 8-bit entries packed two to a word', () => {
    const dict = {
      '00281101': descriptor(4, 0, 8),
      '00281102': descriptor(4, 0, 8),
      '00281103': descriptor(4, 0, 8),
      '00281201': words(0x2010, 0x4030),
      '00281202': words(0x2010, 0x4030),
      '00281203': words(0x2010, 0x4030),
    };
    expect(Array.from(renderPalette(Uint8Array.of(1, 3), gray, dict))).toEqual([0x20, 0x20, 0x20, 0x40, 0x40, 0x40]);
  });
  it('answers not-an-image without its lookup tables', () => {
    expect(() => renderPalette(Uint8Array.of(0, 0), gray, {})).toThrow(expect.objectContaining({ reason: 'not-an-image' }));
  });
});
