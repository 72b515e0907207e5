/**
 * Where the frames of encapsulated Pixel Data without an offset table lie, found when the instance is
 * stored and kept by the index (InstanceObject.frameOffsets): Retrieve Frames then reads a frame by
 * range, as with a Basic Offset Table (PS3.5 A.4), rather than stream the items of the whole object.
 */
import type { ParsedInstance } from '../part10';
import { BulkDataValue } from '../part10-scan';
import { Tag } from '../tags';
import { isUncompressedTransferSyntax } from '../uid';
import { framesOfFragments } from './codestreams';
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
  const value = instance.dict[Tag.PixelData]?.Value?.[0];
  if (!(value instanceof BulkDataValue) || isUncompressedTransferSyntax(instance.transferSyntaxUID)) return undefined;
  if (instance.dict[Tag.ExtendedOffsetTable]?.Value?.length) return undefined;
  const frameCount = frameCountOf(instance.dict[Tag.NumberOfFrames]?.Value?.[0]);
  if (frameCount < 2 || frameCount > MAX_INDEXED_FRAME_OFFSETS) return undefined;
  const items = fragmentItems(part10.subarray(value.offset, value.offset + value.length), false);
  // The first item is the Basic Offset Table, empty here.
  if (!items || items.length < 2 || items[0]!.value.length !== 0) return undefined;
  const fragments = items.slice(1);
  const frames = framesOfFragments(
    fragments.map((f) => f.value),
    frameCount,
    instance.transferSyntaxUID,
  );
  if (!frames) return undefined;
  const first = fragments[0]!.offset;
  const offsetOf = new Map(fragments.map((f) => [f.value, f.offset - first]));
  const last = fragments.at(-1)!;
  return [...frames.map((frame) => offsetOf.get(frame[0]!)!), last.offset - first + ITEM_HEADER + last.value.length];
}
