/**
 * Frames of one stored instance made into rendered images (PS3.18 10.4.1.1.3-4): the codec's pixel
 * pipeline (lambdas/dicom/render), then the encoder (./image-encoder.ts). A pure function of its job,
 * with an answer that crosses a thread as plain data: the embedded runtime runs it on worker threads
 * (lib/local/render-workers.ts) so the event loop keeps serving while images are made; a Lambda
 * function (one request at a time) runs it inline.
 */
import { once } from '../dicom/lazy';
import { BadRequestError, type StatusReportDetail } from './errors';
import { encodeAnimatedGif, encodeImage, type EncodeOptions, type RasterImage } from './image-encoder';
import type { RenderedParameters } from './rendered-params';

export interface FrameImagesJob {
  readonly part10: Uint8Array;
  /** The stored object's transfer syntax (its index entry's), so a runner can tell a heavy decode from a light one. */
  readonly transferSyntaxUID?: string;
  /** 1-based frame numbers. */
  readonly frames: readonly number[];
  readonly window?: RenderedParameters['window'];
  readonly encode: EncodeOptions;
  /** One animated GIF of every frame, this many ms apart (the encoder's default when undefined), instead of an image per frame. */
  readonly animated?: { readonly delayMs?: number };
}

/**
 * The images, one per frame (one in all when animated); or why there are none: the codec's
 * RenderError reason, or a request the image cannot satisfy (400: a viewport outside it).
 */
export type FrameImages =
  | { readonly images: Uint8Array[] }
  | { readonly renderError: string }
  | { readonly badRequest: { readonly message: string; readonly details: readonly StatusReportDetail[] } };

/** The codec layer, loaded on first use: a process that renders nothing loads no decoder. */
const codecModule = once(() => import('../dicom/render'));

export type FrameImager = (job: FrameImagesJob) => Promise<FrameImages>;

/** The job done on this thread. */
export const frameImages: FrameImager = async (job) => {
  const codec = await codecModule();
  const fitInside = boxOf(job.encode);
  const options = { ...(job.window && { window: job.window }), ...(fitInside && { fitInside }) };
  try {
    const render = codec.frameRenderer(job.part10);
    // One frame at a time: a long multi-frame never holds every frame decoded beside its images.
    if (!job.animated) {
      const images: Uint8Array[] = [];
      for (const frame of job.frames) images.push(await encodeImage(await render(frame, options), job.encode));
      return { images };
    }
    const rasters: RasterImage[] = [];
    for (const frame of job.frames) rasters.push(await render(frame, options));
    return { images: [await encodeAnimatedGif(rasters, job.encode, job.animated.delayMs)] };
  } catch (error) {
    if (error instanceof codec.RenderError) return { renderError: error.reason };
    if (error instanceof BadRequestError) return { badRequest: { message: error.message, details: error.details } };
    throw error;
  }
};

/**
 * The box the image is scaled into when that is all the encoder does with it (a thumbnail; a viewport
 * without a source region, PS3.18 8.3.5.1.3), so the codec may decode less than the full resolution.
 * A source region is in the image's own pixels: then the full image.
 */
function boxOf(encode: EncodeOptions): { width: number; height: number } | undefined {
  if (encode.viewport) return encode.viewport.region ? undefined : { width: encode.viewport.vw, height: encode.viewport.vh };
  return encode.fitInside === undefined ? undefined : { width: encode.fitInside, height: encode.fitInside };
}
