/**
 * The identity of an instance's content: a digest of its data set, not of its file. Two senders of one
 * instance wrap it in different File Meta Information (PS3.10 7.1: Source AE Title, Implementation
 * Class UID and Version Name), and a C-STORE SCU may re-encode it in the transfer syntax it negotiated
 * (PS3.5 A.1, A.2: Implicit or Explicit VR Little Endian). Both are the same data set.
 *
 * The digest is a sha256 of a canonical form of the data set's elements, in tag order, nested through
 * sequences and items, that leaves out what an encoding chooses and the data set does not hold:
 * - group 0002 (the File Meta Information) and group lengths (gggg,0000), retired (PS3.5 7.2);
 * - Data Set Trailing Padding (FFFC,FFFC), PS3.10 7.2;
 * - VRs (Implicit VR has none, PS3.5 7.1.3) and the defined or undefined lengths of sequences and
 *   items (PS3.5 7.5); an empty sequence is an empty value;
 * - deflate (PS3.5 A.5): the inflated data set is read.
 * Values are compared byte for byte as encoded: Little Endian values are the same bytes in both VR
 * encodings; a Big Endian data set, or compressed pixel data in another transfer syntax, is other content.
 *
 * In Implicit VR a sequence of defined length is told from a value by its bytes: a value that reads
 * exactly as items (PS3.5 7.5) is a sequence, as is the UN value an Explicit VR re-encoding of an
 * unknown (private) sequence makes of it (PS3.5 6.2.2: UN holds Implicit VR Little Endian).
 */
import { createHash, type Hash } from 'node:crypto';
import { PIXEL_DATA_TAGS, tagNumber } from './tags';
import { TransferSyntax } from './uid';
import {
  ElementWalker,
  EXPLICIT_LE,
  IMPLICIT_LE,
  inflateDataSet,
  Part10Error,
  PIXEL_DATA,
  readFileMeta,
  transferSyntaxEncoding,
  UNDEFINED_LENGTH,
  type ElementExtent,
  type Encoding,
} from './part10-scan';

const TRAILING_PADDING = 0xfffcfffc;
const PIXEL_DATA_TAG_NUMBERS: ReadonlySet<number> = new Set(PIXEL_DATA_TAGS.map(tagNumber));

// Markers of the canonical form: tags of group FFFE, which no element of a data set has.
const ITEM_START = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQUENCE_END = 0xfffee0dd;
const SEQUENCE = 0xffffffff;
const FRAGMENTS = 0xfffffffe;

/**
 * sha256, hex, of the canonical form of the data set of a Part 10 file (see above). Throws Part10Error
 * when the bytes are not a well-formed Part 10 file (readPart10 accepts no file this refuses).
 */
export function dataSetDigest(part10: Uint8Array): string {
  const { transferSyntaxUID, metaEnd } = readFileMeta(part10, new ElementWalker(part10));
  const deflated = transferSyntaxUID === TransferSyntax.DeflatedExplicitVRLittleEndian;
  const dataSet = deflated ? inflateDataSet(part10.subarray(metaEnd)) : part10.subarray(metaEnd);
  const canonical = new CanonicalDataSet();
  canonical.elements(dataSet, 0, dataSet.length, deflated ? EXPLICIT_LE : transferSyntaxEncoding(transferSyntaxUID));
  return canonical.digest();
}

/** Bytes gathered before they are hashed: one hash update per few KB, not two per element. */
const HASH_BUFFER_BYTES = 16 * 1024;
/**
 * Buffers of finished digests, for the next: a digest takes one and gives it back when done (one read
 * through streamed pieces may be under way while another runs, so there may be several).
 */
const SCRATCH: Buffer[] = [];
const SCRATCH_KEPT = 4;

/**
 * A sha256 fed the canonical form's many small pieces (a tag and a length, a short value) through a
 * buffer, and a long value directly: the same bytes in the same order, so the same digest, for a
 * fraction of the calls (a hash update per element showed in profiles of STOW-RS).
 */
class BufferedHash {
  // A buffer of an earlier digest when one is free: a 16 KB allocation per digest showed as garbage.
  private readonly buffer = SCRATCH.pop() ?? Buffer.allocUnsafeSlow(HASH_BUFFER_BYTES);
  private filled = 0;
  private readonly hash: Hash = createHash('sha256');

  word(value: number): void {
    if (this.filled + 4 > HASH_BUFFER_BYTES) this.flush();
    this.buffer.writeUInt32LE(value >>> 0, this.filled);
    this.filled += 4;
  }

  update(bytes: Uint8Array): void {
    if (bytes.length > HASH_BUFFER_BYTES / 4) {
      this.flush();
      this.hash.update(bytes);
      return;
    }
    if (this.filled + bytes.length > HASH_BUFFER_BYTES) this.flush();
    this.buffer.set(bytes, this.filled);
    this.filled += bytes.length;
  }

  digest(): string {
    this.flush();
    if (SCRATCH.length < SCRATCH_KEPT) SCRATCH.push(this.buffer);
    return this.hash.digest('hex');
  }

