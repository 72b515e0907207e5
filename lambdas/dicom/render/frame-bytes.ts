/**
 * The bytes of one frame as stored. A little endian file is read by dcmjs without its Pixel Data
 * (readPart10's bulkDataAbove), which is then cut from the file's bytes: a native frame directly, an
 * encapsulated one by the frames/ readers over its items (PS3.5 A.4), so a frame of a long multi-frame
 * costs its own size, not the object's. Big endian and deflated files, and encapsulated items those
 * readers decline, are read whole and cut by extractFrames.
 *
 * Native frames are cut here, where the photometric interpretation is known: native YBR_FULL_422
 * holds two samples per pixel (PS3.3 C.7.6.3.1.2), not the three frames/ counts.
 */
import { encapsulatedPixelDataOf, readEncapsulatedFrames, type StoredObjectReader } from '../frames/encapsulated';
import { FrameError } from '../frames/frame-numbers';
import { PIXEL_DATA_SCAN_STOP } from '../frames/header-scan';
import { extractFrames } from '../frames/instance';
import { nativeFrame } from '../frames/native';
import {
  binaryValueBytes,
  BulkDataValue,
  Part10Error,
  readPart10,
  scanPart10Header,
  type ParsedInstance,
  type Part10Header,
} from '../part10';
import { isUncompressedTransferSyntax } from '../uid';
import { headerRenderAttributes, type RenderAttributes } from './header-data-set';
import type { ImagePixel } from './image';
import { RenderError } from './render-error';

/** Values longer than this are left in the file by dcmjs: Pixel Data, not the LUTs (at most 128 KiB). */
const BULK_DATA_ABOVE = 256 * 1024;

/** A Part 10 file read for rendering: its attributes, and its header when Pixel Data was left unread. */
export interface RenderSource {
  readonly bytes: Uint8Array;
  readonly instance: RenderAttributes;
  readonly header: Part10Header | undefined;
}

function parsed(bytes: Uint8Array, bulkDataAbove: number | undefined): ParsedInstance {
  try {
    return readPart10(bytes, bulkDataAbove === undefined ? {} : { bulkDataAbove });
  } catch (error) {
    if (error instanceof Part10Error) throw new RenderError('corrupt', error.message);
    throw error;
  }
}

/**
 * Reads `bytes` for rendering: from the header scan alone for the common image (header-data-set.ts),
 * else with readPart10; RenderError('corrupt') when they are no Part 10 file.
 */
export function readRenderSource(bytes: Uint8Array): RenderSource {
  // Undefined for big endian and deflated data sets, whose values readPart10 must decode.
  const header = scanPart10Header(bytes, PIXEL_DATA_SCAN_STOP);
  const attributes = header && headerRenderAttributes(header, bytes);
  return { bytes, instance: attributes ?? parsed(bytes, header && BULK_DATA_ABOVE), header };
}

function inMemory(bytes: Uint8Array): StoredObjectReader {
  return {
    size: bytes.length,
    read: (start, end) => Promise.resolve(bytes.subarray(start, end)),
    stream: (start) =>
      Promise.resolve(
        (async function* () {
          yield bytes.subarray(start);
        })(),
      ),
  };
}

/** Frame `frameNumber` (1-based, within NumberOfFrames) of the pixel data element `tag`. */
export async function frameBytes(source: RenderSource, tag: string, image: ImagePixel, frameNumber: number): Promise<Uint8Array> {
  const { bytes, instance, header } = source;
  const values = instance.dict[tag]?.Value ?? [];
  const unread = values[0] instanceof BulkDataValue ? values[0] : undefined;
  try {
    if (isUncompressedTransferSyntax(instance.transferSyntaxUID)) {
      const pixels = unread ? bytes.subarray(unread.offset, unread.offset + unread.length) : binaryValueBytes(values);
      const samples = image.photometricInterpretation === 'YBR_FULL_422' ? 2 : image.samplesPerPixel;
      const frameBits = image.rows * image.columns * samples * image.bitsAllocated;
      if (frameNumber * frameBits > pixels.length * 8) throw new RenderError('corrupt', 'Pixel Data is shorter than its frames');
      return nativeFrame(pixels, 0, frameBits, frameNumber - 1);
    }
    if (unread && header) {
      const pixelData = encapsulatedPixelDataOf(header, bytes);
      const found = pixelData && (await readEncapsulatedFrames(pixelData, [frameNumber], inMemory(bytes)));
      if (found?.frames[0]) return found.frames[0];
    }
    const whole = unread ? parsed(bytes, undefined) : instance;
    return extractFrames(whole, [frameNumber]).frames[0]!;
  } catch (error) {
    if (error instanceof FrameError) throw new RenderError('corrupt', error.message);
    throw error;
  }
}
