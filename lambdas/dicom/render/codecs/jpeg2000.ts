/**
 * JPEG 2000 (PS3.5 A.4.4, ISO/IEC 15444-1) through OpenJPEG and HTJ2K (PS3.5 A.4.6, ISO/IEC 15444-15)
 * through OpenJPH. Both apply the inverse multiple component transform: YBR_RCT and YBR_ICT frames
 * come out RGB (PS3.5 8.2.4). OpenJPEG is the system's library where the embedded archive's install
 * built its addon (./openjpeg-native: about twice as fast), else its WebAssembly build, which the
 * Lambda functions always use; the same library, so the same samples.
 */
import type { DecodedFrame } from '../decoded-frame';
import type { ImagePixel } from '../image';
import { RenderError } from '../render-error';
import { checkedFrame } from './checked-frame';
import { decodeWith, once, quiet, type Reduced, type WasmDecoded } from './wasm';

const openjpeg = once(async () => (await import('@cornerstonejs/codec-openjpeg/decodewasmjs')).default(quiet()));
/** The addon, or null where it was not built or cannot load (a Lambda function has no such package). */
const openjpegNative = once(async () => {
  try {
    return (await import('@dicomweb-archive/openjpeg-native')).default;
  } catch {
    return null;
  }
});
const openjph = once(async () => (await import('@cornerstonejs/codec-openjph')).default(quiet()));

function photometricOut(image: ImagePixel): string {
  const declared = image.photometricInterpretation;
  return declared === 'YBR_RCT' || declared === 'YBR_ICT' ? 'RGB' : declared;
}

/**
 * The decomposition levels of a codestream's COD marker segment (ISO/IEC 15444-1 A.6.1: SOC, then
 * marker segments of the main header, COD among them; its SPcod starts with the level count);
 * 0 when it cannot be found. OpenJPEG reports its own count only after decoding.
 */
export function decompositionLevels(codestream: Uint8Array): number {
  const COD = 0xff52;
  const SOT = 0xff90; // the first tile-part: the main header has ended
  let at = 2; // after SOC
  while (at + 4 <= codestream.length) {
    const marker = (codestream[at]! << 8) | codestream[at + 1]!;
    if (marker === SOT || marker >> 8 !== 0xff) return 0;
    // Lcod (2), Scod (1), SGcod: progression order (1), layers (2), multiple component transform (1).
    if (marker === COD) return codestream[at + 2 + 2 + 1 + 4] ?? 0;
    at += 2 + ((codestream[at + 2]! << 8) | codestream[at + 3]!);
  }
  return 0;
}

/**
 * The resolution level to decode at: at most `maxReduction` levels below full size (ISO/IEC 15444-1
 * B.5, each level halves the width and height), as far as the codestream's decomposition levels allow.
 */
function reductionFor(maxReduction: number, codestream: Uint8Array): number {
  return maxReduction > 0 ? Math.min(maxReduction, decompositionLevels(codestream)) : 0;
}

/**
 * Decodes at reductionFor's level: a thumbnail of a 512 x 512 CT needs level 2 (128 x 128), which
 * decodes in about a twentieth of the full image's time, since the wavelet's finer levels are never read.
 */
const atResolution =
  (maxReduction: number, codestream: Uint8Array) =>
  (decoder: Jpeg2000Decoder): Reduced | undefined => {
    const reduction = reductionFor(maxReduction, codestream);
    if (reduction <= 0) {
      decoder.decode();
      return undefined;
    }
    decoder.decodeSubResolution(reduction, 0);
    return { ...decoder.calculateSizeAtDecompositionLevel(reduction), reduction };
  };

/**
 * A lower resolution level's samples held within Bits Stored: its low-pass coefficients may
 * overshoot the sample range (OpenJPH does not clip them), and the pipeline reads only Bits Stored
 * bits, so an overshoot would wrap around to the other end of the range.
 */
function clipped(decoded: WasmDecoded, image: ImagePixel): WasmDecoded {
  if (decoded.reduction === 0 || !(decoded.samples instanceof Uint16Array)) return decoded;
  const words = decoded.samples;
  const signed = image.signed;
  const [low, high] = signed ? [-(2 ** (image.bitsStored - 1)), 2 ** (image.bitsStored - 1) - 1] : [0, 2 ** image.bitsStored - 1];
  for (let i = 0; i < words.length; i++) {
    const value = signed ? (words[i]! << 16) >> 16 : words[i]!;
    if (value < low) words[i] = low & 0xffff;
    else if (value > high) words[i] = high & 0xffff;
  }
  return decoded;
}

/** Which OpenJPEG decodes JPEG 2000 frames in this process: 'native' (its version) or 'webassembly'. */
export async function jpeg2000Decoder(): Promise<string> {
  const native = await openjpegNative();
  return native ? `native OpenJPEG ${native.openjpegVersion}` : 'webassembly';
}

/**
 * decodeJpeg2000 through the addon, which refuses a main header of another size or component count
 * than the frame's before it allocates anything; its failures are the frame's, like the codec's.
 */
function decodeNatively(
  native: NonNullable<Awaited<ReturnType<typeof openjpegNative>>>,
  frame: Uint8Array,
  image: ImagePixel,
  maxReduction: number,
): WasmDecoded {
  const reduction = reductionFor(maxReduction, frame);
  try {
    const decoded = native.decode(frame, reduction, image.columns, image.rows, image.samplesPerPixel);
    const samples = decoded.precision > 8 ? new Uint16Array(decoded.pixels) : new Uint8Array(decoded.pixels);
    return { samples, width: decoded.width, height: decoded.height, components: decoded.components, reduction };
  } catch (error) {
    throw new RenderError('corrupt', `the frame cannot be decoded: ${error instanceof Error ? error.message : 'codec failure'}`);
  }
}

/**
 * One JPEG 2000 frame decoded, at most `maxReduction` resolution levels below full size; `decoder`
 * 'webassembly' passes the addon by (the tests compare the two).
 */
export async function decodeJpeg2000(
  frame: Uint8Array,
  image: ImagePixel,
  maxReduction = 0,
  decoder: 'any' | 'webassembly' = 'any',
): Promise<DecodedFrame> {
  const native = decoder === 'any' ? await openjpegNative() : null;
  const decoded = native
    ? decodeNatively(native, frame, image, maxReduction)
    : await decodeWith(openjpeg, (m) => new m.J2KDecoder(), frame, undefined, atResolution(maxReduction, frame));
  return checkedFrame(clipped(decoded, image), image, photometricOut(image));
}

export async function decodeHtj2k(frame: Uint8Array, image: ImagePixel, maxReduction = 0): Promise<DecodedFrame> {
  const decoded = await decodeWith(openjph, (m) => new m.HTJ2KDecoder(), frame, undefined, atResolution(maxReduction, frame));
  return checkedFrame(clipped(decoded, image), image, photometricOut(image));
}
