/**
 * Time of renderFrame (lambdas/dicom/render) on a 512x512 16-bit CT frame, native and JPEG 2000, and
 * on a 640x480 RGB frame and a frame of a 40-frame CT: `npx tsx test/bench/render-codec.ts [iterations]`. Prints the median and
 * p95 of whole renders (Part 10 parse, decode, pipeline) and of the pixel pipeline alone, and the
 * first JPEG 2000 render, which pays OpenJPEG's WebAssembly instantiation.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { dataSet } from '../../lambdas/dicom/data-set';
import { newPart10 } from '../../lambdas/dicom/part10-write';
import { renderGrayscale } from '../../lambdas/dicom/render/grayscale';
import { imagePixelOf } from '../../lambdas/dicom/render/image';
import { renderFrame } from '../../lambdas/dicom/render/index';
import { grayscaleTransforms } from '../../lambdas/dicom/render/luts';
import { SopClass, TransferSyntax } from '../../lambdas/dicom/uid';

const ITERATIONS = Number(process.argv[2] ?? 200);
const SIZE = 512;

const ctAttributes = {
  SOPClassUID: SopClass.CTImageStorage,
  SOPInstanceUID: '2.25.1',
  StudyInstanceUID: '2.25.2',
  SeriesInstanceUID: '2.25.3',
  SamplesPerPixel: 1,
  PhotometricInterpretation: 'MONOCHROME2',
  Rows: SIZE,
  Columns: SIZE,
  BitsAllocated: 16,
  BitsStored: 12,
  HighBit: 11,
  PixelRepresentation: 1,
  RescaleSlope: 1,
  RescaleIntercept: -1024,
  WindowCenter: 40,
  WindowWidth: 400,
};
const ct = new Int16Array(SIZE * SIZE);
for (let y = 0; y < SIZE; y++)
  for (let x = 0; x < SIZE; x++)
    ct[y * SIZE + x] = Math.hypot(x - 256, y - 256) > 240 ? -1000 : 1024 + Math.round(200 * Math.sin(x / 9) * Math.cos(y / 13));
const ctBytes = new Uint8Array(ct.buffer);
const native = newPart10({ ...dataSet(ctAttributes), '7FE00010': { vr: 'OW', Value: [ct.slice().buffer] } });

const require = createRequire(import.meta.url);
const openjpeg = await (require('@cornerstonejs/codec-openjpeg/wasmjs') as (o: object) => Promise<any>)({ print() {}, printErr() {} });
const encoder = new openjpeg.J2KEncoder();
encoder
  .getDecodedBuffer({ width: SIZE, height: SIZE, bitsPerSample: 12, componentCount: 1, isSigned: true, isUsingColorTransform: false })
  .set(ctBytes);
encoder.setQuality(true, 0);
encoder.encode();
const j2kStream = (encoder.getEncodedBuffer() as Uint8Array).slice();
encoder.delete();
const j2k = newPart10({ ...dataSet(ctAttributes), '7FE00010': { vr: 'OB', Value: [j2kStream.buffer] } }, TransferSyntax.JPEG2000Lossless);

const FRAMES = 40;
const cine = new Int16Array(FRAMES * SIZE * SIZE);
for (let f = 0; f < FRAMES; f++) cine.set(ct, f * SIZE * SIZE);
const multiFrame = newPart10({ ...dataSet({ ...ctAttributes, NumberOfFrames: FRAMES }), '7FE00010': { vr: 'OW', Value: [cine.buffer] } });

const rgbPixels = new Uint8Array(640 * 480 * 3).map((_, i) => (i * 7) % 251);
const rgb = newPart10({
  ...dataSet({
    ...ctAttributes,
    SOPClassUID: SopClass.UltrasoundImageStorage,
    SamplesPerPixel: 3,
    PhotometricInterpretation: 'RGB',
    PlanarConfiguration: 0,
    Rows: 480,
    Columns: 640,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
  }),
  '7FE00010': { vr: 'OB', Value: [rgbPixels.buffer] },
});

async function time(name: string, run: () => unknown): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
  console.log(`${name.padEnd(44)} median ${at(0.5)} ms  p95 ${at(0.95)} ms  (${ITERATIONS} runs)`);
}

const first = performance.now();
await renderFrame(j2k, 1);
console.log(`${'first JPEG 2000 render (OpenJPEG init)'.padEnd(44)} ${(performance.now() - first).toFixed(1)} ms`);

const dict = dataSet(ctAttributes);
const image = imagePixelOf(dict);
const transforms = grayscaleTransforms(dict, image, 0);
const words = new Uint16Array(ct.buffer);
await time('CT 512x512 16-bit: pixel pipeline only', () => renderGrayscale(words, image, transforms));
await time('CT 512x512 16-bit native: renderFrame', () => renderFrame(native, 1));
await time('CT 512x512 JPEG 2000 lossless: renderFrame', () => renderFrame(j2k, 1));
await time('RGB 640x480 native: renderFrame', () => renderFrame(rgb, 1));
await time(`CT ${FRAMES} frames 512x512 native: frame ${FRAMES / 2}`, () => renderFrame(multiFrame, FRAMES / 2));
