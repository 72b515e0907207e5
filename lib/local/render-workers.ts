/**
 * The embedded runtime's rendered and thumbnail images (lambdas/dicomweb/frame-images.ts) made on
 * worker threads (./module-threads.ts). Decoding, the pixel pipeline and the encoder's setup were
 * about two thirds of the event loop's time per rendered CT image; on other threads they use the
 * cores the loop cannot, while the loop serves requests and reads files. Lambda functions render one
 * image at a time and run it inline.
 *
 * The stored object's bytes are read for this call alone, so they are transferred, not copied.
 */
import os from 'node:os';
import { frameImages, type FrameImager } from '../../lambdas/dicomweb/frame-images';
import { ModuleThreads, threadsBesideTheEventLoop } from './module-threads';

/** Threads that make images: every core but the event loop's, one at least, four at most. */
export function defaultRenderWorkers(): number {
  return threadsBesideTheEventLoop(os.availableParallelism());
}

const PROGRAM = {
  module: '../../lambdas/dicomweb/frame-images.ts',
  exportName: 'frameImages',
  name: 'renderWorker',
  youngGenerationMb: 16,
};

export class RenderWorkers {
  private readonly threads: ModuleThreads<FrameImager>;

  constructor(count: number) {
    this.threads = new ModuleThreads(PROGRAM, count, frameImages);
  }

  /** The FrameImager of RenderService. Threads start on first use. */
  readonly imager: FrameImager = (job) => {
    const { buffer, byteOffset, byteLength } = job.part10;
    // The whole buffer goes when the object is it; a view of a larger one is copied first.
    const part10 = byteOffset === 0 && byteLength === buffer.byteLength && buffer instanceof ArrayBuffer ? job.part10 : job.part10.slice();
    return this.threads.call([{ ...job, part10 }], [part10.buffer as ArrayBuffer]);
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
