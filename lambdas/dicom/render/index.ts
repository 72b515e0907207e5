/**
 * Rendering of a frame of a stored instance to 8-bit pixels (PS3.18 8.3.5, 10.4.1.1.3-4): decoded per
 * its transfer syntax, then through the pipeline of PS3.3 C.11 / PS3.4 N.2. What an image encoder takes.
 */
import { PIXEL_DATA_TAGS, Tag } from '../tags';
import { frameCountOf } from '../frames/frame-numbers';
import { renderColor, renderPalette } from './color';
import { decodeFrame } from './decode';
import { frameBytes, readRenderSource, type RenderSource } from './frame-bytes';
import { renderGrayscale } from './grayscale';
import { imagePixelOf, reducedSize, reductionToFit, type ImagePixel } from './image';
import type { RenderAttributes } from './header-data-set';
import { grayscaleTransforms, type VoiLutFunction } from './luts';
import { RenderError } from './render-error';

export { RenderError } from './render-error';
export { isRenderableTransferSyntax } from './decode';
export type { VoiLutFunction } from './luts';

export interface RenderOptions {
  /** window=center,width,function of PS3.18 8.3.5.1.4; absent: the instance's own VOI (C.11.2), else min-max. */
  readonly window?: { readonly center: number; readonly width: number; readonly function: VoiLutFunction };
  /**
   * The box the image will be scaled to fit inside (a thumbnail, a viewport): a JPEG 2000 frame is
   * then decoded at the lowest resolution level still at least that size, and the frame answered is
   * that size (width and height halved per level), not Columns x Rows.
   */
  readonly fitInside?: { readonly width: number; readonly height: number };
}

/** 8 bits per sample, interleaved, top-left first: what an image encoder takes. */
export interface RenderedFrame {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

const FLOAT_BITS: Readonly<Record<string, 32 | 64>> = { [Tag.FloatPixelData]: 32, [Tag.DoubleFloatPixelData]: 64 };

function pixelDataTag(instance: RenderAttributes): string {
  const tag = PIXEL_DATA_TAGS.find((t) => (instance.dict[t]?.Value?.length ?? 0) > 0);
  if (!tag) throw new RenderError('not-an-image', 'the instance has no pixel data');
  return tag;
}

/** NumberOfFrames of an image (1 without it); RenderError('not-an-image') without Pixel Data. */
export function numberOfFrames(part10: Uint8Array): number {
  const { instance } = readRenderSource(part10);
  pixelDataTag(instance);
  return frameCountOf(instance.dict[Tag.NumberOfFrames]?.Value?.[0]);
}

/** Frame `frameNumber` (1-based) of a Part 10 file, through the PS3.3 C.11 / PS3.4 N.2 pipeline. */
export async function renderFrame(part10: Uint8Array, frameNumber: number, options: RenderOptions = {}): Promise<RenderedFrame> {
  return frameRenderer(part10)(frameNumber, options);
}

/**
 * The frames of one Part 10 file, read once: each call renders one frame as renderFrame does, so the
 * frames of a multi-frame answer (an animated GIF, a frame list) do not parse the file again each.
 * RenderError('corrupt' / 'not-an-image') when the file cannot be read as an image.
 */
export function frameRenderer(part10: Uint8Array): (frameNumber: number, options?: RenderOptions) => Promise<RenderedFrame> {
  const source = readRenderSource(part10);
  const { instance } = source;
  const tag = pixelDataTag(instance);
  const count = frameCountOf(instance.dict[Tag.NumberOfFrames]?.Value?.[0]);
  const full = imagePixelOf(instance.dict, FLOAT_BITS[tag] ?? 0);
  return (frameNumber, options = {}) => renderOne(source, tag, count, full, frameNumber, options);
}

async function renderOne(
  source: RenderSource,
  tag: string,
  count: number,
  full: ImagePixel,
  frameNumber: number,
  options: RenderOptions,
): Promise<RenderedFrame> {
  const { instance } = source;
  if (!Number.isInteger(frameNumber) || frameNumber < 1 || frameNumber > count)
    throw new RenderError('frame-out-of-range', `frame ${frameNumber} of an instance of ${count} frames`);
  const decoded = await decodeFrame(
    instance.transferSyntaxUID,
    await frameBytes(source, tag, full, frameNumber),
    full,
    reductionToFit(full, options.fitInside),
  );
  // What the decoder answered: the image itself, or a lower resolution level of it.
  const image = decoded.reduction ? { ...full, ...reducedSize(full, decoded.reduction) } : full;
  const pixels = image.rows * image.columns;
  if (decoded.samples.length < pixels * image.samplesPerPixel * (decoded.subsampled ? 2 / 3 : 1))
    throw new RenderError('corrupt', 'the frame holds fewer samples than Rows x Columns');
  const size = { width: image.columns, height: image.rows };
  if (image.photometricInterpretation === 'PALETTE COLOR')
    return { ...size, channels: 3, data: renderPalette(decoded.samples, image, instance.dict) };
  if (image.samplesPerPixel === 3) {
    const data = renderColor(decoded.samples, image, decoded.photometricInterpretation, decoded.planar, decoded.subsampled);
    return { ...size, channels: 3, data };
  }
  const declared = grayscaleTransforms(instance.dict, image, frameNumber - 1);
  const transforms = options.window ? { ...declared, voi: { kind: 'window' as const, ...options.window } } : declared;
  return { ...size, channels: 1, data: renderGrayscale(decoded.samples, image, transforms) };
}
