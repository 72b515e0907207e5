/**
 * Frame decoding per transfer syntax (PS3.5 A.4, 8.2): native Pixel Data as it is, encapsulated
 * Pixel Data through the codec made for it. Each WebAssembly codec is loaded on first use, once per
 * process, so a cold function that renders nothing loads none.
 */
import { isUncompressedTransferSyntax, TransferSyntax } from '../uid';
import { decodeJpegBaseline, decodeJpegLossless } from './codecs/jpeg';
import { decodeJpegLs } from './codecs/jpeg-ls';
import { decodeHtj2k, decodeJpeg2000 } from './codecs/jpeg2000';
import { decodeRleFrame } from './codecs/rle';
import { nativeSamples, type DecodedFrame } from './decoded-frame';
import type { ImagePixel } from './image';
import { RenderError } from './render-error';

/**
 * Decodes one encapsulated frame (its fragments joined) of `image`; a decoder that can decode a lower
 * resolution level (JPEG 2000) drops at most `maxReduction` levels, the others ignore it.
 */
export type FrameDecoder = (frame: Uint8Array, image: ImagePixel, maxReduction?: number) => Promise<DecodedFrame>;

const DECODERS: Readonly<Record<string, FrameDecoder>> = {
  [TransferSyntax.RLELossless]: decodeRleFrame,
  [TransferSyntax.JPEGBaseline8Bit]: decodeJpegBaseline,
  [TransferSyntax.JPEGExtended12Bit]: decodeJpegBaseline,
  [TransferSyntax.JPEGLossless]: decodeJpegLossless,
  [TransferSyntax.JPEGLosslessSV1]: decodeJpegLossless,
  [TransferSyntax.JPEGLSLossless]: decodeJpegLs,
  [TransferSyntax.JPEGLSNearLossless]: decodeJpegLs,
  [TransferSyntax.JPEG2000Lossless]: decodeJpeg2000,
  [TransferSyntax.JPEG2000]: decodeJpeg2000,
  [TransferSyntax.HTJ2KLossless]: decodeHtj2k,
  [TransferSyntax.HTJ2KLosslessRPCL]: decodeHtj2k,
  [TransferSyntax.HTJ2K]: decodeHtj2k,
};

/** Whether frames of this transfer syntax can be rendered. */
export function isRenderableTransferSyntax(transferSyntaxUID: string): boolean {
  return isUncompressedTransferSyntax(transferSyntaxUID) || transferSyntaxUID in DECODERS;
}

/** The samples of one frame: `frame` is what frames/ extracts (native bytes, or the frame's fragments joined). */
export async function decodeFrame(transferSyntaxUID: string, frame: Uint8Array, image: ImagePixel, maxReduction = 0): Promise<DecodedFrame> {
  if (isUncompressedTransferSyntax(transferSyntaxUID)) return nativeSamples(frame, image);
  const decoder = DECODERS[transferSyntaxUID];
  if (!decoder) throw new RenderError('unsupported-transfer-syntax', `transfer syntax ${transferSyntaxUID} cannot be rendered`);
  return decoder(frame, image, maxReduction);
}
