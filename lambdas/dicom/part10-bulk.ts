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
  type ElementAt,
  type ElementExtent,
  type Encoding,
} from './part10-scan';

/** An empty Basic Offset Table item and the Sequence Delimitation Item (PS3.5 A.4): encapsulated Pixel Data without fragments. */
export const NO_FRAGMENTS = Uint8Array.from([0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);

/** The top-level values of a data set that readPart10's `bulkDataAbove` leaves unread. */
export function unreadValues(dataSet: Uint8Array, enc: Encoding, above: number): ElementExtent[] {
  const unread: ElementExtent[] = [];
  new ElementWalker(dataSet).topLevel(0, dataSet.length, enc, (element) => {
    if (isUnread(element, above)) unread.push(element);
  });
  return unread;
}

/** Whether readPart10's `bulkDataAbove` leaves a top-level element's value unread: binary and long, or encapsulated Pixel Data. */
export function isUnread(element: ElementAt, above: number): boolean {
  const encapsulated = element.length === UNDEFINED_LENGTH;
  return isPlainBinary(element) && (encapsulated ? element.tag === PIXEL_DATA : element.length > above);
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
 * checkOffsetTable for encapsulated Pixel Data whose bytes pass by once (part10-stream.ts): built
 * from its Basic Offset Table item, then fed every byte of the data set that follows the table, in
 * order, then told where the data set and the Pixel Data end. Each window of checkOffsetTable is
 * walked as its bytes pass, so it refuses exactly what checkOffsetTable refuses.
 */
export class StreamedOffsetTableCheck {
  private readonly windows: OffsetTableWindow[];
  /** The windows in the order they start, and how many of them have started. */
  private readonly byStart: OffsetTableWindow[];
  private started = 0;
  private active: OffsetTableWindow[] = [];
  private position: number;

  /** `item`: the table's item, header and value; `first`: where the item ends in the data set, the first fragment. */
  constructor(item: Uint8Array, first: number) {
    const tableLength = new ElementWalker(item).itemLength(0, item.length, EXPLICIT_LE);
    if (tableLength % 4 !== 0) throw new Part10Error('a Basic Offset Table whose length is not a multiple of 4');
    const view = new DataView(item.buffer, item.byteOffset, item.byteLength);
    const starts = Array.from({ length: tableLength / 4 }, (_, k) => first + view.getUint32(8 + 4 * k, true));
    this.windows = starts.map((start, k) => new OffsetTableWindow(start, starts[k + 1]));
    this.byStart = [...this.windows].sort((a, b) => a.pos - b.pos);
    this.position = first;
  }

  /** Bytes of the data set from `at`: those after the ones pushed before are walked. */
  push(bytes: Uint8Array, at: number): void {
    if (at < this.position) bytes = bytes.subarray(Math.min(bytes.length, this.position - at));
    at = this.position;
    this.position += bytes.length;
    while (this.started < this.byStart.length && this.byStart[this.started]!.pos < this.position) {
      this.active.push(this.byStart[this.started++]!);
    }
    let finished = false;
    for (const window of this.active) finished = window.feed(bytes, at) || finished;
    if (finished) this.active = this.active.filter((window) => !window.done);
  }

  /** The data set ended at `dataSetEnd`; the Pixel Data at `pixelDataEnd` (after its Sequence Delimitation Item). */
  end(dataSetEnd: number, pixelDataEnd: number): void {
    for (const window of this.windows) {
      if ((window.stepped && window.pos > dataSetEnd) || (!window.done && window.pos < (window.stop ?? dataSetEnd))) {
        throw new Part10Error('a Basic Offset Table offset where no item starts');
      }
    }
    const last = this.windows.at(-1);
    if (last && last.pos !== pixelDataEnd) throw new Part10Error('a Basic Offset Table that does not fit the fragments');
  }
}

/** One window of checkOffsetTable: the items from one offset while they start before the next. */
class OffsetTableWindow {
  private readonly header = new Uint8Array(8);
  private filled = 0;
  done = false;
  /** Whether an item was walked: a window that ends where it starts reads nothing, wherever that is. */
  stepped = false;
  constructor(
    public pos: number,
    readonly stop: number | undefined,
  ) {}

  /** Walks the items whose headers lie in `bytes` (from `at` in the data set); answers whether the window is done. */
  feed(bytes: Uint8Array, at: number): boolean {
    while (!this.done) {
      if (this.stop !== undefined && this.pos >= this.stop) return (this.done = true);
      const from = this.pos + this.filled - at;
      if (from >= bytes.length) return false;
      const n = Math.min(8 - this.filled, bytes.length - from);
      this.header.set(bytes.subarray(from, from + n), this.filled);
      this.filled += n;
      if (this.filled < 8) return false;
      this.filled = 0;
      const length = new ElementWalker(this.header).fragmentLength(0, 8, EXPLICIT_LE);
      this.pos += 8;
      this.stepped = true;
      if (length === undefined) return (this.done = true);
      this.pos += length;
    }
    return true;
  }
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
