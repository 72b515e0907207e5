/** The grayscale pipeline (PS3.3 C.11, PS3.4 N.2.1) on values computed by hand. */
import { describe, expect, it } from 'vitest';
import { minMaxWindow, renderGrayscale, storedValueReader, voiFunction } from '../../../../lambdas/dicom/render/grayscale';
import type { ImagePixel } from '../../../../lambdas/dicom/render/image';
import type { GrayscaleTransforms, VoiTransform } from '../../../../lambdas/dicom/render/luts';

const image = (over: Partial<ImagePixel> = {}): ImagePixel => ({
  rows: 2,
  columns: 2,
  samplesPerPixel: 1,
  bitsAllocated: 16,
  bitsStored: 16,
  highBit: 15,
  signed: false,
  planar: false,
  photometricInterpretation: 'MONOCHROME2',
  float: false,
  ...over,
});
const rescale = { kind: 'rescale', slope: 1, intercept: 0 } as const;
const window = (center: number, width: number, fn: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' = 'LINEAR'): VoiTransform => ({
  kind: 'window',
  center,
  width,
  function: fn,
});
const transforms = (voi: VoiTransform | undefined, over: Partial<GrayscaleTransforms> = {}): GrayscaleTransforms => ({
  modality: rescale,
  voi,
  inverse: false,
  ...over,
});

describe('storedValueReader: Bits Stored, High Bit, Pixel Representation (PS3.5 8.1.1)', () => {
  it('sign-extends a 12-bit two-complement value and ignores the bits above High Bit', () => {
    const read = storedValueReader(image({ bitsStored: 12, highBit: 11, signed: true }));
    expect(read(0xf830)).toBe(-2000); // sign-extended word
    expect(read(0x7830)).toBe(-2000); // other bits above High Bit: still -2000
    expect(read(0x07ff)).toBe(2047);
    expect(read(0x0800)).toBe(-2048);
  });
  it('reads unsigned values below a High Bit that is not Bits Stored - 1', () => {
    const read = storedValueReader(image({ bitsStored: 12, highBit: 13 }));
    expect(read((5 << 2) | 3)).toBe(5);
    expect(read(0xffff)).toBe(4095);
  });
});

describe('voiFunction: the VOI LUT Functions of C.11.2.1.2-3', () => {
  it('LINEAR (C.11.2.1.2.1): c - 0.5 - (w - 1) / 2 and below is 0, above c - 0.5 + (w - 1) / 2 is 255', () => {
    const f = voiFunction(window(40, 400));
    expect(f(-160)).toBe(0);
    expect(f(240)).toBe(255);
    expect(f(40)).toBeCloseTo(((40 - 39.5) / 399 + 0.5) * 255, 9); // 127.82
  });
  it('LINEAR_EXACT (C.11.2.1.3.2): ((x - c) / w + 0.5) * 255 between c - w/2 and c + w/2', () => {
    const f = voiFunction(window(0, 100, 'LINEAR_EXACT'));
    expect(f(-50)).toBe(0);
    expect(f(0)).toBe(127.5);
    expect(f(25)).toBe(191.25);
    expect(f(50)).toBe(255);
    expect(f(51)).toBe(255);
  });
  it('SIGMOID (C.11.2.1.3.1): 255 / (1 + exp(-4 (x - c) / w))', () => {
    const f = voiFunction(window(0, 100, 'SIGMOID'));
    expect(f(0)).toBe(127.5);
    expect(f(50)).toBeCloseTo(255 / (1 + Math.exp(-2)), 9); // 224.6
    expect(f(-50)).toBeCloseTo(255 / (1 + Math.exp(2)), 9); // 30.4
  });
  it('a VOI LUT (C.11.2.1.1): clamped at both ends, entries keeping their 8 most significant bits', () => {
    const f = voiFunction({ kind: 'lut', lut: { first: -10, data: Uint16Array.of(0, 100, 200, 4095), bits: 12 } });
    expect(f(-20)).toBe(0);
    expect(f(-9)).toBe(100 / 16);
    expect(f(100)).toBe(255); // 4095 / 16 = 255.9, at most 255
  });
});

