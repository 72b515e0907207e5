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
  const hash = new BufferedHash(createHash('sha256'));
  new Canonical(dataSet, hash).dataSet(0, dataSet.length, deflated ? EXPLICIT_LE : transferSyntaxEncoding(transferSyntaxUID));
  return hash.digest();
}

/** Bytes gathered before they are hashed: one hash update per few KB, not two per element. */
const HASH_BUFFER_BYTES = 16 * 1024;

/**
 * A sha256 fed the canonical form's many small pieces (a tag and a length, a short value) through a
 * buffer, and a long value directly: the same bytes in the same order, so the same digest, for a
 * fraction of the calls (a hash update per element showed in profiles of STOW-RS).
 */
class BufferedHash {
  private readonly buffer = Buffer.allocUnsafe(HASH_BUFFER_BYTES);
  private filled = 0;
  constructor(private readonly hash: Hash) {}

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
    return this.hash.digest('hex');
  }

  private flush(): void {
    if (this.filled > 0) this.hash.update(this.buffer.subarray(0, this.filled));
    this.filled = 0;
  }
}

class Canonical {
  private readonly walker: ElementWalker;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly hash: BufferedHash,
  ) {
    this.walker = new ElementWalker(bytes);
  }

  private words(...values: number[]): void {
    for (const v of values) this.hash.word(v);
  }

  dataSet(pos: number, end: number, enc: Encoding): void {
    this.walker.topLevel(pos, end, enc, (e) => this.element(e, enc));
  }

  private element(e: ElementExtent, enc: Encoding): void {
    if ((e.tag & 0xffff) === 0 || e.tag === TRAILING_PADDING) return;
    if (e.length === UNDEFINED_LENGTH) {
      if (e.tag !== PIXEL_DATA || e.vr === 'SQ') {
        // PS3.5 6.2.2: a UN of undefined length is a sequence in Implicit VR Little Endian.
        const itemEnc = e.vr === 'UN' ? IMPLICIT_LE : enc;
        return this.sequence(e.tag, this.walker.items(e.valueStart, e.end, itemEnc, false), itemEnc);
      }
      // Encapsulated Pixel Data (PS3.5 A.4): the offset table and fragments, as encoded.
      this.words(e.tag, FRAGMENTS);
      this.walker.fragments(e.valueStart, e.end, enc, (itemStart, length) => {
        this.words(ITEM_START, length);
        this.hash.update(this.bytes.subarray(itemStart + 8, itemStart + 8 + length));
      });
      return this.words(SEQUENCE_END);
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
    this.words(tag, length);
    this.hash.update(this.bytes.subarray(start, start + length));
  }

  private sequence(tag: number, items: readonly { start: number; end: number }[], enc: Encoding): void {
    if (items.length === 0) return this.value(tag, 0, 0);
    this.words(tag, SEQUENCE);
    for (const item of items) {
      this.words(ITEM_START);
      this.dataSet(item.start, item.end, enc);
      this.words(ITEM_END);
    }
    this.words(SEQUENCE_END);
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
