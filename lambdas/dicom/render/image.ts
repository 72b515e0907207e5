/**
 * The Image Pixel description of one frame (PS3.3 C.7.6.3): geometry, sample encoding and photometric
 * interpretation, read once from the data set and checked, so decoders and the pipeline read plain fields.
 */
import type { DataSet } from '../data-set';
import { firstCode, firstNumber } from './attributes';
import { Tag } from '../tags';
import { RenderError } from './render-error';

export interface ImagePixel {
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly highBit: number;
  /** PS3.3 C.7.6.3.1.6 (0 unsigned, 1 two's complement). */
  readonly signed: boolean;
  /** PS3.3 C.7.6.3.1.3: color-by-plane (1) or color-by-pixel (0). */
  readonly planar: boolean;
  readonly photometricInterpretation: string;
  /** Float Pixel Data (32) or Double Float Pixel Data (64): values, not stored integers. */
  readonly float: boolean;
}

const PHOTOMETRIC_SAMPLES: Readonly<Record<string, number>> = {
  MONOCHROME1: 1,
  MONOCHROME2: 1,
  'PALETTE COLOR': 1,
  RGB: 3,
  YBR_FULL: 3,
  YBR_FULL_422: 3,
  YBR_ICT: 3,
  YBR_RCT: 3,
};

/** The Image Pixel attributes of `dict`; RenderError('not-an-image') when they are missing or inconsistent. */
export function imagePixelOf(dict: DataSet, float: 0 | 32 | 64 = 0): ImagePixel {
  const rows = firstNumber(dict, Tag.Rows);
  const columns = firstNumber(dict, Tag.Columns);
  const bitsAllocated = float || firstNumber(dict, Tag.BitsAllocated);
  const samplesPerPixel = firstNumber(dict, Tag.SamplesPerPixel) ?? 1;
  const photometric = firstCode(dict, Tag.PhotometricInterpretation) || (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2');
  if (!rows || !columns || !bitsAllocated) throw new RenderError('not-an-image', 'Rows, Columns or Bits Allocated missing');
  if (![1, 8, 16, 32, 64].includes(bitsAllocated)) throw new RenderError('not-an-image', `Bits Allocated ${bitsAllocated} is not rendered`);
  const expected = PHOTOMETRIC_SAMPLES[photometric];
  if (expected === undefined) throw new RenderError('not-an-image', `Photometric Interpretation ${photometric} is not rendered`);
  if (expected !== samplesPerPixel)
    throw new RenderError('not-an-image', `Photometric Interpretation ${photometric} with ${samplesPerPixel} samples per pixel`);
  const bitsStored = Math.min(firstNumber(dict, Tag.BitsStored) ?? bitsAllocated, bitsAllocated);
  const highBit = firstNumber(dict, Tag.HighBit) ?? bitsStored - 1;
  return {
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored: bitsStored > 0 ? bitsStored : bitsAllocated,
    highBit: highBit >= bitsStored - 1 && highBit < bitsAllocated ? highBit : bitsStored - 1,
    signed: firstNumber(dict, Tag.PixelRepresentation) === 1,
    planar: samplesPerPixel > 1 && firstNumber(dict, Tag.PlanarConfiguration) === 1,
    photometricInterpretation: photometric,
    float: float !== 0,
  };
}

/** The size of a frame decoded `reduction` resolution levels below full (JPEG 2000, ISO/IEC 15444-1 B.5). */
export function reducedSize(image: Pick<ImagePixel, 'rows' | 'columns'>, reduction = 0): { rows: number; columns: number } {
  const factor = 2 ** reduction;
  return { rows: Math.ceil(image.rows / factor), columns: Math.ceil(image.columns / factor) };
}

/**
 * The resolution levels a decoder may drop when the image will be scaled to fit inside `box`
 * (aspect kept): the most that still leave it at least the fitted size. 512 x 512 into 128: 2.
 */
export function reductionToFit(image: Pick<ImagePixel, 'rows' | 'columns'>, box: { width: number; height: number } | undefined): number {
  if (!box) return 0;
  const scale = Math.min(box.width / image.columns, box.height / image.rows);
  return scale > 0 && scale < 1 ? Math.floor(Math.log2(1 / scale) + 1e-9) : 0;
}
