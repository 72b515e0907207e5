/**
 * Frames of encapsulated Pixel Data (PS3.5 A.4) in a stored object, located by a header scan and read
 * through ranges of the object: by its Basic Offset Table, its Extended Offset Table (PS3.3
 * C.7.6.3.1.8), the frame offsets the index kept (frame-offsets.ts), or else its items streamed
 * (streamed.ts). Memory holds the frames asked, not the object; what these cannot read, instance.ts
 * decides from the object parsed whole.
 */
import { concatBytes, ElementWalker, EXPLICIT_LE, PIXEL_DATA, UNDEFINED_LENGTH, type Part10Header } from '../part10-scan';
import { Tag, tagNumber } from '../tags';
import { isUncompressedTransferSyntax } from '../uid';
import { fragmentItems, ITEM_HEADER, unlessMalformed, type FragmentItem } from './fragment-items';
import { frameCountOf, framesAsked, type FrameBytesLimit, type FramesFound } from './frame-numbers';
import { headerNumbers } from './header-scan';
import { streamedFrames } from './streamed';

/** Encapsulated Pixel Data located in a file without reading it (PS3.5 A.4). */
export interface EncapsulatedPixelData {
  /** Offset in the file of its first item, the Basic Offset Table. */
  readonly itemsStart: number;
  /** NumberOfFrames, or 1 without it (frameCountOf). */
  readonly frameCount: number;
  readonly transferSyntaxUID: string;
  /**
   * The Extended Offset Table (7FE0,0001) and its Lengths (7FE0,0002), PS3.3 C.7.6.3.1.8, when both are
   * in the header and agree with NumberOfFrames: where each frame's item starts, from the first item
   * after the Basic Offset Table, and the length of its value (one fragment per frame).
   */
  readonly extendedOffsetTable?: { readonly offsets: readonly number[]; readonly lengths: readonly number[] };
  /** Without either table: the frames' offsets the index keeps (frameOffsetsOf), when it has them. */
  readonly frameOffsets?: readonly number[];
}

/**
 * The Pixel Data (7FE0,0010) of a header scanned up to PIXEL_DATA_SCAN_STOP, when it is encapsulated
 * (PS3.5 A.4: undefined length, in a transfer syntax that is not uncompressed) and NumberOfFrames reads
 * plainly; undefined for anything else.
 */
export function encapsulatedPixelDataOf(header: Part10Header, bytes: Uint8Array): EncapsulatedPixelData | undefined {
  const { stop, transferSyntaxUID } = header;
  if (isUncompressedTransferSyntax(transferSyntaxUID) || stop.tag !== PIXEL_DATA || stop.length !== UNDEFINED_LENGTH) return undefined;
  const frames = headerNumbers(header, bytes).is(Tag.NumberOfFrames);
  if (Number.isNaN(frames)) return undefined;
  const frameCount = frameCountOf(frames);
  const extendedOffsetTable = readExtendedOffsetTable(header, bytes, frameCount);
  return { itemsStart: stop.valueStart, frameCount, transferSyntaxUID, ...(extendedOffsetTable && { extendedOffsetTable }) };
}

/**
 * PS3.3 C.7.6.3.1.8: the Extended Offset Table and its Lengths, OV values of one 64-bit entry per frame;
 * undefined unless both are there with NumberOfFrames entries, the offsets start at 0 and each frame's
 * item ends before the next one starts. A table that says otherwise is not used (the items are walked).
 */
function readExtendedOffsetTable(
  header: Part10Header,
  bytes: Uint8Array,
  frameCount: number,
): EncapsulatedPixelData['extendedOffsetTable'] {
  const entries = (tag: string): number[] | undefined => {
    const e = header.elements.get(tagNumber(tag));
    if (!e || (e.vr !== undefined && e.vr !== 'OV') || e.length !== 8 * frameCount) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset + e.valueStart, e.length);
    const values = Array.from({ length: frameCount }, (_, k) => view.getBigUint64(8 * k, true));
    return values.every((v) => v <= BigInt(Number.MAX_SAFE_INTEGER)) ? values.map(Number) : undefined;
  };
  const offsets = entries(Tag.ExtendedOffsetTable);
  const lengths = entries(Tag.ExtendedOffsetTableLengths);
  if (!offsets || !lengths || offsets[0] !== 0) return undefined;
  const ordered = offsets.every((o, k) => k + 1 === frameCount || o + ITEM_HEADER + lengths[k]! <= offsets[k + 1]!);
  return ordered ? { offsets, lengths } : undefined;
}

