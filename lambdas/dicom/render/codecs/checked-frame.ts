/** A codec's output taken as the frame's samples once it has the frame's size and samples per pixel. */
import type { DecodedFrame } from '../decoded-frame';
import { reducedSize, type ImagePixel } from '../image';
import { RenderError } from '../render-error';
import type { WasmDecoded } from './wasm';

export function checkedFrame(decoded: WasmDecoded, image: ImagePixel, photometricInterpretation: string, planar = false): DecodedFrame {
  // At a lower resolution level the size is the full one halved `reduction` times, rounded up.
  const { rows, columns } = reducedSize(image, decoded.reduction);
  if (decoded.width !== columns || decoded.height !== rows || decoded.components !== image.samplesPerPixel)
    throw new RenderError(
      'corrupt',
      `the frame decodes to ${decoded.width}x${decoded.height}x${decoded.components}, not Columns x Rows x Samples per Pixel`,
    );
  if (decoded.samples.length < rows * columns * image.samplesPerPixel)
    throw new RenderError('corrupt', 'the frame decodes to fewer samples than its size');
  return { samples: decoded.samples, planar, photometricInterpretation, subsampled: false, reduction: decoded.reduction };
}
