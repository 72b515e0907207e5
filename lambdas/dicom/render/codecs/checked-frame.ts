/** A codec's output taken as the frame's samples once it has the frame's size and samples per pixel. */
import type { DecodedFrame } from '../decoded-frame';
import type { ImagePixel } from '../image';
import { RenderError } from '../render-error';
import type { WasmDecoded } from './wasm';

export function checkedFrame(decoded: WasmDecoded, image: ImagePixel, photometricInterpretation: string, planar = false): DecodedFrame {
  if (decoded.width !== image.columns || decoded.height !== image.rows || decoded.components !== image.samplesPerPixel)
    throw new RenderError(
      'corrupt',
      `the frame decodes to ${decoded.width}x${decoded.height}x${decoded.components}, not Columns x Rows x Samples per Pixel`,
    );
  if (decoded.samples.length < image.rows * image.columns * image.samplesPerPixel)
    throw new RenderError('corrupt', 'the frame decodes to fewer samples than its size');
  return { samples: decoded.samples, planar, photometricInterpretation, subsampled: false };
}
