/**
 * The items of Pixel Data (PS3.5 A.4: an offset table item, fragment items, the Sequence Delimitation
 * Item) walked as their bytes pass, for a reader that holds no value (part10-stream.ts): each item is
 * checked as ElementWalker.fragments checks it, and what the Store needs of it is handed on.
 */
import { MARKER_BYTES } from './frames/codestreams';
import { ITEM_HEADER } from './frames/fragment-items';
import type { ItemOffsets } from './frames/frame-offsets';
import { ElementWalker, Part10Error, type Encoding } from './part10-scan';

/**
 * The longest Basic Offset Table kept (4M frames): a table is held whole for its checks, so a length
 * read from the bytes allocates no more than this. The one file a whole read accepts and this refuses.
 */
export const MAX_TABLE_BYTES = 16 * 1024 * 1024;

/** What the items are handed to, item by item, in the order of the bytes. */
export interface ItemsSink {
  /** An item's header; its `length` value bytes follow through `value`. */
  item?(length: number): void;
  value?(bytes: Uint8Array): void;
  /** The first item, header and value: the Basic Offset Table. */
  table?(item: Uint8Array): void;
  /** Fed each item's offset from the first and its first bytes (frame-offsets.ts). */
  readonly offsets?: ItemOffsets;
}

/**
 * Items walked from the first byte pushed. With `bound` (the items of a value of that defined length,
 * as fragmentItems reads them) they must end within it; without, the bytes run on past the Sequence
 * Delimitation Item to the rest of the data set. Part10Error where ElementWalker.fragments throws it.
 */
export class StreamedItems {
  private readonly header = new Uint8Array(ITEM_HEADER);
  private filled = 0;
  /** From the first item's header: where the next byte pushed lies, and the current item's header. */
  private offset = 0;
  private itemOffset = 0;
  private itemLength = 0;
  /** The current item's value bytes still to pass, and what is kept of them (the table; a fragment's first bytes). */
  private remaining = 0;
  private kept: Uint8Array | undefined;
  private keptFilled = 0;
  private items = 0;
  done = false;

  constructor(
    private readonly enc: Encoding,
    private readonly sink: ItemsSink,
    private readonly bound = Infinity,
  ) {}

  /** Walks the bytes; answers how many were items' (all of them but those after the Sequence Delimitation Item). */
  push(bytes: Uint8Array): number {
    let pos = 0;
    while (pos < bytes.length && !this.done) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, bytes.length - pos);
        this.valueBytes(bytes.subarray(pos, pos + n));
        pos += n;
        continue;
      }
      const n = Math.min(ITEM_HEADER - this.filled, bytes.length - pos);
      this.header.set(bytes.subarray(pos, pos + n), this.filled);
      this.filled += n;
      pos += n;
      this.offset += n;
      if (this.filled === ITEM_HEADER) this.itemHeader();
    }
    return pos;
  }

  /** The bytes ended: Part10Error unless the items did. */
  end(): void {
    if (!this.done) throw new Part10Error('encapsulated pixel data ends before its Sequence Delimitation Item');
  }

  private itemHeader(): void {
    this.filled = 0;
    this.itemOffset = this.offset - ITEM_HEADER;
    if (this.itemOffset + ITEM_HEADER > this.bound) throw new Part10Error('items run beyond their value');
    const length = new ElementWalker(this.header).fragmentLength(0, ITEM_HEADER, this.enc);
    if (length === undefined) {
      this.done = true;
      return;
    }
    if (this.offset + length > this.bound) throw new Part10Error('an item runs beyond its value');
    this.items += 1;
    this.itemLength = length;
    this.remaining = length;
    this.sink.item?.(length);
    const table = this.items === 1 && this.sink.table !== undefined;
    if (table && length > MAX_TABLE_BYTES) throw new Part10Error('a Basic Offset Table of more than 4M frames');
    this.kept = new Uint8Array(table ? ITEM_HEADER + length : Math.min(MARKER_BYTES, length));
    if (table) this.kept.set(this.header);
    this.keptFilled = table ? ITEM_HEADER : 0;
    if (length === 0) this.itemEnd();
  }

  private valueBytes(bytes: Uint8Array): void {
    this.sink.value?.(bytes);
    const kept = this.kept!;
    if (this.keptFilled < kept.length) {
      const n = Math.min(kept.length - this.keptFilled, bytes.length);
      kept.set(bytes.subarray(0, n), this.keptFilled);
      this.keptFilled += n;
    }
    this.remaining -= bytes.length;
    this.offset += bytes.length;
    if (this.remaining === 0) this.itemEnd();
  }

  private itemEnd(): void {
    const kept = this.kept!;
    if (this.items === 1 && this.sink.table) this.sink.table(kept);
    this.sink.offsets?.add(this.itemOffset, this.items === 1 ? kept.subarray(ITEM_HEADER) : kept, this.itemLength);
  }
}
