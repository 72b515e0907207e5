/**
 * Large instances generated as streams, never whole in memory, for the streamed preparation's tests
 * and benches: native Pixel Data of 512 x 512 16-bit frames, or encapsulated fragments without offset
 * table; and encapsulated files of a chosen Basic Offset Table and fragments.
 */
import { scanPart10Header } from '../../lambdas/dicom/part10-scan';
import { TransferSyntax } from '../../lambdas/dicom/uid';
import { makeInstance } from './dicom-factory';

const PIXEL_DATA = 0x7fe00010; // (7FE0,0010)

/** An item of encapsulated Pixel Data (PS3.5 A.4): FFFE,E000, its length, its value. */
export function item(value: Uint8Array): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0xe000fffe >>> 0, 0);
  header.writeUInt32LE(value.length, 4);
  return Buffer.concat([header, value]);
}
export const SEQUENCE_DELIMITATION = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);

/** The head of an encapsulated instance of `frames` frames, up to its Pixel Data's value. */
export function encapsulatedHead(frames: number): Buffer {
  const file = makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, numberOfFrames: frames, rows: 4, columns: 4 });
  const { stop } = scanPart10Header(file, PIXEL_DATA)!;
  return Buffer.from(file.subarray(0, stop.valueStart));
}

/** An encapsulated instance whose Pixel Data holds this Basic Offset Table and these fragments, and `after` it. */
export function encapsulatedFile(
  table: readonly number[],
  fragments: readonly Uint8Array[],
  after: Uint8Array = new Uint8Array(0),
): Buffer {
  const offsets = Buffer.alloc(4 * table.length);
  table.forEach((offset, k) => offsets.writeUInt32LE(offset, 4 * k));
  return Buffer.concat([encapsulatedHead(3), item(offsets), ...fragments.map(item), SEQUENCE_DELIMITATION, after]);
}

export const MiB = 1024 * 1024;

/**
 * A native instance of `frames` frames of 512 x 512 16-bit pixels streamed in chunks of 1 MiB, never
 * whole in memory: its header with Rows, Columns and the Pixel Data length set, then fresh chunks.
 * `sample` is called every 64 MiB.
 */
export async function* largeNativeInstance(frames: number, sample: () => void = () => undefined): AsyncIterable<Uint8Array> {
  const file = makeInstance({ numberOfFrames: frames, rows: 1, columns: 1 });
  const { stop, elements } = scanPart10Header(file, PIXEL_DATA)!;
  const header = Buffer.from(file.subarray(0, stop.valueStart));
  const frameBytes = 512 * 512 * 2;
  header.writeUInt32LE(frameBytes * frames, stop.valueStart - 4);
  for (const tag of [0x00280010, 0x00280011]) header.writeUInt16LE(512, elements.get(tag)!.valueStart);
  yield header;
  const template = Buffer.alloc(MiB);
  for (let i = 0; i < template.length; i += 1) template[i] = (i * 7) & 0xff;
  for (let n = 0; n < (frameBytes * frames) / MiB; n += 1) {
    if (n % 64 === 0) sample();
    yield Buffer.from(template);
  }
  sample();
}

/** An encapsulated instance of `frames` fragments (a frame each) of `fragmentBytes` each, no offset table, streamed fragment by fragment. */
export async function* largeEncapsulatedInstance(
  frames: number,
  fragmentBytes: number,
  sample: () => void = () => undefined,
): AsyncIterable<Uint8Array> {
  yield Buffer.concat([encapsulatedHead(frames), item(new Uint8Array(0))]);
  const fragment = Buffer.alloc(fragmentBytes, 0x55);
  fragment.set([0xff, 0xd8, 0xff, 0xe0]);
  for (let n = 0; n < frames; n += 1) {
    if ((n * fragmentBytes) % (64 * MiB) === 0) sample();
    yield item(fragment);
  }
  yield SEQUENCE_DELIMITATION;
  sample();
}