/** How readEncapsulatedFrames reads a stored object of `size` bytes. */
export interface StoredObjectReader {
  readonly size: number;
  /** Bytes [start, end) of the object. */
  read(start: number, end: number): Promise<Uint8Array>;
  /** The bytes from `start` to the end of the object, in chunks. */
  stream(start: number): Promise<AsyncIterable<Uint8Array>>;
}

/**
 * extractFrames over encapsulated Pixel Data located by encapsulatedPixelDataOf, reading the object
 * through `source`, so that memory holds the frames asked, not the object:
 * - with a Basic Offset Table, frame k is the items from its offset to the next frame's (PS3.5 A.4),
 *   and only those of the frames asked are read (a range per run of adjacent frames);
 * - with an empty one and an Extended Offset Table (PS3.3 C.7.6.3.1.8), frame k is the one item its
 *   entries name, read by range;
 * - with neither, the items are streamed to the Sequence Delimitation Item, keeping only those of the
 *   frames asked: a fragment per frame when their numbers match, all of them for a single frame, else
 *   a frame per codestream (one starting with the transfer syntax's start marker, PS3.5 A.4 and its
 *   Note on frame boundaries), and FrameError when none of these holds.
 * Undefined when a Basic Offset Table says otherwise than NumberOfFrames or the items, or the items are
 * not as PS3.5 A.4 describes: the caller then reads the file with dcmjs and extractFrames decides.
 */
export async function readEncapsulatedFrames(
  pixelData: EncapsulatedPixelData,
  frameNumbers: readonly number[],
  source: StoredObjectReader,
  limit: FrameBytesLimit = () => {},
): Promise<FramesFound | undefined> {
  const { itemsStart, frameCount, extendedOffsetTable } = pixelData;
  const { wanted, missing } = framesAsked(frameNumbers, frameCount);
  const table = await readBasicOffsetTable(pixelData, source);
  if (!table) return undefined;
  const { tableLength, firstFragment } = table;

  if (tableLength === 0 && !extendedOffsetTable) {
    // At least the Sequence Delimitation Item follows the table.
    if (firstFragment + ITEM_HEADER > source.size) return undefined;
    if (wanted.length === 0) return { frames: [], missing };
    // The offsets the index kept when the instance was stored stand for a table; should the items not
    // be where they say, the items are streamed.
    const { frameOffsets } = pixelData;
    if (frameOffsets?.length === frameCount + 1) {
      const spans: FrameSpans = {
        offsets: frameOffsets.slice(0, -1),
        end: (k) => frameOffsets[k + 1]!,
        fragments: (_, items) => items.length > 0,
      };
      const frames = await framesBySpans(spans, firstFragment, wanted, source, limit);
      if (frames) return { frames, missing };
    }
    const frames = await streamedFrames(pixelData, wanted, await source.stream(firstFragment), source.size - firstFragment, limit);
    return frames && { frames, missing };
  }
  let spans: FrameSpans;
  if (tableLength === 0) {
    const { offsets, lengths } = extendedOffsetTable!;
    spans = {
      offsets,
      end: (k) => offsets[k]! + ITEM_HEADER + lengths[k]!,
      fragments: (k, items) => items.length === 1 && items[0]!.value.length === lengths[k],
    };
  } else {
    const entries = await source.read(itemsStart + ITEM_HEADER, firstFragment);
    const offsetsView = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
    const offsets = Array.from({ length: tableLength / 4 }, (_, k) => offsetsView.getUint32(4 * k, true));
    if (offsets.length !== frameCount || offsets[0] !== 0 || offsets.some((o, k) => k > 0 && o <= offsets[k - 1]!)) return undefined;
    // The last frame's items run to the Sequence Delimitation Item.
    spans = { offsets, end: (k) => (k + 1 < frameCount ? offsets[k + 1] : undefined), fragments: (_, items) => items.length > 0 };
  }
  if (wanted.length === 0) return { frames: [], missing };
  const frames = await framesBySpans(spans, firstFragment, wanted, source, limit);
  return frames && { frames, missing };
}

/**
 * The value of encapsulated Pixel Data as Retrieve Bulkdata returns it (getBulkData of what dcmjs
 * reads): its fragments one after the other, the Basic Offset Table left out. The items are streamed
 * through the Sequence Delimitation Item, `limit` seeing their size as they come, so memory holds the
 * value and no more than the limit. Undefined when the items are not as PS3.5 A.4 describes, or there
 * is none (the caller then reads the file with dcmjs, as for any other value).
 */
