/**
 * A large Part 10 instance made on the fly (hundreds of MB, a tomosynthesis-sized one), never held:
 * a small instance's header with its Rows, Columns and Pixel Data length enlarged, then pixel bytes
 * generated chunk by chunk, a new buffer each (as a storage stream hands them).
 */
import { readPart10 } from '../../lambdas/dicom/part10';
import { makeInstance, type InstanceOptions } from './dicom-factory';

export interface GeneratedInstance {
  readonly sopInstanceUID: string;
  readonly sopClassUID: string;
  /** The file up to the Pixel Data value: a valid Part 10 header. */
  readonly header: Uint8Array;
  /** Bytes of the whole file. */
  readonly size: number;
  /** The file, from its first byte, in chunks of `chunkBytes`. */
  chunks(chunkBytes?: number): AsyncIterable<Uint8Array>;
}

/** Explicit VR Little Endian, 16-bit, 256 x 256 frames: `frames` of 128 KiB each (at most 9999). */
export function generatedInstance(frames: number, opts: InstanceOptions = {}): GeneratedInstance {
  if (!Number.isInteger(frames) || frames < 1000 || frames > 9999) throw new RangeError('frames: 1000 to 9999 (four digits)');
  // Four digits of Number Of Frames written, so the patched value keeps the element's length.
  const small = Buffer.from(makeInstance({ ...opts, rows: 4, columns: 4, numberOfFrames: 1000 }));
  const { sopInstanceUID, sopClassUID } = readPart10(small, { bulkDataAbove: 0 });
  const patch = (element: number[], write: (at: number) => void) => {
    const at = small.indexOf(Buffer.from(element));
    if (at < 0) throw new Error('element not found');
    write(at + element.length);
  };
  patch([0x28, 0x00, 0x10, 0x00, 0x55, 0x53, 0x02, 0x00], (at) => small.writeUInt16LE(256, at)); // Rows
  patch([0x28, 0x00, 0x11, 0x00, 0x55, 0x53, 0x02, 0x00], (at) => small.writeUInt16LE(256, at)); // Columns
  patch([0x28, 0x00, 0x08, 0x00, 0x49, 0x53, 0x04, 0x00], (at) => small.write(String(frames), at, 'latin1')); // Number of Frames
  const pixelBytes = 256 * 256 * 2 * frames;
  const pixelData = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57, 0x00, 0x00]);
  const at = small.lastIndexOf(pixelData);
  small.writeUInt32LE(pixelBytes, at + 8);
  const header = small.subarray(0, at + 12);
  return {
    sopInstanceUID,
    sopClassUID,
    header,
    size: header.length + pixelBytes,
    async *chunks(chunkBytes = 1024 * 1024) {
      yield Buffer.from(header);
      for (let at = 0; at < pixelBytes; at += chunkBytes) {
        const chunk = Buffer.alloc(Math.min(chunkBytes, pixelBytes - at));
        for (let i = 0; i < chunk.length; i += 4096) chunk[i] = (at + i) & 0xff;
        yield chunk;
      }
    },
  };
}
