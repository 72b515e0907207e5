/**
 * The large values readPart10 leaves unread (its `bulkDataAbove` option): which they are, a copy of
 * the file without them for dcmjs, and the Basic Offset Table checks dcmjs would have made
 * (PS3.5 A.4). A Store request reads the attributes, not the pixels: dcmjs copies every value it
 * reads, and a Pixel Data copy per instance in flight is most of what storing holds in memory.
 */
import {
  ElementWalker,
  EXPLICIT_LE,
  isPlainBinary,
  Part10Error,
  PIXEL_DATA,
  UNDEFINED_LENGTH,
  type ElementExtent,
  type Encoding,
} from './part10-scan';

/** An empty Basic Offset Table item and the Sequence Delimitation Item (PS3.5 A.4): encapsulated Pixel Data without fragments. */
const NO_FRAGMENTS = Uint8Array.from([0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);

/** The top-level values of a data set that readPart10's `bulkDataAbove` leaves unread. */
export function unreadValues(dataSet: Uint8Array, enc: Encoding, above: number): ElementExtent[] {
  const unread: ElementExtent[] = [];
  new ElementWalker(dataSet).topLevel(0, dataSet.length, enc, (element) => {
    const encapsulated = element.length === UNDEFINED_LENGTH;
    if (isPlainBinary(element) && (encapsulated ? element.tag === PIXEL_DATA : element.length > above)) unread.push(element);
  });
  return unread;
}

/**
 * dcmjs reads encapsulated Pixel Data that has a Basic Offset Table (PS3.5 A.4) window by window: from
 * each offset (counted from the first fragment) to the next, the last to the end of the file, the
 * items of each until its end or the Sequence Delimitation Item, and it reads on with the data set
 * where the last window ended. readPart10's `bulkDataAbove` hands dcmjs no items, so what dcmjs would
 * refuse of them is refused here: a window that meets anything but an item or the delimiter, or that
 * runs past the file, and a last window that does not end where the items do (dcmjs would read the
 * rest of the data set from elsewhere). The items themselves the walk has checked.
 */
export function checkOffsetTable(dataSet: Uint8Array, e: ElementExtent): void {
  const walker = new ElementWalker(dataSet);
  const tableLength = walker.itemLength(e.valueStart, dataSet.length, EXPLICIT_LE);
  if (tableLength === 0) return;
  if (tableLength % 4 !== 0) throw new Part10Error('a Basic Offset Table whose length is not a multiple of 4');
  const view = new DataView(dataSet.buffer, dataSet.byteOffset, dataSet.byteLength);
  const first = e.valueStart + 8 + tableLength;
  const starts = Array.from({ length: tableLength / 4 }, (_, k) => first + view.getUint32(e.valueStart + 8 + 4 * k, true));
  let end = first;
  starts.forEach((start, k) => {
    const stop = starts[k + 1] ?? dataSet.length;
    let pos = start;
    while (pos < stop) {
      // An item, or the Sequence Delimitation Item (of length 0), where the window reads; else Part10Error.
      const length = walker.fragmentLength(pos, dataSet.length, EXPLICIT_LE);
      pos += 8;
      if (length === undefined) break;
      pos += length;
      if (pos > dataSet.length) throw new Part10Error('a Basic Offset Table offset where no item starts');
    }
    end = pos;
  });
  if (end !== e.end) throw new Part10Error('a Basic Offset Table that does not fit the fragments');
}

/**
 * A copy of a Part 10 file without the values of `unread` (positions from `dataSetStart`): each value
 * of defined length becomes empty (its length field 0), encapsulated Pixel Data an empty offset table.
 */
export function withoutValues(bytes: Uint8Array, dataSetStart: number, unread: readonly ElementExtent[]): Uint8Array {
  let size = bytes.length;
  for (const e of unread) size -= e.end - e.valueStart - (e.length === UNDEFINED_LENGTH ? NO_FRAGMENTS.length : 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let from = 0;
  let to = 0;
  for (const e of unread) {
    const valueStart = dataSetStart + e.valueStart;
    out.set(bytes.subarray(from, valueStart), to);
    to += valueStart - from;
    if (e.length === UNDEFINED_LENGTH) {
      out.set(NO_FRAGMENTS, to);
      to += NO_FRAGMENTS.length;
    } else {
      view.setUint32(to - 4, 0); // the 4-byte length field just before the value: 0 in either byte order
    }
    from = dataSetStart + e.end;
  }
  out.set(bytes.subarray(from), to);
  return out;
}
