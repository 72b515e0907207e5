/**
 * Exact reads from a stream of known length (a stored object read from an offset on), for walks that
 * must not hold the object: the items of encapsulated Pixel Data without an offset table are read
 * header by header, the values not wanted skipped (streamed.ts).
 */
import { Part10Error } from '../part10-scan';

/** Exact reads from a stream of `length` bytes in chunks; Part10Error for a read beyond them. */
export class ByteReader {
  private readonly chunks: AsyncIterator<Uint8Array>;
  private chunk: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private remaining: number;
  constructor(stream: AsyncIterable<Uint8Array>, length: number) {
    this.chunks = stream[Symbol.asyncIterator]();
    this.remaining = length;
  }

  /** The next `count` bytes (a view of the stream's chunk when they lie in one). */
  async take(count: number): Promise<Uint8Array> {
    this.consume(count);
    if (this.chunk.length - this.pos >= count) return this.chunk.subarray(this.pos, (this.pos += count));
    const out = new Uint8Array(count);
    let filled = 0;
    while (filled < count) {
      if (this.pos === this.chunk.length) await this.next();
      const n = Math.min(count - filled, this.chunk.length - this.pos);
      out.set(this.chunk.subarray(this.pos, this.pos + n), filled);
      this.pos += n;
      filled += n;
    }
    return out;
  }

  /** Passes over the next `count` bytes. */
  async skip(count: number): Promise<void> {
    this.consume(count);
    while (count > 0) {
      if (this.pos === this.chunk.length) await this.next();
      const n = Math.min(count, this.chunk.length - this.pos);
      this.pos += n;
      count -= n;
    }
  }

  /** A value length read from the bytes is checked against what is left before anything is allocated for it. */
  private consume(count: number): void {
    if (count > this.remaining) throw new Part10Error('an item runs beyond the end of the object');
    this.remaining -= count;
  }

  /** Ends the stream, read to its end or not. */
  async close(): Promise<void> {
    await this.chunks.return?.();
  }

  private async next(): Promise<void> {
    const { done, value } = await this.chunks.next();
    if (done) throw new Part10Error('encapsulated pixel data ends before its Sequence Delimitation Item');
    this.chunk = value;
    this.pos = 0;
  }
}
