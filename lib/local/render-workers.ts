/**
 * The embedded runtime's rendered and thumbnail images (lambdas/dicomweb/frame-images.ts) of frames
 * whose decoding dominates (JPEG 2000, HTJ2K, JPEG-LS, JPEG lossless: 20-60 ms a 512 x 512 frame in
 * WebAssembly) made on worker threads (./module-threads.ts), so several decode at once, on every core,
 * while the event loop serves requests. Other frames (native, RLE, JPEG baseline) are made inline: a
 * 512 x 512 CT renders in about 2 ms, less than handing it to a thread costs (on 2 cores, CT images
 * per second inline 207, with one thread 202, two 159; JPEG 2000 24, 24 and 42). Lambda functions
 * render one image at a time and run it all inline.
 *
 * The stored object's bytes are read for this call alone, so they are transferred, not copied.
 */
import os from 'node:os';
import { frameImages, type FrameImager, type FrameImagesJob } from '../../lambdas/dicomweb/frame-images';
import { TransferSyntax } from '../../lambdas/dicom/uid';
import { ServiceUnavailableError } from '../../lambdas/dicomweb/errors';
import { ModuleThreads, ThreadFailedError } from './module-threads';

/** Threads that make images: one per core (a heavy decode leaves the event loop little to do), 1 to 4. */
export function defaultRenderWorkers(): number {
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

/** Transfer syntaxes whose frames are made on a thread (PS3.5 A.4: their decoders dominate the image's cost). */
const HEAVY_DECODES: ReadonlySet<string> = new Set([
  TransferSyntax.JPEG2000Lossless,
  TransferSyntax.JPEG2000,
  TransferSyntax.HTJ2KLossless,
  TransferSyntax.HTJ2KLosslessRPCL,
  TransferSyntax.HTJ2K,
  TransferSyntax.JPEGLSLossless,
  TransferSyntax.JPEGLSNearLossless,
  TransferSyntax.JPEGLossless,
  TransferSyntax.JPEGLosslessSV1,
]);

/** Whether a job's frames are of a transfer syntax whose decoding dominates (HEAVY_DECODES). */
export function isHeavyDecode(job: Pick<FrameImagesJob, 'transferSyntaxUID'>): boolean {
  return job.transferSyntaxUID !== undefined && HEAVY_DECODES.has(job.transferSyntaxUID);
}

const PROGRAM = {
  module: '../../lambdas/dicomweb/frame-images.ts',
  exportName: 'frameImages',
  name: 'renderWorker',
  youngGenerationMb: 16,
};

export class RenderWorkers {
  private readonly threads: ModuleThreads<FrameImager>;

  /** `onThread`: which jobs go to a thread (by default those of the heavy decodes). */
  constructor(
    count: number,
    private readonly onThread: (job: FrameImagesJob) => boolean = isHeavyDecode,
  ) {
    this.threads = new ModuleThreads(PROGRAM, count, frameImages);
  }

  /** The FrameImager of RenderService. Threads start on first use. */
  readonly imager: FrameImager = (job) => {
    if (!this.onThread(job)) return frameImages(job);
    const { buffer, byteOffset, byteLength } = job.part10;
    // The whole buffer goes when the object is it; a view of a larger one is copied first.
    const part10 = byteOffset === 0 && byteLength === buffer.byteLength && buffer instanceof ArrayBuffer ? job.part10 : job.part10.slice();
    return this.threads.call([{ ...job, part10 }], [part10.buffer as ArrayBuffer]).catch((error: unknown) => {
      if (!(error instanceof ThreadFailedError)) throw error;
      // The thread died with the bytes: made inline from the caller's when it handed over a copy,
      // else the request is answered 503 with Retry-After (a thread failing is no fault of the request).
      if (part10 !== job.part10) return frameImages(job);
      throw new ServiceUnavailableError('a rendering thread failed; retry the request');
    });
  };

  start(): Promise<void> {
    return this.threads.start();
  }

  get readyThreads(): number {
    return this.threads.readyThreads;
  }

  close(): Promise<void> {
    return this.threads.close();
  }
}
