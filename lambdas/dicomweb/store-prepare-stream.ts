/**
 * prepareInstance for an instance of any size read once as a stream (an upload completed in object
 * storage, tens of GB at most): the same Failure Reasons, digests, DICOM JSON, index entries, frame
 * offsets and size as prepareInstance of the whole bytes, holding only the header
 * (lambdas/dicom/part10-stream.ts: the pixels pass by, hashed and walked).
 *
 * The differences, each answered CannotUnderstand where prepareInstance would read the file: a
 * Deflated Explicit VR Little Endian file (PS3.5 A.5) is read whole, so one above MAX_DEFLATED_BYTES
 * (64 MiB, the file or its inflated data set) is refused; so is a Basic Offset Table above
 * MAX_TABLE_BYTES (16 MiB, 4M frames), which is held whole for its checks.
 */
import { frameOffsetsOfItems } from '../dicom/frames/frame-offsets';
import { Part10Error } from '../dicom/part10-scan';
import { readPart10Stream } from '../dicom/part10-stream';
import { cannotUnderstand, checkedInstance, preparedInstance, type Preparation } from './store-prepare';

export { MAX_DEFLATED_BYTES } from '../dicom/part10-stream';
export { MAX_TABLE_BYTES } from '../dicom/part10-stream-items';

/**
 * Prepares the Studies Service instance a stream of Part 10 bytes holds (chunks of any size), as
 * prepareInstance(wholeBytes, bulkDataThreshold) would. A stream that fails (a read error of the
 * storage) rejects with its error; bytes that are not a readable Part 10 file answer CannotUnderstand.
 */
export async function prepareStreamedInstance(stream: AsyncIterable<Uint8Array>, bulkDataThreshold: number): Promise<Preparation> {
  let streamed: Awaited<ReturnType<typeof readPart10Stream>>;
  try {
    streamed = await readPart10Stream(stream, { bulkDataAbove: bulkDataThreshold });
  } catch (error) {
    if (error instanceof Part10Error) return cannotUnderstand();
    throw error;
  }
  const { instance, size, digest, dataSetDigest, pixelDataItems } = streamed;
  const read = checkedInstance(instance, { digest, datasetDigest: dataSetDigest }, { patientInstance: true });
  if ('failed' in read) return read;
  const frameOffsets = frameOffsetsOfItems(instance, () => pixelDataItems);
  return preparedInstance(read, { size, frameOffsets }, bulkDataThreshold);
}