export async function readEncapsulatedValue(
  pixelData: EncapsulatedPixelData,
  source: StoredObjectReader,
  limit: FrameBytesLimit = () => {},
): Promise<Uint8Array | undefined> {
  const table = await readBasicOffsetTable(pixelData, source);
  if (!table || table.firstFragment + ITEM_HEADER > source.size) return undefined;
  const stream = await source.stream(table.firstFragment);
  // As one frame: all of the fragments.
  return (await streamedFrames({ ...pixelData, frameCount: 1 }, [1], stream, source.size - table.firstFragment, limit))?.[0];
}

/**
 * The Basic Offset Table (PS3.5 A.4: the first item, of a length that is a multiple of 4) read through
 * `source`: its length and where the first fragment starts; undefined when the items do not start so.
 */
async function readBasicOffsetTable(
  pixelData: EncapsulatedPixelData,
  source: StoredObjectReader,
): Promise<{ tableLength: number; firstFragment: number } | undefined> {
  const { itemsStart } = pixelData;
  if (itemsStart + ITEM_HEADER > source.size) return undefined;
  const table = await source.read(itemsStart, itemsStart + ITEM_HEADER);
  const tableLength = unlessMalformed(() => new ElementWalker(table).itemLength(0, table.length, EXPLICIT_LE));
  if (tableLength === undefined) return undefined;
  const firstFragment = itemsStart + ITEM_HEADER + tableLength;
  return tableLength % 4 === 0 && firstFragment <= source.size ? { tableLength, firstFragment } : undefined;
}

/** Where each frame's items lie, from the first item after the Basic Offset Table. */
interface FrameSpans {
  readonly offsets: readonly number[];
  /** Where frame k's items end, or undefined when they run to the Sequence Delimitation Item. */
  end(k: number): number | undefined;
  /** Whether the items found in frame k's span are what the table says. */
  fragments(k: number, items: readonly FragmentItem[]): boolean;
}

/** How many ranges of one request are read at once. */
const RANGE_READS_AT_ONCE = 4;

/**
 * The frames asked (1-based, all within the frame count), each from its span: a range per run of
 * adjacent frames, the items of each span checked. Undefined when a span does not hold its items.
 */
async function framesBySpans(
  spans: FrameSpans,
  firstFragment: number,
  wanted: readonly number[],
  source: StoredObjectReader,
  limit: FrameBytesLimit,
): Promise<Uint8Array[] | undefined> {
  const ks = [...new Set(wanted.map((n) => n - 1))].sort((a, b) => a - b);
  // Each frame holds its span but at least one item header; a span to the delimiter, at least nothing.
  limit(ks.reduce((sum, k) => sum + Math.max(0, (spans.end(k) ?? spans.offsets[k]!) - spans.offsets[k]! - ITEM_HEADER), 0));
  const runs: number[][] = [];
  for (const k of ks) {
    const run = runs.at(-1);
    if (run && spans.end(run.at(-1)!) === spans.offsets[k]) run.push(k);
    else runs.push([k]);
  }
  const frames = new Map<number, Uint8Array>();
  let failed = false;
  const readRun = async (run: number[]) => {
    const start = spans.offsets[run[0]!]!;
    const end = spans.end(run.at(-1)!);
    // Within the object, which the reads require (a range that starts at its end is no range).
    if (firstFragment + start >= source.size || firstFragment + (end ?? start) > source.size) return void (failed = true);
    const items = fragmentItems(
      await source.read(firstFragment + start, end === undefined ? source.size : firstFragment + end),
      end !== undefined,
    );
    if (!items) return void (failed = true);
    for (const k of run) {
      const from = spans.offsets[k]! - start;
      const to = (spans.end(k) ?? Number.POSITIVE_INFINITY) - start;
      const own = items.filter((i) => i.offset >= from && i.offset < to);
      // Each offset must be where an item starts, and each frame must have what the table says.
      if (own[0]?.offset !== from || !spans.fragments(k, own)) return void (failed = true);
      frames.set(k + 1, concatBytes(own.map((i) => i.value)));
    }
  };
  for (let i = 0; i < runs.length && !failed; i += RANGE_READS_AT_ONCE) {
    await Promise.all(runs.slice(i, i + RANGE_READS_AT_ONCE).map(readRun));
  }
  return failed ? undefined : wanted.map((n) => frames.get(n)!);
}
