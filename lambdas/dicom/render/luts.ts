/**
 * The grayscale transforms of one frame as the data set declares them (PS3.3 C.11.1 Modality LUT,
 * C.11.2 VOI LUT, C.11.6 Presentation LUT Shape), read through the frame's functional groups for
 * Enhanced multi-frame images (PS3.3 C.7.6.16.2.9 Pixel Value Transformation, C.7.6.16.2.10 Frame VOI LUT).
 */
import type { DataSet } from '../data-set';
import { firstCode, firstNumber, frameMacro, items, lutWords, numbers } from './attributes';
import { Tag } from '../tags';
import type { ImagePixel } from './image';

export type VoiLutFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

/** A LUT of PS3.3 C.11.1.1.1 / C.11.2.1.1: `data[i]` is the output for input `first + i`, clamped at both ends. */
export interface LookupTable {
  readonly first: number;
  readonly data: Uint16Array;
  /** Bits of each entry: outputs lie in 0 .. 2^bits - 1. */
  readonly bits: number;
}

export type ModalityTransform =
  { readonly kind: 'rescale'; readonly slope: number; readonly intercept: number } | { readonly kind: 'lut'; readonly lut: LookupTable };

export type VoiTransform =
  | { readonly kind: 'window'; readonly center: number; readonly width: number; readonly function: VoiLutFunction }
  | { readonly kind: 'lut'; readonly lut: LookupTable };

export interface GrayscaleTransforms {
  readonly modality: ModalityTransform;
  /** undefined: none declared, the pipeline windows on the frame's min-max. */
  readonly voi: VoiTransform | undefined;
  /** MONOCHROME1, or Presentation LUT Shape INVERSE (PS3.3 C.11.6.1): minimum values display white. */
  readonly inverse: boolean;
}

/**
 * A LUT from its descriptor (entries, 0 meaning 65536; first value mapped, signed when the input is;
 * bits per entry) and data; undefined when either is missing or short.
 */
export function lookupTable(item: DataSet | undefined, inputSigned: boolean): LookupTable | undefined {
  const [count, first, bits] = numbers(item, Tag.LUTDescriptor);
  if (count === undefined || first === undefined || bits === undefined) return undefined;
  const entries = count === 0 ? 65536 : count;
  const data = lutWords(item, Tag.LUTData);
  if (!data || data.length < entries) return undefined;
  const firstMapped = inputSigned && first > 0x7fff ? first - 0x10000 : first;
  const entryBits = bits >= 1 && bits <= 16 ? bits : 16;
  return { first: firstMapped, data: data.subarray(0, entries), bits: entryBits };
}

function voiFunction(set: DataSet): VoiLutFunction {
  const code = firstCode(set, Tag.VOILUTFunction);
  return code === 'SIGMOID' || code === 'LINEAR_EXACT' ? code : 'LINEAR';
}

/** The transforms of frame `frameIndex` (0-based) of a grayscale image. */
export function grayscaleTransforms(dict: DataSet, image: ImagePixel, frameIndex: number): GrayscaleTransforms {
  const rescale = frameMacro(dict, Tag.PixelValueTransformationSequence, frameIndex);
  const modalityLut = lookupTable(items(rescale, Tag.ModalityLUTSequence)[0], image.signed);
  const slope = firstNumber(rescale, Tag.RescaleSlope);
  const modality: ModalityTransform =
    modalityLut && slope === undefined
      ? { kind: 'lut', lut: modalityLut }
      : { kind: 'rescale', slope: slope || 1, intercept: firstNumber(rescale, Tag.RescaleIntercept) ?? 0 };

  // PS3.3 C.11.2.1.2: with several windows, the first is the default.
  const voiSet = frameMacro(dict, Tag.FrameVOILUTSequence, frameIndex);
  const center = firstNumber(voiSet, Tag.WindowCenter);
  const width = firstNumber(voiSet, Tag.WindowWidth);
  const fn = voiFunction(voiSet);
  const minimumWidth = fn === 'LINEAR' ? 1 : 0;
  // A VOI LUT's input is the modality output: signed unless a LUT of unsigned entries produced it.
  const voiLut = lookupTable(items(voiSet, Tag.VOILUTSequence)[0], modality.kind === 'rescale');
  let voi: VoiTransform | undefined;
  if (center !== undefined && width !== undefined && width > minimumWidth) voi = { kind: 'window', center, width, function: fn };
  else if (voiLut) voi = { kind: 'lut', lut: voiLut };

  const shape = firstCode(dict, Tag.PresentationLUTShape);
  return { modality, voi, inverse: image.photometricInterpretation === 'MONOCHROME1' || shape === 'INVERSE' };
}
