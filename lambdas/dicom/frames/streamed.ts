/**
 * The frames of encapsulated Pixel Data without an offset table (PS3.5 A.4), its items streamed from
 * the first fragment to the Sequence Delimitation Item: memory holds the fragments of the frames asked,
 * not the object. Which fragments make a frame is known only at the end (codestreams.ts's rules), so
 * each rule keeps what it would give the frames asked until the count of fragments decides.
 */
import { concatBytes, ElementWalker, EXPLICIT_LE, Part10Error } from '../part10-scan';
import { ByteReader } from './byte-reader';
import { CODESTREAM_START, MARKER_BYTES, startsWithMarker } from './codestreams';
import { ITEM_HEADER } from './fragment-items';
import { FrameError, type FrameBytesLimit } from './frame-numbers';

/**
 * The frames asked of encapsulated Pixel Data without an offset table, its items streamed (`stream`,
 * the `streamLength` bytes from the first after the Basic Offset Table to the object's end) through
 * the Sequence Delimitation Item, keeping only the fragments that framesOfFragments's rules could give
 * a frame asked. FrameError when no rule delimits the frames; undefined when the items are not as
 * PS3.5 A.4 describes, or there is none.
 */
export async function streamedFrames(
  pixelData: { readonly frameCount: number; readonly transferSyntaxUID: string },
  wanted: readonly number[],
  stream: AsyncIterable<Uint8Array>,
  streamLength: number,
  limit: FrameBytesLimit,
): Promise<Uint8Array[] | undefined> {
  const { frameCount } = pixelData;
  const marker = CODESTREAM_START[pixelData.transferSyntaxUID];
  const asked = new Set(wanted);
  // What each rule of framesOfFragments would make of the fragments seen so far: the frame a fragment
  // belongs to (item number k, the single frame, the codestream count), and the fragments kept.
  const rules = {
    perFragment: new KeptFrames(limit),
    single: new KeptFrames(limit),
    codestreams: new KeptFrames(limit),
  };
  let fragments = 0;
  let codestreams = 0;
  let firstStartsCodestream = false;
  const items = new ByteReader(stream, streamLength);
  try {
    for (;;) {
      const length = new ElementWalker(await items.take(ITEM_HEADER)).fragmentLength(0, ITEM_HEADER, EXPLICIT_LE);
      if (length === undefined) break;
      const start = await items.take(Math.min(MARKER_BYTES, length));
      const startsCodestream = startsWithMarker(start, marker);
      fragments += 1;
      if (startsCodestream) codestreams += 1;
      if (fragments === 1) firstStartsCodestream = startsCodestream;
      // Of a single frame every fragment is part; the other rules delimit several.
      const frameByRule =
        frameCount === 1
          ? { perFragment: 0, single: 1, codestreams: 0 }
          : { perFragment: fragments, single: 0, codestreams: firstStartsCodestream ? codestreams : 0 };
      const keepers = (Object.keys(rules) as (keyof typeof rules)[])
        .filter((rule) => asked.has(frameByRule[rule]))
        .filter((rule) => rules[rule].admit(length));
      // A single frame's rule is the one that holds: past the limit, the request is refused now.
      if (frameCount === 1 && rules.single.overLimit) rules.single.frames(wanted);
      if (keepers.length === 0) {
        await items.skip(length - start.length);
        continue;
      }
      const value = concatBytes([start, await items.take(length - start.length)]);
      for (const rule of keepers) rules[rule].keep(frameByRule[rule], value);
    }
  } catch (error) {
    if (error instanceof Part10Error) return undefined;
    throw error;
  } finally {
    // What follows the items is not read: the stream is let go.
    await items.close();
  }
  if (fragments === 0) return undefined;
  const rule =
    frameCount === 1
      ? rules.single
      : fragments === frameCount
        ? rules.perFragment
        : firstStartsCodestream && codestreams === frameCount
          ? rules.codestreams
          : undefined;
  if (!rule) throw new FrameError('frame boundaries unknown: without an offset table, the fragments do not delimit NumberOfFrames frames');
  return rule.frames(wanted);
}

/** The fragments kept for the frames asked under one rule; past the limit, their size only. */
class KeptFrames {
  private readonly kept = new Map<number, Uint8Array[]>();
  private bytes = 0;
  /** Past the limit: the fragments are counted, not kept. */
  overLimit = false;
  constructor(private readonly limit: FrameBytesLimit) {}

  /** Counts a fragment of `length` bytes of a frame asked: whether to keep it, not once past the limit. */
  admit(length: number): boolean {
    this.bytes += length;
    if (this.overLimit) return false;
    try {
      this.limit(this.bytes);
      return true;
    } catch {
      // The rule may not be the one that holds: refuse only if it is (frames()).
      this.overLimit = true;
      this.kept.clear();
      return false;
    }
  }

  keep(frame: number, value: Uint8Array): void {
    const fragments = this.kept.get(frame);
    if (fragments) fragments.push(value);
    else this.kept.set(frame, [value]);
  }

  frames(wanted: readonly number[]): Uint8Array[] {
    if (this.overLimit) this.limit(this.bytes);
    return wanted.map((n) => concatBytes(this.kept.get(n) ?? []));
  }
}
