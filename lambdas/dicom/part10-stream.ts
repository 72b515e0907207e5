/**
 * A Part 10 file (PS3.10 7.1) read once, as a stream of chunks of any size (an instance of tens of GB
 * uploaded straight to object storage): what readPart10 with `bulkDataAbove`, the file's sha256 and
 * its data set digest answer for the whole bytes, holding only its header. The values readPart10
 * leaves unread (encapsulated Pixel Data, top-level binary values above the threshold: the pixels)
 * pass by, hashed and walked as the whole read walks them, and are kept nowhere.
 *
 * The header kept is the file as readPart10 hands it to dcmjs (part10-bulk.ts withoutValues): each
 * value left unread has length 0, encapsulated Pixel Data an empty offset table. readPart10 reads it,
 * and each value left unread becomes the BulkDataValue it is in the whole file.
 */
import { createHash, type Hash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { CanonicalDataSet, dataSetDigest } from './data-set-digest';
import { ItemOffsets } from './frames/frame-offsets';
import { readPart10, type ParsedInstance } from './part10';
import { isUnread, NO_FRAGMENTS, StreamedOffsetTableCheck } from './part10-bulk';
import {
  BulkDataValue,
  ElementWalker,
  PIXEL_DATA,
  Part10Error,
  readFileMeta,
  transferSyntaxEncoding,
  TruncatedElementError,
  UNDEFINED_LENGTH,
  EXPLICIT_LE,
  type ElementAt,
  type Encoding,
} from './part10-scan';
import { StreamedItems } from './part10-stream-items';
import { tagString } from './tags';
import { isUncompressedTransferSyntax, TransferSyntax } from './uid';

/**
 * A deflated data set (PS3.5 A.5) is read whole, as readPart10 reads it: a file longer than this, or
 * whose data set inflates beyond it, is refused (Part10Error). Deflate serves structured documents,
 * not images, so no instance of the Store should come near it.
 */
export const MAX_DEFLATED_BYTES = 64 * 1024 * 1024;

/** What readPart10Stream answers: readPart10's instance and what the Store computes of the bytes. */
export interface StreamedPart10 {
  readonly instance: ParsedInstance;
  /** The file's length and sha256 (hex), and its data set's digest (data-set-digest.ts). */
  readonly size: number;
  readonly digest: string;
  readonly dataSetDigest: string;
  /**
   * What ItemOffsets gathered of the items of the Pixel Data left unread (frameOffsetsOfItems), in a
   * transfer syntax that encapsulates it; undefined where its value holds no items.
   */
  readonly pixelDataItems?: ItemOffsets;
}

/**
 * Reads a Part 10 file from its chunks: readPart10(bytes, { bulkDataAbove }) and the digests, for
 * the bytes the stream yields. Throws Part10Error when readPart10 or dataSetDigest would, and for a
 * deflated file above MAX_DEFLATED_BYTES or a Basic Offset Table above MAX_TABLE_BYTES.
 */
export async function readPart10Stream(
  stream: AsyncIterable<Uint8Array>,
  opts: { readonly bulkDataAbove: number },
): Promise<StreamedPart10> {
  const reader = new Part10StreamReader(opts.bulkDataAbove);
  for await (const chunk of stream) reader.push(chunk);
  return reader.end();
}

/** A top-level value left unread: where it lies in the file, and its items walked when it has some. */
interface Unread {
  readonly element: ElementAt;
  /** In the file: where the value starts, and its length (for encapsulated Pixel Data, through the Sequence Delimitation Item). */
  readonly valueStart: number;
  length: number;
  /** Its items: of encapsulated Pixel Data; of a value of defined length, for frameOffsetsOf only (undefined once malformed). */
  items?: StreamedItems;
  readonly offsets?: ItemOffsets;
}

class Part10StreamReader {
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private readonly input = new ChunkQueue();
  /** The file as kept, and where its next element starts. */
  private readonly header = new GrowingBytes();
  private next = 0;
  /** How long the header must be before the element at `next` is walked again. */
  private want = 0;
  /** Where in the file the next byte taken from the input lies. */
  private position = 0;
  private metaEnd = 0;
  private transferSyntaxUID = '';
  private enc: Encoding | undefined;
  /** A deflated file, whole. */
  private deflated: Uint8Array[] | undefined;
  private readonly canonical = new CanonicalDataSet();
  /** Where in the header the elements not yet written to the canonical form and the checks start. */
  private written = 0;
  private readonly unread: Unread[] = [];
  /** The value being passed over; of a defined length, how much is left and whether the canonical form counts it. */
  private current: Unread | undefined;
  private remaining = 0;
  private counted = false;
  private readonly checks: { readonly check: StreamedOffsetTableCheck; readonly pixelData: Unread }[] = [];

  constructor(private readonly bulkDataAbove: number) {}

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.hash.update(chunk);
    this.size += chunk.length;
    if (this.deflated) return this.keepDeflated([chunk]);
    this.input.push(chunk);
    this.read(false);
  }

  end(): StreamedPart10 {
    const digest = this.hash.digest('hex');
    if (!this.deflated) this.read(true);
    if (this.deflated) return this.endDeflated(digest);
    if (this.current) {
      this.current.items?.end();
      throw new Part10Error('the file ends inside a value');
    }
    this.writeElements();
    const dataSetEnd = this.size - this.metaEnd;
    for (const { check, pixelData } of this.checks) check.end(dataSetEnd, pixelData.valueStart + pixelData.length - this.metaEnd);
    const instance = readPart10(this.header.bytes(), { bulkDataAbove: this.bulkDataAbove });
    for (const { element, valueStart, length } of this.unread) {
      const key = tagString(element.tag);
      instance.dict[key] = { vr: instance.dict[key]?.vr ?? element.vr ?? 'OW', Value: [new BulkDataValue(valueStart, length)] };
    }
    // readPart10 gives the dict the last Pixel Data it leaves unread; frameOffsetsOf reads its items.
    const pixelData = this.unread.filter((u) => u.element.tag === PIXEL_DATA).at(-1);
    const pixelDataItems = pixelData?.items?.done ? pixelData.offsets : undefined;
    return { instance, size: this.size, digest, dataSetDigest: this.canonical.digest(), ...(pixelDataItems && { pixelDataItems }) };
  }

  /** Reads what the input holds; `final`: the stream has ended, so what needs more bytes fails. */
  private read(final: boolean): void {
    for (;;) {
      try {
        if (!this.step(final)) return;
      } catch (error) {
        if (!(error instanceof TruncatedElementError) || error.bytesNeeded <= this.header.length) throw error;
        // A walk cut short by bytes not yet come is tried again when they have: with twice the bytes at
        // least, so that a long element costs a few walks rather than one per chunk.
        this.want = final ? error.bytesNeeded : Math.max(error.bytesNeeded, 2 * this.header.length - this.next);
        if (this.fill(this.want)) continue;
        if (final) throw error;
        return;
      }
    }
  }

  /** One step of the read: false when it waits for bytes (or, `final`, has read them all). */
  private step(final: boolean): boolean {
    if (this.current) return this.passValue();
    const filled = this.fill(this.want);
    if (this.enc === undefined) {
      if (!filled && !final) return false;
      this.readMeta();
      if (!this.deflated) return true;
      this.keepDeflated(this.input.drain());
      return false;
    }
    // At an element's start with nothing after it: the end of the file, or of the bytes so far.
    if (this.header.length === this.next && !this.fill(this.next + 1)) return false;
    if (!filled && !final) return false;
    this.readElement();
    return true;
  }

  /** PS3.10 7.1: preamble, 'DICM', File Meta Information (TruncatedElementError until the header holds them). */
  private readMeta(): void {
    const bytes = this.header.bytes();
    const { transferSyntaxUID, metaEnd } = readFileMeta(bytes, new ElementWalker(bytes));
    this.metaEnd = metaEnd;
    this.next = this.written = this.want = metaEnd;
    this.transferSyntaxUID = transferSyntaxUID;
    this.enc = transferSyntaxEncoding(transferSyntaxUID);
    if (transferSyntaxUID === TransferSyntax.DeflatedExplicitVRLittleEndian) this.deflated = [bytes.slice()];
  }

  /** The next top-level element: kept whole, or the start of a value to pass over. */
  private readElement(): void {
    const enc = this.enc!;
    this.fill(this.next + 8);
    const walker = new ElementWalker(this.header.bytes());
    const element = walker.elementHeader(this.next, this.header.length, enc);
    if (isUnread(element, this.bulkDataAbove)) return this.startUnread(element);
    this.next = this.want = walker.elementExtent(this.next, this.header.length, enc).end;
  }

  /** A value left unread starts: the elements before it are written, its header kept as withoutValues keeps it. */
  private startUnread(element: ElementAt): void {
    this.writeElements();
    const headerAt = this.position - (this.header.length - this.next) - this.metaEnd;
    const bytes = this.header.bytes();
    for (const { check } of this.checks) check.push(bytes.slice(this.next, element.valueStart), headerAt);
    // Bytes of the value already in the header go back to the input, to pass with the rest.
    this.input.unshift(bytes.slice(element.valueStart));
    this.position -= this.header.length - element.valueStart;
    this.header.truncate(element.valueStart);
    const unread: Unread = {
      element,
      valueStart: this.position,
      length: 0,
      ...(element.tag === PIXEL_DATA && { offsets: new ItemOffsets(this.transferSyntaxUID) }),
    };
    if (element.length === UNDEFINED_LENGTH) {
      this.header.push(NO_FRAGMENTS);
      this.canonical.fragments(element.tag);
      unread.items = this.encapsulatedItems(unread);
    } else {
      this.header.zeroLength(element.valueStart);
      this.counted = this.canonical.value(element.tag, element.length);
      unread.length = this.remaining = element.length;
      // frameOffsetsOf reads such a value as items all the same, in a transfer syntax that encapsulates.
      if (unread.offsets && !isUncompressedTransferSyntax(this.transferSyntaxUID)) {
        unread.items = new StreamedItems(EXPLICIT_LE, { offsets: unread.offsets }, element.length);
      }
    }
    this.unread.push(unread);
    this.current = unread;
    this.next = this.written = this.want = this.header.length;
  }

  /** The items of encapsulated Pixel Data: hashed, checked against its offset table, gathered for its frame offsets. */
  private encapsulatedItems(unread: Unread): StreamedItems {
    return new StreamedItems(this.enc!, {
      item: (length) => this.canonical.item(length),
      value: (bytes) => this.canonical.bytes(bytes),
      table: (item) => {
        const first = unread.valueStart + item.length - this.metaEnd;
        this.checks.push({ check: new StreamedOffsetTableCheck(item, first), pixelData: unread });
      },
      ...(unread.offsets && { offsets: unread.offsets }),
    });
  }

  /** Passes over the value left unread; false until the input has held it all. */
  private passValue(): boolean {
    const unread = this.current!;
    const encapsulated = unread.element.length === UNDEFINED_LENGTH;
    while (encapsulated ? !unread.items!.done : this.remaining > 0) {
      const piece = this.input.take(encapsulated ? Infinity : this.remaining);
      if (!piece) return false;
      const at = this.position - this.metaEnd;
      let used = piece.length;
      if (encapsulated) {
        used = unread.items!.push(piece);
        this.input.unshift(piece.subarray(used));
        unread.length += used;
      } else {
        if (this.counted) this.canonical.bytes(piece);
        this.walkItems(unread, (items) => items.done || items.push(piece));
        this.remaining -= used;
      }
      this.position += used;
      for (const { check } of this.checks) check.push(piece.subarray(0, used), at);
    }
    if (encapsulated) this.canonical.fragmentsEnd();
    else this.walkItems(unread, (items) => items.end());
    this.current = undefined;
    return true;
  }

  /** The items of a value of defined length, walked for frameOffsetsOf alone: malformed, they are no items. */
  private walkItems(unread: Unread, walk: (items: StreamedItems) => unknown): void {
    if (!unread.items) return;
    try {
      walk(unread.items);
    } catch (error) {
      if (!(error instanceof Part10Error)) throw error;
      unread.items = undefined;
    }
  }

  /** The whole elements kept since the last written: to the canonical form and the offset table checks. */
  private writeElements(): void {
    if (this.next === this.written) return;
    const bytes = this.header.bytes();
    this.canonical.elements(bytes, this.written, this.next, this.enc!);
    const at = this.position - (this.header.length - this.written) - this.metaEnd;
    for (const { check } of this.checks) check.push(bytes.subarray(this.written, this.next), at);
    this.written = this.next;
  }

  /** Moves bytes of the input to the header until it is `length` long; false when the input runs out first. */
  private fill(length: number): boolean {
    while (this.header.length < length) {
      const piece = this.input.take(length - this.header.length);
      if (!piece) return false;
      this.header.push(piece);
      this.position += piece.length;
    }
    return true;
  }

  private keepDeflated(chunks: readonly Uint8Array[]): void {
    this.deflated!.push(...chunks);
    if (this.size > MAX_DEFLATED_BYTES) throw new Part10Error(`a deflated file above ${MAX_DEFLATED_BYTES} bytes`);
  }

  /** A deflated file, read whole as readPart10 reads it, unless its data set inflates beyond MAX_DEFLATED_BYTES. */
  private endDeflated(digest: string): StreamedPart10 {
    const bytes = Buffer.concat(this.deflated!);
    try {
      inflateRawSync(bytes.subarray(this.metaEnd), { maxOutputLength: MAX_DEFLATED_BYTES });
    } catch {
      throw new Part10Error(`a deflated data set that does not inflate to ${MAX_DEFLATED_BYTES} bytes or less`);
    }
    const instance = readPart10(bytes, { bulkDataAbove: this.bulkDataAbove });
    return { instance, size: bytes.length, digest, dataSetDigest: dataSetDigest(bytes) };
  }
}

