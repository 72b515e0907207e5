/**
 * Encoding of rendered frames into the rendered media types (PS3.18 8.7.4) with sharp (libvips):
 * 8-bit gray or RGB samples in; the viewport's source region cut and flipped, scaled to fit
 * (PS3.18 8.3.5.1.3); JPEG, PNG or GIF out, an animated GIF for several frames.
 * sharp is loaded on first use, so a process that never encodes does not load the native library.
 */
import type { IccProfile, RenderedMediaType, Viewport } from './rendered-params';
import { BadRequestError } from './errors';
import { fitInsideSize, shrinkBy, type Size } from './image-shrink';

/** 8 bits per sample, interleaved, top-left first (the codec's RenderedFrame). */
export interface RasterImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

export interface EncodeOptions {
  readonly mediaType: RenderedMediaType;
  readonly viewport?: Viewport;
  /** Fit inside this square without enlarging, when no viewport is given (thumbnails). */
  readonly fitInside?: number;
  readonly quality?: number;
  readonly iccProfile?: IccProfile;
}

/** JPEG quality without a quality parameter: visually lossless for viewing (libjpeg's scale). */
export const DEFAULT_JPEG_QUALITY = 90;
/**
 * libjpeg's standard Huffman tables rather than tables optimised per image (sharp's default): a
 * 512 x 512 CT encodes in about half the CPU (1.0 against 2.2 ms here) for a file 4-13% larger, the
 * trade every DICOMweb server's renderer makes (dcmtk and Orthanc write standard tables too).
 */
const OPTIMISE_HUFFMAN_TABLES = false;
/** libvips' GIF palette effort (1-10, default 7): 3 quantises a 512 x 512 frame about 2x faster, same size. */
const GIF_EFFORT = 3;
/** Delay between the frames of an animated GIF, in ms, without a Frame Time (PS3.3 C.7.6.5). */
export const DEFAULT_FRAME_DELAY_MS = 100;

type Sharp = typeof import('sharp');
let sharpModule: Promise<Sharp> | undefined;
/**
 * sharp, configured once: one libvips thread per image, since concurrent requests (or a Lambda
 * function's one vCPU) already keep the cores busy and splitting a 512 x 512 image costs more than it
 * gains; no operation cache, since every input is a new raw buffer that is never asked for again.
 */
const loadSharp = (): Promise<Sharp> =>
  (sharpModule ??= import('sharp').then((m) => {
    // sharp is CommonJS: its function is the module's default export once imported dynamically.
    const sharp = (m as unknown as { default: Sharp }).default;
    sharp.concurrency(1);
    sharp.cache(false);
    return sharp;
  }));

/** The source region of a viewport within an image: left, top, width, height, and the flips. */
function regionOf(image: RasterImage, viewport: Viewport | undefined) {
  const r = viewport?.region;
  if (!r) return undefined;
  const sw = r.sw ?? image.width - r.sx;
  const sh = r.sh ?? image.height - r.sy;
  // A negative width or height takes the region to the left of (above) sx (sy), mirrored.
  const left = sw < 0 ? r.sx + sw : r.sx;
  const top = sh < 0 ? r.sy + sh : r.sy;
  const width = Math.abs(sw);
  const height = Math.abs(sh);
  if (left < 0 || top < 0 || width < 1 || height < 1 || left + width > image.width || top + height > image.height) {
    throw new BadRequestError('the viewport region lies outside the image', [
      { target: 'viewport', message: `the image is ${image.width} x ${image.height} pixels` },
    ]);
  }
  return { left, top, width, height, flop: sw < 0, flip: sh < 0 };
}

/**
 * The size of a scaling of the whole image (a viewport without a source region, a thumbnail), or
 * undefined when there is none: sharp's `fit: 'inside'`, without enlarging for a thumbnail.
 */
function wholeImageScaling(image: RasterImage, opts: EncodeOptions): Size | undefined {
  if (opts.viewport) return opts.viewport.region ? undefined : fitInsideSize(image, { width: opts.viewport.vw, height: opts.viewport.vh });
  if (opts.fitInside === undefined || (image.width <= opts.fitInside && image.height <= opts.fitInside)) return undefined;
  return fitInsideSize(image, { width: opts.fitInside, height: opts.fitInside });
}

/** One frame cut, flipped and scaled, still raw: the common part of every output. */
async function transform(sharp: Sharp, frame: RasterImage, opts: EncodeOptions) {
  // A scaling of the whole image by 2 or more starts with an integer shrink (image-shrink.ts); sharp
  // resizes what is left to the exact size its own scaling would give.
  const target = wholeImageScaling(frame, opts);
  const k = target ? Math.floor(Math.min(frame.width / target.width, frame.height / target.height)) : 1;
  const image = k >= 2 ? shrinkBy(frame, k) : frame;
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  if (target) {
    if (image.width !== target.width || image.height !== target.height)
      pipeline = pipeline.resize(target.width, target.height, { fit: 'fill' });
    return pipeline;
  }
  const region = regionOf(image, opts.viewport);
  if (region) {
    pipeline = pipeline.extract({ left: region.left, top: region.top, width: region.width, height: region.height });
    if (region.flop) pipeline = pipeline.flop();
    if (region.flip) pipeline = pipeline.flip();
  }
  // A source region scaled to the viewport (a thumbnail without one fits inside its box already).
  if (opts.viewport) pipeline = pipeline.resize(opts.viewport.vw, opts.viewport.vh, { fit: 'inside' });
  return pipeline;
}

/** One frame in the media type. */
export async function encodeImage(image: RasterImage, opts: EncodeOptions): Promise<Uint8Array> {
  const sharp = await loadSharp();
  let pipeline = await transform(sharp, image, opts);
  // An sRGB profile describes three channels; a gray frame stays one channel without one (libvips
  // would otherwise write raw gray input as sRGB, three times the samples).
  if (opts.iccProfile === 'srgb') pipeline = pipeline.withIccProfile('srgb');
  else if (image.channels === 1) pipeline = pipeline.toColourspace('b-w');
  switch (opts.mediaType) {
    case 'image/jpeg':
      pipeline = pipeline.jpeg({ quality: opts.quality ?? DEFAULT_JPEG_QUALITY, optimiseCoding: OPTIMISE_HUFFMAN_TABLES });
      break;
    case 'image/png':
      pipeline = pipeline.png();
      break;
    case 'image/gif':
      pipeline = pipeline.gif({ effort: GIF_EFFORT });
      break;
  }
  return new Uint8Array(await pipeline.toBuffer());
}

/**
 * Several frames as one animated GIF (PS3.18 Table 8.7.4-1, a multi-frame media type): each frame
 * transformed alone, then stacked as the pages of one image.
 */
export async function encodeAnimatedGif(
  frames: readonly RasterImage[],
  opts: EncodeOptions,
  delayMs = DEFAULT_FRAME_DELAY_MS,
): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const pages = await Promise.all(
    frames.map(async (frame) => (await transform(sharp, frame, opts)).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })),
  );
  const { width, height, channels } = pages[0]!.info;
  const stacked = Buffer.concat(pages.map((p) => p.data));
  const out = await sharp(stacked, { raw: { width, height: height * pages.length, channels, pageHeight: height } })
    .gif({ effort: GIF_EFFORT, delay: pages.map(() => Math.max(10, Math.round(delayMs))), loop: 0 })
    .toBuffer();
  return new Uint8Array(out);
}
