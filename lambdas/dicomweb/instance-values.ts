/**
 * The values of one stored instance the Retrieve Transaction answers without the whole instance where
 * it can (PS3.18 10.4.1.1.3 frames, 10.4.1.1.5 bulkdata): located by walking the object's header (no
 * dcmjs) and read by range, else the instance read whole and parsed. `limit` throws when a total
 * would pass the response limit, checked before the bytes are read where their size is known.
 */
import { getBulkData } from '../dicom/json';
import { binaryValueAt } from '../dicom/part10-scan';
import { encapsulatedPixelDataOf, readEncapsulatedFrames, readEncapsulatedValue } from '../dicom/frames/encapsulated';
import { FrameError, type FramesFound } from '../dicom/frames/frame-numbers';
import { PIXEL_DATA_SCAN_STOP } from '../dicom/frames/header-scan';
import { extractFrames, numberOfFrames } from '../dicom/frames/instance';
import { isLittleEndianNative, nativePixelDataOf, readNativeFrames } from '../dicom/frames/native';
import { Tag } from '../dicom/tags';
import { isUncompressedTransferSyntax } from '../dicom/uid';
import type { BlobStore, InstanceObject, ReadLease } from '../storage/ports';
import { NotAcceptableError, NotFoundError } from './errors';
import { storedInstance, storedObjectReader } from './stored-objects';

/**
 * The frames of a stored instance. Native little endian and encapsulated Pixel Data are located by
 * walking the header (no dcmjs), and of an object above FRAME_RANGE_MIN_BYTES only the header and
 * the frames' bytes are read (ranged GETs; encapsulated Pixel Data without an offset table by the
 * frame offsets its index entry keeps, or else its items streamed, readEncapsulatedFrames); anything
 * else is read whole and parsed. 404 without pixel data.
 */
export async function storedFrames(
  blobs: BlobStore,
  object: InstanceObject,
  frameNumbers: readonly number[],
  opts: { readonly lease: ReadLease | undefined; readonly limit: (total: number) => void },
): Promise<FramesFound & { frameCount: number }> {
  const native = isLittleEndianNative(object.transferSyntaxUID);
  const encapsulated = !isUncompressedTransferSyntax(object.transferSyntaxUID);
  const source = await storedObjectReader(blobs, object, native || encapsulated, opts.lease);
  const { header, bytes } = native || encapsulated ? await source.header(PIXEL_DATA_SCAN_STOP) : { bytes: new Uint8Array(0) };
  const pixelData = header && nativePixelDataOf(header, bytes);
  if (pixelData) {
    return {
      ...(await framesOrNotAcceptable(() => readNativeFrames(pixelData, frameNumbers, source.read))),
      frameCount: pixelData.frameCount,
    };
  }
  const located = header && encapsulatedPixelDataOf(header, bytes);
  // Without an offset table, the frames' offsets the index kept when the instance was stored.
  const fragments = located && (object.frameOffsets ? { ...located, frameOffsets: object.frameOffsets } : located);
  const found = fragments && (await framesOrNotAcceptable(() => readEncapsulatedFrames(fragments, frameNumbers, source, opts.limit)));
  if (found) return { ...found, frameCount: fragments.frameCount };
  const instance = await storedInstance(await source.whole(), 'its frames');
  const frameCount = numberOfFrames(instance);
  if (frameCount === 0) throw new NotFoundError('the instance has no pixel data, hence no frames');
  return { ...(await framesOrNotAcceptable(async () => extractFrames(instance, frameNumbers))), frameCount };
}

/**
 * The binary value at a tag path, within the response limit. A top-level value of a native little
 * endian object is located by walking the header (no dcmjs) and, of an object above
 * FRAME_RANGE_MIN_BYTES, read by range after the header, its size checked before it is read;
 * encapsulated Pixel Data is its fragments, streamed and checked against the limit as they come;
 * anything else is read whole and parsed. Undefined when there is no binary value there.
 */
export async function storedBulkData(
  blobs: BlobStore,
  object: InstanceObject,
  tagPath: string,
  limit: (total: number) => void,
): Promise<Uint8Array | undefined> {
  const native = isLittleEndianNative(object.transferSyntaxUID) && !tagPath.includes('/');
  const encapsulated = tagPath === Tag.PixelData && !isUncompressedTransferSyntax(object.transferSyntaxUID);
  const source = await storedObjectReader(blobs, object, native || encapsulated);
  if (native) {
    const tag = parseInt(tagPath, 16);
    const { header } = await source.header(tag);
    const at = header && binaryValueAt(header, tag);
    if (at) {
      limit(at.length);
      return source.read(at.valueStart, at.valueStart + at.length);
    }
  }
  if (encapsulated) {
    const { header, bytes } = await source.header(PIXEL_DATA_SCAN_STOP);
    const pixelData = header && encapsulatedPixelDataOf(header, bytes);
    const value = pixelData && (await readEncapsulatedValue(pixelData, source, limit));
    if (value) return value;
  }
  const instance = await storedInstance(await source.whole(), 'its values');
  const value = getBulkData(instance.dict, tagPath);
  if (value) limit(value.byteLength);
  return value;
}

/** The frames `cut` answers; a FrameError (stored pixel data whose frames cannot be cut) as 406. */
async function framesOrNotAcceptable<T>(cut: () => Promise<T>): Promise<T> {
  try {
    return await cut();
  } catch (error) {
    if (!(error instanceof FrameError)) throw error;
    throw new NotAcceptableError('the frames of this instance cannot be delimited', [
      { target: 'frames', message: 'retrieve the instance, or its Pixel Data as bulkdata, instead' },
    ]);
  }
}
