/**
 * The bytes of one frame as stored: native frames cut here, where the image's photometric
 * interpretation is known (native YBR_FULL_422 holds two samples per pixel, PS3.3 C.7.6.3.1.2, not the
 * three frames/ counts), and encapsulated frames as frames/ delimits them (PS3.5 A.4).
 */
import { extractFrames } from '../frames/instance';
import { FrameError } from '../frames/frame-numbers';
import { binaryValueBytes, type ParsedInstance } from '../part10';
import { isUncompressedTransferSyntax } from '../uid';
import type { ImagePixel } from './image';
import { RenderError } from './render-error';

/** Frame `frameNumber` (1-based, within NumberOfFrames) of the pixel data element `tag`. */
export function frameBytes(instance: ParsedInstance, tag: string, image: ImagePixel, frameNumber: number): Uint8Array {
  try {
    if (isUncompressedTransferSyntax(instance.transferSyntaxUID) && image.bitsAllocated >= 8) {
      const samples = image.photometricInterpretation === 'YBR_FULL_422' ? 2 : image.samplesPerPixel;
      const length = image.rows * image.columns * samples * (image.bitsAllocated / 8);
      const pixels = binaryValueBytes(instance.dict[tag]?.Value ?? []);
      const start = (frameNumber - 1) * length;
      if (start + length > pixels.length) throw new RenderError('corrupt', 'Pixel Data is shorter than its frames');
      return pixels.subarray(start, start + length);
    }
    return extractFrames(instance, [frameNumber]).frames[0]!;
  } catch (error) {
    if (error instanceof FrameError) throw new RenderError('corrupt', error.message);
    throw error;
  }
}