describe('renderGrayscale', () => {
  const ct = image({ bitsStored: 12, highBit: 11, signed: true });
  const pixels = Uint16Array.of(0xf830, 0, 40, 1000); // -2000, 0, 40, 1000

  it('windows modality values: 40/400 maps -2000, 0, 40, 1000 to 0, 102, 127, 255', () => {
    expect(Array.from(renderGrayscale(pixels, ct, transforms(window(40, 400))))).toEqual([0, 102, 127, 255]);
  });
  it('applies Rescale Slope and Intercept before the window', () => {
    const out = renderGrayscale(pixels, ct, transforms(window(40, 400), { modality: { kind: 'rescale', slope: 2, intercept: 20 } }));
    // 2x + 20: -3980, 20, 100, 2020
    expect(Array.from(out)).toEqual([0, Math.trunc(((20 - 39.5) / 399 + 0.5) * 255), Math.trunc(((100 - 39.5) / 399 + 0.5) * 255), 255]);
  });
  it('applies a Modality LUT (C.11.1.1.1), clamped at its ends', () => {
    const lut = { first: 0, data: Uint16Array.of(10, 20, 30), bits: 16 };
    const words = Uint16Array.of(0, 1, 2, 9);
    const out = renderGrayscale(words, image(), transforms(window(20, 21), { modality: { kind: 'lut', lut } }));
    // 10, 20, 30, 30 in a window from 9.5 to 29.5
    expect(Array.from(out)).toEqual([Math.trunc(((10 - 19.5) / 20 + 0.5) * 255), Math.trunc(((20 - 19.5) / 20 + 0.5) * 255), 255, 255]);
  });
  it('inverts for MONOCHROME1 / INVERSE: minimum values white (C.11.6.1)', () => {
    expect(Array.from(renderGrayscale(pixels, ct, transforms(window(40, 400), { inverse: true })))).toEqual([255, 152, 127, 0]);
  });
  it('without a window, maps the frame minimum to black and maximum to white', () => {
    expect(Array.from(renderGrayscale(Uint16Array.of(100, 150, 200, 300), image(), transforms(undefined)))).toEqual([0, 63, 127, 255]);
    expect(minMaxWindow(100, 300)).toEqual({ kind: 'window', center: 200.5, width: 201, function: 'LINEAR' });
  });
  it('renders 8-bit and 32-bit words and float values alike', () => {
    const eight = renderGrayscale(
      Uint8Array.of(0, 64, 128, 255),
      image({ bitsAllocated: 8, bitsStored: 8, highBit: 7 }),
      transforms(undefined),
    );
    expect(Array.from(eight)).toEqual([0, 64, 128, 255]);
    const wide = image({ bitsAllocated: 32, bitsStored: 32, highBit: 31 });
    expect(Array.from(renderGrayscale(Uint32Array.of(0, 2 ** 31, 2 ** 32 - 1, 0), wide, transforms(window(2 ** 31, 2 ** 20))))).toEqual([
      0, 127, 255, 0,
    ]);
    const floats = renderGrayscale(
      Float32Array.of(-1, 0, 1, 2),
      image({ float: true, bitsAllocated: 32 }),
      transforms(window(0.5, 3, 'LINEAR_EXACT')),
    );
    expect(Array.from(floats)).toEqual([0, 85, 170, 255]);
  });
});

describe('renderGrayscale on word samples, aligned or not, of any pixel count', () => {
  // Each pixel through the pipeline alone (a 1 x 1 image) is what the whole image must hold.
  const one = (value: number, over: Partial<ImagePixel>, t: GrayscaleTransforms) =>
    renderGrayscale(Uint16Array.of(value), image({ rows: 1, columns: 1, ...over }), t)[0];
  it.each([
    [0, 7, 0, {}],
    [2, 5, 3, {}],
    [0, 13, 1, { bitsStored: 12, highBit: 13, signed: true }],
    [2, 9, 2, { bitsStored: 10, highBit: 12 }],
  ] as const)('byte offset %i, %i x %i pixels, %j', (offset, columns, rows, over) => {
    const count = columns * Math.max(rows, 1);
    const buffer = new ArrayBuffer(offset + count * 2);
    const samples = new Uint16Array(buffer, offset, count);
    for (let i = 0; i < count; i++) samples[i] = (i * 7919 + 13) & 0xffff;
    const t = transforms(window(200, 4000));
    const px = image({ rows: Math.max(rows, 1), columns, ...over });
    const out = renderGrayscale(samples, px, t);
    expect([...out]).toEqual([...samples].map((v) => one(v, over, t)));
  });
});
