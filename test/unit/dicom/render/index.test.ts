/** renderFrame and numberOfFrames: what they answer for each kind of instance, and every refusal a RenderError. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { frameRenderer, numberOfFrames, renderFrame, RenderError } from '../../../../lambdas/dicom/render/index';
import { dataSet } from '../../../../lambdas/dicom/data-set';
import { newPart10 } from '../../../../lambdas/dicom/part10-write';
import { SopClass, TransferSyntax } from '../../../../lambdas/dicom/uid';
import { pixelBytes, smallImage } from '../../../support/small-image';

const fixture = (path: string) => readFileSync(join(import.meta.dirname, '../../../fixtures', path));

const image = smallImage;
const bytes = pixelBytes;

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RenderError);
  return (error as RenderError).reason;
}

describe('renderFrame', () => {
  it('answers the frame asked of a multi-frame instance, 8 bits a sample, top-left first', async () => {
    const file = image({ NumberOfFrames: 2, WindowCenter: 127.5, WindowWidth: 256 }, bytes(0, 1, 2, 3, 10, 20, 30, 255));
    expect(await renderFrame(file, 2)).toEqual({ width: 2, height: 2, channels: 1, data: Uint8Array.of(10, 20, 30, 255) });
    expect((await renderFrame(file, 1)).data).toEqual(Uint8Array.of(0, 1, 2, 3));
  });
  it('applies the window asked instead of the instance own', async () => {
    const file = image({ WindowCenter: 127.5, WindowWidth: 256 }, bytes(0, 100, 101, 255));
    const out = await renderFrame(file, 1, { window: { center: 101, width: 2, function: 'LINEAR' } });
    expect(Array.from(out.data)).toEqual([0, 0, 255, 255]);
  });
  it('renders Bits Allocated 1 (PS3.5 8.1.1: least significant bit first)', async () => {
    const file = image({ BitsAllocated: 1, BitsStored: 1, HighBit: 0 }, bytes(0b0110));
    expect(Array.from((await renderFrame(file, 1)).data)).toEqual([0, 255, 255, 0]);
  });
  it('cuts a frame of large native Pixel Data from the file (left unread by dcmjs), in any byte order', async () => {
    const side = 400; // 2 frames of 320 KB: above what dcmjs reads
    const words = new Uint16Array(2 * side * side);
    words.fill(1000, 0, side * side);
    words.fill(3000, side * side);
    words[side * side + 1] = 0;
    const attributes = {
      NumberOfFrames: 2,
      Rows: side,
      Columns: side,
      BitsAllocated: 16,
      BitsStored: 16,
      HighBit: 15,
      WindowCenter: 2000,
      WindowWidth: 2001,
    };
    for (const ts of [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian, TransferSyntax.ExplicitVRBigEndian]) {
      const file = image(attributes, { vr: 'OW', Value: [words.buffer] }, ts);
      const frame = await renderFrame(file, 2);
      expect(Array.from(frame.data.subarray(0, 3))).toEqual([255, 0, 255]);
      expect(frame.data.length).toBe(side * side);
      expect((await renderFrame(file, 1)).data[0]).toBe(0);
    }
  });
  it('renders Float Pixel Data (PS3.3 C.7.6.24) by its values, min-max without a window', async () => {
    const dict = dataSet({
      SOPClassUID: SopClass.SecondaryCaptureImageStorage,
      SOPInstanceUID: '2.25.1',
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      Rows: 1,
      Columns: 3,
    });
    const file = newPart10({ ...dict, '7FE00008': { vr: 'OF', Value: [Float32Array.of(-0.5, 0.25, 1.5).buffer] } });
    expect(Array.from((await renderFrame(file, 1)).data)).toEqual([0, 95, 255]);
  });
  it('answers frame-out-of-range for frame 0, a fraction and a frame beyond NumberOfFrames', async () => {
    const file = image({}, bytes(0, 1, 2, 3));
    for (const n of [0, 1.5, 2]) expect(await reasonOf(renderFrame(file, n))).toBe('frame-out-of-range');
  });
  it('answers not-an-image without Pixel Data, Rows or a known Photometric Interpretation', async () => {
    expect(await reasonOf(renderFrame(image({}, undefined), 1))).toBe('not-an-image');
    expect(await reasonOf(renderFrame(image({ Rows: undefined }, bytes(0, 1, 2, 3)), 1))).toBe('not-an-image');
    expect(await reasonOf(renderFrame(image({ PhotometricInterpretation: 'HSV' }, bytes(0, 1, 2, 3)), 1))).toBe('not-an-image');
    expect(await reasonOf(renderFrame(image({ SamplesPerPixel: 3 }, bytes(0, 1, 2, 3)), 1))).toBe('not-an-image');
  });
  it('answers corrupt for bytes that are no Part 10 file, short Pixel Data, or a frame its codec cannot decode', async () => {
    expect(await reasonOf(renderFrame(new Uint8Array(200), 1))).toBe('corrupt');
    expect(await reasonOf(renderFrame(image({}, bytes(0, 1)), 1))).toBe('corrupt');
    // fragments of SOI, raw bytes, EOI: well-formed DICOM, no JPEG
    expect(await reasonOf(renderFrame(fixture('us-multiframe-jpeg.dcm'), 1))).toBe('corrupt');
  });
  it('answers unsupported-transfer-syntax for video and other syntaxes without a decoder', async () => {
    const mpeg = image({}, { vr: 'OB', Value: [Uint8Array.of(0, 0, 1, 0xb3).buffer] }, TransferSyntax.MPEG2MPML);
    expect(await reasonOf(renderFrame(mpeg, 1))).toBe('unsupported-transfer-syntax');
  });
});

describe('frameRenderer', () => {
  it('renders every frame of a file read once as renderFrame renders each', async () => {
    const part10 = fixture('render/enhanced-ct.dcm');
    const render = frameRenderer(part10);
    for (const frame of [1, 2]) expect(await render(frame, {})).toEqual(await renderFrame(part10, frame));
    await expect(render(99)).rejects.toMatchObject({ reason: 'frame-out-of-range' });
  });
});

describe('numberOfFrames', () => {
  it('answers NumberOfFrames, 1 without it', () => {
    expect(numberOfFrames(fixture('render/enhanced-ct.dcm'))).toBe(3);
    expect(numberOfFrames(fixture('render/ct.dcm'))).toBe(1);
    expect(numberOfFrames(fixture('us-multiframe-jpeg.dcm'))).toBe(4);
  });
  it('throws RenderError not-an-image without Pixel Data, corrupt for no Part 10 file', () => {
    expect(() => numberOfFrames(image({}, undefined))).toThrow(expect.objectContaining({ reason: 'not-an-image' }));
    expect(() => numberOfFrames(new Uint8Array(10))).toThrow(expect.objectContaining({ reason: 'corrupt' }));
  });
});