  private flush(): void {
    if (this.filled > 0) this.hash.update(this.buffer.subarray(0, this.filled));
    this.filled = 0;
  }
}

/**
 * The canonical form of one data set, written in the order of its top-level elements: whole elements
 * from bytes (`elements`), or a top-level binary value whose bytes pass by in pieces (`value`, or
 * `fragments`, `item` and `fragmentsEnd` for encapsulated Pixel Data, each followed by its bytes
 * through `bytes`), as a reader that does not hold the value (part10-stream.ts) sees it.
 */
export class CanonicalDataSet {
  private readonly hash = new BufferedHash();

  /** The top-level elements in [pos, end) of a data set's bytes. */
  elements(bytes: Uint8Array, pos: number, end: number, enc: Encoding): void {
    new Canonical(bytes, this).dataSet(pos, end, enc);
  }

  /** A value of defined length that is no sequence; its `length` bytes follow. Answers whether they count. */
  value(tag: number, length: number): boolean {
    if (isLeftOut(tag)) return false;
    this.words(tag, length);
    return true;
  }

  /** Encapsulated Pixel Data (PS3.5 A.4): its items follow, the offset table and fragments, as encoded. */
  fragments(tag: number): void {
    this.words(tag, FRAGMENTS);
  }

  /** An item of encapsulated Pixel Data; its `length` bytes follow. */
  item(length: number): void {
    this.words(ITEM_START, length);
  }

  fragmentsEnd(): void {
    this.words(SEQUENCE_END);
  }

  bytes(bytes: Uint8Array): void {
    this.hash.update(bytes);
  }

  words(...values: number[]): void {
    for (const v of values) this.hash.word(v);
  }

  digest(): string {
    return this.hash.digest();
  }
}

/** What the canonical form leaves out: group lengths (retired, PS3.5 7.2) and Data Set Trailing Padding (PS3.10 7.2). */
function isLeftOut(tag: number): boolean {
  return (tag & 0xffff) === 0 || tag === TRAILING_PADDING;
}

class Canonical {
  private readonly walker: ElementWalker;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly out: CanonicalDataSet,
  ) {
    this.walker = new ElementWalker(bytes);
  }

  dataSet(pos: number, end: number, enc: Encoding): void {
    this.walker.topLevel(pos, end, enc, (e) => this.element(e, enc));
  }

  private element(e: ElementExtent, enc: Encoding): void {
    if (isLeftOut(e.tag)) return;
    if (e.length === UNDEFINED_LENGTH) {
      if (e.tag !== PIXEL_DATA || e.vr === 'SQ') {
        // PS3.5 6.2.2: a UN of undefined length is a sequence in Implicit VR Little Endian.
        const itemEnc = e.vr === 'UN' ? IMPLICIT_LE : enc;
        return this.sequence(e.tag, this.walker.items(e.valueStart, e.end, itemEnc, false), itemEnc);
      }
      this.out.fragments(e.tag);
      this.walker.fragments(e.valueStart, e.end, enc, (itemStart, length) => {
        this.out.item(length);
        this.out.bytes(this.bytes.subarray(itemStart + 8, itemStart + 8 + length));
      });
      return this.out.fragmentsEnd();
    }
    const end = e.valueStart + e.length;
    if (e.vr === 'SQ') return this.sequence(e.tag, this.walker.items(e.valueStart, end, enc, true), enc);
    if ((e.vr === undefined && !PIXEL_DATA_TAG_NUMBERS.has(e.tag)) || e.vr === 'UN') {
      const itemEnc = e.vr === 'UN' ? IMPLICIT_LE : enc;
      const items = this.itemsOrUndefined(e.valueStart, end, itemEnc);
      if (items) return this.sequence(e.tag, items, itemEnc);
    }
    this.value(e.tag, e.valueStart, e.length);
  }

  private value(tag: number, start: number, length: number): void {
    this.out.words(tag, length);
    this.out.bytes(this.bytes.subarray(start, start + length));
  }

  private sequence(tag: number, items: readonly { start: number; end: number }[], enc: Encoding): void {
    if (items.length === 0) return this.value(tag, 0, 0);
    this.out.words(tag, SEQUENCE);
    for (const item of items) {
      this.out.words(ITEM_START);
      this.dataSet(item.start, item.end, enc);
      this.out.words(ITEM_END);
    }
    this.out.words(SEQUENCE_END);
  }

  /** The items of a value of defined length, when it reads as a non-empty sequence of items whose data sets are well formed. */
  private itemsOrUndefined(start: number, end: number, enc: Encoding): { start: number; end: number }[] | undefined {
    if (end - start < 8) return undefined;
    try {
      const items = this.walker.items(start, end, enc, true);
      for (const item of items) this.walker.dataSet(item.start, item.end, enc, false);
      return items;
    } catch (error) {
      if (error instanceof Part10Error) return undefined;
      throw error;
    }
  }
}
