/**
 * Where the frames of encapsulated Pixel Data without an offset table lie, found when the instance is
 * stored and kept by the index (InstanceObject.frameOffsets): Retrieve Frames then reads a frame by
 * range, as with a Basic Offset Table (PS3.5 A.4), rather than stream the items of the whole object.
 */
import type { ParsedInstance } from '../part10';
import { BulkDataValue } from '../part10-scan';
import { Tag } from '../tags';
import { isUncompressedTransferSyntax } from '../uid';
import { CODESTREAM_START, firstFragmentsOfFrames, startsWithMarker } from './codestreams';
import { fragmentItems, ITEM_HEADER } from './fragment-items';
import { frameCountOf } from './frame-numbers';

/** Frames whose offsets the index keeps at most: an instance entry is one DynamoDB item (400 KB). */
export const MAX_INDEXED_FRAME_OFFSETS = 10_000;

/**
 * The frame offsets the index keeps for an instance stored: the offset of each frame's first item from
 * the first fragment, then the end of the last item (NumberOfFrames + 1 entries), the frames delimited
 * by framesOfFragments's rules. `instance` is readPart10's of `part10`
 * with `bulkDataAbove` (its Pixel Data a BulkDataValue). Undefined with an offset table (Basic or
 * Extended), for a single frame or more than MAX_INDEXED_FRAME_OFFSETS, or fragments no rule delimits.
 */
export function frameOffsetsOf(part10: Uint8Array, instance: ParsedInstance): number[] | undefined {
  return frameOffsetsOfPixelData(part10, pixelDataOf(instance));
}

/** What the frame offsets depend on of an instance: readPart10's dict, or part10-json.ts's reading. */
export interface PixelDataFacts {
  readonly transferSyntaxUID: string;
  /** Where its Pixel Data lies in the file when left unread (readPart10's BulkDataValue). */
  readonly unread?: { readonly offset: number; readonly length: number };
  readonly extendedOffsetTable: boolean;
  /** The value of Number of Frames (0028,0008), as read. */
  readonly numberOfFrames: unknown;
}

function pixelDataOf(instance: ParsedInstance): PixelDataFacts {
  const value = instance.dict[Tag.PixelData]?.Value?.[0];
  return {
    transferSyntaxUID: instance.transferSyntaxUID,
    ...(value instanceof BulkDataValue && { unread: { offset: value.offset, length: value.length } }),
    extendedOffsetTable: Boolean(instance.dict[Tag.ExtendedOffsetTable]?.Value?.length),
    numberOfFrames: instance.dict[Tag.NumberOfFrames]?.Value?.[0],
  };
}

/** frameOffsetsOf from what it depends on (PixelDataFacts) of the instance in `part10`. */
export function frameOffsetsOfPixelData(part10: Uint8Array, facts: PixelDataFacts): number[] | undefined {
  const { unread } = facts;
  if (!unread) return undefined;
  return offsetsOfItems(facts, () => {
    const items = fragmentItems(part10.subarray(unread.offset, unread.offset + unread.length), false);
    if (!items) return undefined;
    const offsets = new ItemOffsets(facts.transferSyntaxUID);
    for (const item of items) offsets.add(item.offset, item.value);
    return offsets;
  });
}

/**
 * frameOffsetsOf for an instance whose Pixel Data was not kept: `items` gives what ItemOffsets
 * gathered of its items as they passed (readPart10Stream), or undefined where they are not items.
 */
export function frameOffsetsOfItems(instance: ParsedInstance, items: () => ItemOffsets | undefined): number[] | undefined {
  return offsetsOfItems(pixelDataOf(instance), items);
}

function offsetsOfItems(facts: PixelDataFacts, items: () => ItemOffsets | undefined): number[] | undefined {
  if (!facts.unread || isUncompressedTransferSyntax(facts.transferSyntaxUID) || facts.extendedOffsetTable) return undefined;
  const frameCount = frameCountOf(facts.numberOfFrames);
  if (frameCount < 2 || frameCount > MAX_INDEXED_FRAME_OFFSETS) return undefined;
  return items()?.frameOffsets(frameCount);
}

/**
 * What frameOffsetsOf reads of the items of encapsulated Pixel Data (PS3.5 A.4), gathered item by
 * item: whether the first, the Basic Offset Table, is empty; how many fragments follow; where they
 * lie and which start a codestream, of each at most MAX_INDEXED_FRAME_OFFSETS + 1 (more fragments or
 * codestreams than frames delimit no frames), so a stream of any length keeps little.
 */
export class ItemOffsets {
  private items = 0;
  private tableLength = 0;
  private readonly marker: Uint8Array | undefined;
  /** Offsets of the first fragments, and of the fragments that start a codestream with their indices. */
  private readonly fragments: number[] = [];
  private readonly codestreams: { readonly index: number; readonly offset: number }[] = [];
  private end = 0;

  constructor(transferSyntaxUID: string) {
    this.marker = CODESTREAM_START[transferSyntaxUID];
  }

  /** The item whose header starts at `offset` (from the first item's); `head`: its value, or its first MARKER_BYTES at least. */
  add(offset: number, head: Uint8Array, length = head.length): void {
    this.items += 1;
    if (this.items === 1) {
      this.tableLength = length;
      return;
    }
    const index = this.items - 2;
    if (index <= MAX_INDEXED_FRAME_OFFSETS) this.fragments.push(offset);
    if (startsWithMarker(head, this.marker) && this.codestreams.length <= MAX_INDEXED_FRAME_OFFSETS)
      this.codestreams.push({ index, offset });
    this.end = offset + ITEM_HEADER + length;
  }

  /** The frame offsets of `frameCount` frames (2 to MAX_INDEXED_FRAME_OFFSETS), or undefined. */
  frameOffsets(frameCount: number): number[] | undefined {
    // The first item is the Basic Offset Table, empty here.
    if (this.items < 2 || this.tableLength !== 0) return undefined;
    const codestreams = this.codestreams.map((c) => c.index);
    const starts = firstFragmentsOfFrames(this.items - 1, codestreams, frameCount);
    if (!starts) return undefined;
    const offsetOf = new Map(this.codestreams.map((c) => [c.index, c.offset]));
    const first = this.fragments[0]!;
    return [...starts.map((k) => (this.fragments[k] ?? offsetOf.get(k)!) - first), this.end - first];
  }
}
