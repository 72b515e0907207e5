/**
 * The items of encapsulated Pixel Data, PS3.5 A.4: a Basic Offset Table item, then one item per
 * fragment, each an 8-byte header (FFFE,E000 and a 32-bit length) and its value, closed by a Sequence
 * Delimitation Item. The frame readers list them to find where each frame's fragments lie.
 */
import { ElementWalker, EXPLICIT_LE, Part10Error } from '../part10-scan';

/** The bytes of an item's header: its tag and its 32-bit length (PS3.5 7.5). */
export const ITEM_HEADER = 8;

/** One item: where its header starts, from the start of the bytes listed, and its value. */
export interface FragmentItem {
  readonly offset: number;
  readonly value: Uint8Array;
}

/** What a walk answers, or undefined where the bytes are not as PS3.5 describes (Part10Error). */
export function unlessMalformed<T>(walk: () => T): T | undefined {
  try {
    return walk();
  } catch (error) {
    if (error instanceof Part10Error) return undefined;
    throw error;
  }
}

/**
 * The items of encapsulated Pixel Data in `bytes` from its start (ElementWalker.fragments), each one's
 * offset and value: through the Sequence Delimitation Item, or with `toEnd` filling the bytes exactly.
 * Undefined when they do not.
 */
export function fragmentItems(bytes: Uint8Array, toEnd: boolean): FragmentItem[] | undefined {
  const items: FragmentItem[] = [];
  const visit = (offset: number, length: number) =>
    items.push({ offset, value: bytes.subarray(offset + ITEM_HEADER, offset + ITEM_HEADER + length) });
  return unlessMalformed(() => new ElementWalker(bytes).fragments(0, bytes.length, EXPLICIT_LE, visit, toEnd)) === undefined
    ? undefined
    : items;
}