/** Chunks received and not yet read, read in pieces without copies. */
class ChunkQueue {
  private chunks: Uint8Array[] = [];
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  unshift(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.unshift(chunk);
    this.length += chunk.length;
  }

  /** At most `count` bytes from the first chunk; undefined when there are none. */
  take(count: number): Uint8Array | undefined {
    const chunk = this.chunks[0];
    if (!chunk) return undefined;
    if (chunk.length <= count) this.chunks.shift();
    else this.chunks[0] = chunk.subarray(count);
    const piece = chunk.subarray(0, Math.min(count, chunk.length));
    this.length -= piece.length;
    return piece;
  }

  drain(): Uint8Array[] {
    const chunks = this.chunks;
    this.chunks = [];
    this.length = 0;
    return chunks;
  }
}

/** The header kept: bytes appended, cut back, a length field set to 0. */
class GrowingBytes {
  private buffer = new Uint8Array(64 * 1024);
  length = 0;

  push(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.buffer.length) {
      const grown = new Uint8Array(Math.max(2 * this.buffer.length, this.length + bytes.length));
      grown.set(this.bytes());
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  truncate(length: number): void {
    this.length = length;
  }

  /** The 4-byte length field just before `valueStart` (part10-bulk.ts withoutValues): 0 in either byte order. */
  zeroLength(valueStart: number): void {
    this.buffer.fill(0, valueStart - 4, valueStart);
  }

  /** A view of the bytes (valid until the next push). */
  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}
