import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encapsulatedPixelDataOf, readEncapsulatedFrames, type StoredObjectReader } from '../../../../lambdas/dicom/frames/encapsulated';
import { frameOffsetsOf } from '../../../../lambdas/dicom/frames/frame-offsets';
import { FrameError } from '../../../../lambdas/dicom/frames/frame-numbers';
import { PIXEL_DATA_SCAN_STOP } from '../../../../lambdas/dicom/frames/header-scan';
import { extractFrames } from '../../../../lambdas/dicom/frames/instance';
import { Part10Error, readPart10, scanPart10Header } from '../../../../lambdas/dicom/part10';
import { newPart10 } from '../../../../lambdas/dicom/part10-write';
import { Tag } from '../../../../lambdas/dicom/tags';
import { SopClass, TransferSyntax } from '../../../../lambdas/dicom/uid';
import { makeInstance } from '../../../support/dicom-factory';
import { expectFramesOfExtractFrames } from '../../../support/frames';

/** fast-check's seed: the same cases every run (FUZZ_SEED=<n> for others). */
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);

describe('encapsulatedPixelDataOf and readEncapsulatedFrames: the frames extractFrames cuts, from a header walk, byte ranges and a stream', () => {
  const item = (tag: number, value: Uint8Array) => {
    const header = Buffer.alloc(8);
    header.writeUInt16LE(0xfffe, 0);
    header.writeUInt16LE(tag, 2);
    header.writeUInt32LE(value.length, 4);
    return Buffer.concat([header, value]);
  };
  /** An Explicit VR OV element of 64-bit values (PS3.5 6.2), written by hand. */
  const ov = (element: number, values: readonly number[]) => {
    const out = Buffer.alloc(12 + 8 * values.length);
    out.writeUInt16LE(0x7fe0, 0);
    out.writeUInt16LE(element, 2);
    out.write('OV', 4, 'latin1');
    out.writeUInt32LE(8 * values.length, 8);
    values.forEach((v, k) => out.writeBigUInt64LE(BigInt(v), 12 + 8 * k));
    return out;
  };
  /**
   * A file whose Pixel Data is written by hand (JPEG Baseline unless said otherwise): the fragments of
   * each frame, a Basic Offset Table (given, or the frames' true offsets, or none), an Extended Offset
   * Table (given, or the frames' true one, with no Basic Offset Table), NumberOfFrames, and what follows
   * Pixel Data.
   */
  function encapsulated(
    frames: Uint8Array[][],
    opts: {
      offsets?: number[] | 'none';
      extended?: true | { offsets: number[]; lengths: number[] };
      numberOfFrames?: number;
      trailing?: boolean;
      transferSyntaxUID?: string;
    } = {},
  ): Uint8Array {
    const file = newPart10(
      {
        [Tag.SOPClassUID]: { vr: 'UI', Value: [SopClass.SecondaryCaptureImageStorage] },
        [Tag.NumberOfFrames]: { vr: 'IS', Value: [opts.numberOfFrames ?? frames.length] },
      },
      opts.transferSyntaxUID ?? TransferSyntax.JPEGBaseline8Bit,
    );
    const trueOffsets: number[] = [];
    let at = 0;
    for (const fragments of frames) {
      trueOffsets.push(at);
      for (const f of fragments) at += 8 + f.length;
    }
    const offsets = opts.offsets === 'none' || opts.extended ? [] : (opts.offsets ?? trueOffsets);
    const table = Buffer.alloc(4 * offsets.length);
    offsets.forEach((o, k) => table.writeUInt32LE(o, 4 * k));
    const extended = opts.extended === true ? { offsets: trueOffsets, lengths: frames.map((f) => f[0]!.length) } : opts.extended;
    return Buffer.concat([
      file,
      ...(extended ? [ov(0x0001, extended.offsets), ov(0x0002, extended.lengths)] : []),
      Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]), // (7FE0,0010) OB, undefined length
      item(0xe000, table),
      ...frames.flat().map((f) => item(0xe000, f)),
      item(0xe0dd, new Uint8Array(0)),
      // Data Set Trailing Padding (FFFC,FFFC) OB: an element after Pixel Data.
      ...(opts.trailing ? [Buffer.from([0xfc, 0xff, 0xfc, 0xff, 0x4f, 0x42, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0])] : []),
    ]);
  }
  const bytesOf = (n: number, length: number) => Uint8Array.from({ length }, (_, i) => (n * 31 + i) & 0xff);
  /** A fragment that starts a codestream: JPEG's SOI then a marker, or JPEG 2000's SOC then SIZ. */
  const jpegStart = (n: number, length: number) => Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, ...bytesOf(n, length)]);
  const j2kStart = (n: number, length: number) => Uint8Array.from([0xff, 0x4f, 0xff, 0x51, ...bytesOf(n, length)]);

  class TooLarge extends Error {}
  /**
   * The frames as the header walk, ranges and the stream find them, or undefined when they decline;
   * counts the bytes read by range and those the stream handed out (in chunks of 7 bytes).
   */
  async function scanned(
    bytes: Uint8Array,
    frameNumbers: number[],
    opts: { prefix?: number; limit?: number; frameOffsets?: number[] } = {},
  ) {
    const head = bytes.subarray(0, opts.prefix ?? bytes.length);
    const header = scanPart10Header(head, PIXEL_DATA_SCAN_STOP);
    const located = header && encapsulatedPixelDataOf(header, head);
    if (!located) return undefined;
    const pixelData = opts.frameOffsets ? { ...located, frameOffsets: opts.frameOffsets } : located;
    const reads = { ranged: 0, streamed: 0, streamClosed: false };
    // As S3 does, a read must start inside the object (a Range from its end is not satisfiable).
    const inside = (start: number) => {
      if (start >= bytes.length) throw new RangeError(`read from ${start} of ${bytes.length} bytes`);
    };
    const source: StoredObjectReader = {
      size: bytes.length,
      read: async (start, end) => (inside(start), (reads.ranged += end - start), bytes.slice(start, end)),
      stream: async (start) => {
        inside(start);
        return (async function* () {
          try {
            for (let at = start; at < bytes.length; at += 7) {
              reads.streamed += Math.min(7, bytes.length - at);
              yield bytes.slice(at, at + 7);
            }
          } finally {
            reads.streamClosed = true;
          }
        })();
      },
    };
    const limit = (total: number) => {
      if (total > (opts.limit ?? Number.POSITIVE_INFINITY)) throw new TooLarge(`${total}`);
    };
    const result = await readEncapsulatedFrames(pixelData, frameNumbers, source, limit);
    return result && { ...result, frameCount: pixelData.frameCount, reads };
  }

  const cases: [string, Uint8Array, number[]][] = [
    [
      'a fragment per frame, with an offset table (as the factory writes)',
      makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, rows: 4, columns: 4, numberOfFrames: 3 }),
      [2, 3, 1, 4],
    ],
    [
      'frames of several fragments, with an offset table',
      encapsulated([[bytesOf(1, 10), bytesOf(2, 6)], [bytesOf(3, 4)], [bytesOf(4, 2), bytesOf(5, 8), bytesOf(6, 2)]]),
      [3, 1, 2],
    ],
    [
      'the last frame, before an element that follows Pixel Data',
      encapsulated([[bytesOf(1, 4)], [bytesOf(2, 4), bytesOf(3, 4)]], { trailing: true }),
      [2],
    ],
    ['a fragment per frame, without an offset table', encapsulated([[bytesOf(1, 4)], [bytesOf(2, 6)]], { offsets: 'none' }), [2, 1, 3]],
    [
      'a single frame in several fragments, without an offset table',
      encapsulated([[bytesOf(1, 4), bytesOf(2, 6), bytesOf(3, 2)]], { offsets: 'none' }),
      [1],
    ],
    [
      'JPEG frames of several fragments without an offset table, one per codestream',
      encapsulated([[jpegStart(1, 9), bytesOf(2, 5)], [jpegStart(3, 2)], [jpegStart(4, 3), bytesOf(5, 1), bytesOf(6, 30)]], {
        offsets: 'none',
        trailing: true,
      }),
      [3, 1, 2, 4],
    ],
    [
      'JPEG 2000 frames of several fragments without an offset table, one per codestream',
      encapsulated([[j2kStart(1, 9)], [j2kStart(3, 2), bytesOf(4, 11)]], {
        offsets: 'none',
        transferSyntaxUID: TransferSyntax.JPEG2000Lossless,
      }),
      [2],
    ],
    [
      'a fragment per frame, with an Extended Offset Table',
      encapsulated([[bytesOf(1, 4)], [bytesOf(2, 6)], [bytesOf(3, 5)]], { extended: true, trailing: true }),
      [3, 1],
    ],
  ];

  it.each(cases)('%s', async (_, bytes, frameNumbers) => {
    expectFramesOfExtractFrames(await scanned(bytes, frameNumbers), bytes, frameNumbers);
  });

  it('cuts codestreams as the frames they start, whichever path reads them', async () => {
    const frames = [[jpegStart(1, 9), bytesOf(2, 5)], [jpegStart(3, 2)], [jpegStart(4, 3), bytesOf(5, 1), bytesOf(6, 30)]];
    const bytes = encapsulated(frames, { offsets: 'none' });
    const got = await scanned(bytes, [3, 1]);
    expect(got!.frames.map((f) => Buffer.from(f))).toEqual([Buffer.concat(frames[2]!), Buffer.concat(frames[0]!)]);
    expect(extractFrames(readPart10(bytes), [3, 1]).frames.map((f) => Buffer.from(f))).toEqual([
      Buffer.concat(frames[2]!),
      Buffer.concat(frames[0]!),
    ]);
  });

  it('reads the offset table and the items of the frames asked only, the header from a prefix of the file', async () => {
    const frames = Array.from({ length: 10 }, (_, k) => [bytesOf(k, 100), bytesOf(k + 50, 20)]);
    const bytes = encapsulated(frames, { trailing: true });
    const headerEnd = bytes.length - 16 - 8 - 10 * (16 + 120) - 8 - 40 - 12;
    const got = await scanned(bytes, [5, 4], { prefix: headerEnd + 12 });
    expect(got!.frames.map((f) => Buffer.from(f))).toEqual([5, 4].map((n) => Buffer.concat(frames[n - 1]!)));
    expect(got!.reads.ranged).toBe(8 + 40 + 2 * (16 + 120)); // the table's item header, its 10 offsets, frames 4 and 5
    // Frames apart are read apart: 1 and 2 together, 9 alone; what lies between them is not read.
    const apart = await scanned(bytes, [9, 1, 2]);
    expect(apart!.frames.map((f) => Buffer.from(f))).toEqual([9, 1, 2].map((n) => Buffer.concat(frames[n - 1]!)));
    expect(apart!.reads.ranged).toBe(8 + 40 + 3 * (16 + 120));
  });

  it('reads each frame asked as the item its Extended Offset Table entries name, and nothing else', async () => {
    const frames = Array.from({ length: 6 }, (_, k) => [bytesOf(k, 10 + k)]);
    const got = await scanned(encapsulated(frames, { extended: true }), [5, 2]);
    expect(got!.frames.map((f) => Buffer.from(f))).toEqual([Buffer.from(frames[4]![0]!), Buffer.from(frames[1]![0]!)]);
    expect(got!.reads).toMatchObject({ ranged: 8 + (8 + 14) + (8 + 11), streamed: 0 }); // the empty table, then the two items
  });

  it('walks the items when the Extended Offset Table does not agree with itself, and declines one that does not fit them', async () => {
    const frames = [[bytesOf(1, 4)], [bytesOf(2, 6)], [bytesOf(3, 5)]];
    const unordered = encapsulated(frames, { extended: { offsets: [0, 30, 12], lengths: [4, 6, 5] } });
    const streamed = await scanned(unordered, [2]);
    expect(Buffer.from(streamed!.frames[0]!)).toEqual(Buffer.from(frames[1]![0]!));
    expect(streamed!.reads.streamed).toBeGreaterThan(0);
    // Ordered but not where the items are (a length off by two): dcmjs and extractFrames decide.
    const misplaced = encapsulated(frames, { extended: { offsets: [0, 12, 26], lengths: [4, 4, 5] } });
    expect(await scanned(misplaced, [2])).toBeUndefined();
    expect(Buffer.from(extractFrames(readPart10(misplaced), [2]).frames[0]!)).toEqual(Buffer.from(frames[1]![0]!));
  });

  it('streams the items without an offset table, keeping those of the frames asked, and lets the stream go at the delimiter', async () => {
    const frames = Array.from({ length: 5 }, (_, k) => [bytesOf(k, 40)]);
    const bytes = encapsulated(frames, { offsets: 'none', trailing: true });
    const got = await scanned(bytes, [4], { limit: 40 });
    expect(Buffer.from(got!.frames[0]!)).toEqual(Buffer.from(frames[3]![0]!));
    expect(got!.reads.ranged).toBe(8); // the empty table's item header
    expect(got!.reads.streamClosed).toBe(true);
    expect(got!.reads.streamed).toBeLessThan(5 * 48 + 8 + 7); // the items and the delimiter (in 7-byte chunks), not the padding after
    // Over the limit: refused, the frames asked being 80 bytes.
    await expect(scanned(bytes, [4, 5], { limit: 79 })).rejects.toThrow(TooLarge);
  });

  it('refuses only when the rule that delimits the frames keeps more than the limit, not another rule', async () => {
    // Three fragments, two codestreams: the second fragment (1,000 bytes) would be frame 2 were there a
    // fragment per frame, but frame 2 is the third fragment (the second codestream), of 12 bytes.
    const frames = [[jpegStart(1, 4), bytesOf(2, 1000)], [jpegStart(3, 8)]];
    const got = await scanned(encapsulated(frames, { offsets: 'none' }), [2], { limit: 100 });
    expect(Buffer.from(got!.frames[0]!)).toEqual(Buffer.from(frames[1]![0]!));
    await expect(scanned(encapsulated(frames, { offsets: 'none' }), [1], { limit: 100 })).rejects.toThrow(TooLarge);
  });

  it('keeps, for the index, where the frames lie without an offset table, and reads them by range with it', async () => {
    const frames = [[jpegStart(1, 9), bytesOf(2, 5)], [jpegStart(3, 2)], [jpegStart(4, 3), bytesOf(5, 1), bytesOf(6, 30)]];
    const bytes = encapsulated(frames, { offsets: 'none', trailing: true });
    const frameOffsets = frameOffsetsOf(bytes, readPart10(bytes, { bulkDataAbove: 0 }));
    // Items of 8 + 13 and 8 + 5 bytes; 8 + 6; 8 + 7, 8 + 1 and 8 + 30.
    expect(frameOffsets).toEqual([0, 34, 48, 48 + 15 + 9 + 38]);
    const got = await scanned(bytes, [3, 1], { frameOffsets });
    expect(got!.frames.map((f) => Buffer.from(f))).toEqual([Buffer.concat(frames[2]!), Buffer.concat(frames[0]!)]);
    expect(got!.reads).toMatchObject({ ranged: 8 + 34 + 62, streamed: 0 }); // the empty table, then frames 1 and 3
    // Offsets that do not fit the items (an index entry of another object): the items are streamed.
    const wrong = await scanned(bytes, [3], { frameOffsets: [0, 34, 50, 110] });
    expect(Buffer.from(wrong!.frames[0]!)).toEqual(Buffer.concat(frames[2]!));
    expect(wrong!.reads.streamed).toBeGreaterThan(0);
  });

  it('keeps no frame offsets where a table says, a single frame, or no rule delimits the frames', () => {
    const offsetsOf = (bytes: Uint8Array) => frameOffsetsOf(bytes, readPart10(bytes, { bulkDataAbove: 0 }));
    expect(offsetsOf(encapsulated([[bytesOf(1, 4)], [bytesOf(2, 4)]]))).toBeUndefined(); // a Basic Offset Table
    expect(offsetsOf(encapsulated([[bytesOf(1, 4)], [bytesOf(2, 4)]], { extended: true }))).toBeUndefined(); // an Extended one
    expect(offsetsOf(encapsulated([[bytesOf(1, 4), bytesOf(2, 4)]], { offsets: 'none' }))).toBeUndefined(); // one frame
    expect(offsetsOf(encapsulated([[bytesOf(1, 4)], [bytesOf(2, 4), bytesOf(3, 4)]], { offsets: 'none' }))).toBeUndefined(); // undelimited
    expect(offsetsOf(makeInstance({ rows: 2, columns: 2, numberOfFrames: 2 }))).toBeUndefined(); // native
    expect(offsetsOf(encapsulated([[bytesOf(1, 4)], [bytesOf(2, 6)]], { offsets: 'none' }))).toEqual([0, 12, 26]);
  });

  it('refuses frames over the limit from the offset table, before reading them', async () => {
    const frames = Array.from({ length: 4 }, (_, k) => [bytesOf(k, 100)]);
    const bytes = encapsulated(frames);
    const reads = { ranged: 0 };
    const header = scanPart10Header(bytes, PIXEL_DATA_SCAN_STOP)!;
    const pixelData = encapsulatedPixelDataOf(header, bytes)!;
    const source: StoredObjectReader = {
      size: bytes.length,
      read: async (start, end) => ((reads.ranged += end - start), bytes.slice(start, end)),
      stream: () => Promise.reject(new Error('not streamed')),
    };
    const limit = (total: number) => {
      if (total > 150) throw new TooLarge(`${total}`);
    };
    await expect(readEncapsulatedFrames(pixelData, [1, 2], source, limit)).rejects.toThrow(TooLarge);
    expect(reads.ranged).toBe(8 + 16); // the table only
  });

  it('refuses frames no rule delimits without an offset table, as extractFrames does', async () => {
    const undelimited = [
      encapsulated([[bytesOf(1, 4)], [bytesOf(2, 4), bytesOf(3, 4)]], { offsets: 'none' }), // three fragments, two frames, no codestream starts
      encapsulated([[bytesOf(1, 4), jpegStart(2, 4)], [jpegStart(3, 4)]], { offsets: 'none' }), // the first fragment starts none
      encapsulated([[jpegStart(1, 4)], [jpegStart(2, 4), jpegStart(3, 4)]], { offsets: 'none' }), // three codestreams, two frames
      encapsulated([[j2kStart(1, 4)], [j2kStart(2, 4), bytesOf(3, 4)]], { offsets: 'none', transferSyntaxUID: TransferSyntax.RLELossless }), // RLE has no codestream marker
    ];
    for (const bytes of undelimited) {
      await expect(scanned(bytes, [1])).rejects.toThrow(FrameError);
      expect(() => extractFrames(readPart10(bytes), [1])).toThrow(FrameError);
      // A frame beyond NumberOfFrames is missing, whether or not the others can be delimited.
      expect(await scanned(bytes, [3])).toMatchObject({ frames: [], missing: [3] });
      expect(extractFrames(readPart10(bytes), [3])).toEqual({ frames: [], missing: [3] });
    }
  });

  it('answers what extractFrames cuts from what dcmjs reads, or declines, for generated and corrupted Pixel Data (fast-check)', async () => {
    const fragment = fc
      .record({ codestream: fc.boolean(), bytes: fc.uint8Array({ maxLength: 24 }) })
      .map(({ codestream, bytes }) => (codestream ? Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, ...bytes]) : bytes));
    const outcome = async <T>(run: () => Promise<T> | T): Promise<T | string> => {
      try {
        return await run();
      } catch (error) {
        if (error instanceof FrameError || error instanceof Part10Error) return error.constructor.name;
        throw error;
      }
    };
    /** A corruption in one case of four: most cases are well-formed files, which the walk must answer. */
    const sometimes = <T>(arbitrary: fc.Arbitrary<T>) =>
      fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary, weight: 1 });
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fragment, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 5 }),
        fc.constantFrom('bot' as const, 'none' as const, 'eot' as const),
        sometimes(fc.integer({ min: 1, max: 6 })), // NumberOfFrames, when it says otherwise
        fc.constantFrom(TransferSyntax.JPEGBaseline8Bit, TransferSyntax.RLELossless),
        sometimes(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 })), // bytes of Pixel Data changed
        sometimes(fc.nat()), // the file cut inside Pixel Data
        fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 3 }), // the frames asked
        async (frames, table, numberOfFrames, transferSyntaxUID, edits, cut, asked) => {
          const file = Buffer.from(
            encapsulated(table === 'eot' ? frames.map((f) => [f[0]!]) : frames, {
              offsets: table === 'none' ? 'none' : undefined,
              extended: table === 'eot' || undefined,
              numberOfFrames,
              transferSyntaxUID,
              trailing: true,
            }),
          );
          const pixelData = scanPart10Header(file, PIXEL_DATA_SCAN_STOP)!.stop.valueStart;
          // The offsets the index would keep, from the file as stored (before any corruption).
          const frameOffsets = frameOffsetsOf(file, readPart10(file, { bulkDataAbove: 0 }));
          for (const [at, byte] of edits ?? []) file[pixelData + (at % (file.length - pixelData))] = byte;
          const bytes = cut === undefined ? file : file.subarray(0, pixelData + (cut % (file.length - pixelData)));
          const walked = await outcome(() => scanned(bytes, asked, { frameOffsets }));
          // Declined: the retrieve reads the file with dcmjs. A file dcmjs refuses is never stored.
          if (walked === undefined) return;
          const read = await outcome(() => readPart10(bytes));
          if (typeof read === 'string') return;
          const expected = await outcome(() => extractFrames(read, asked));
          compared += 1;
          if (typeof walked === 'string' || typeof expected === 'string') {
            expect(walked).toEqual(expected);
            return;
          }
          expect({ frames: walked.frames.map((f) => Buffer.from(f)), missing: walked.missing }).toEqual({
            frames: expected.frames.map((f) => Buffer.from(f)),
            missing: expected.missing,
          });
        },
      ),
      { seed: SEED, numRuns: 1000 },
    );
    expect(compared).toBeGreaterThan(500); // most cases are compared, not declined
  });

  it('declines what extractFrames must decide: native pixel data, offsets that do not fit the items, or NumberOfFrames', async () => {
    const frames = [[bytesOf(1, 4)], [bytesOf(2, 4), bytesOf(3, 4)]];
    const declined: Uint8Array[] = [
      makeInstance({ rows: 2, columns: 2, numberOfFrames: 2 }), // native
      encapsulated(frames, { numberOfFrames: 3 }), // two offsets, three frames
      encapsulated(frames, { offsets: [0, 13] }), // not where an item starts
      encapsulated(frames, { offsets: [4, 12] }), // the first frame does not start at the first fragment
      encapsulated(frames, { offsets: [12, 0] }), // not ascending
    ];
    for (const bytes of declined) expect(await scanned(bytes, [1, 2])).toBeUndefined();
    const cut = encapsulated(frames);
    expect(await scanned(cut.subarray(0, cut.length - 12), [2])).toBeUndefined(); // items cut short
    const unended = encapsulated(frames, { offsets: 'none' });
    expect(await scanned(unended.subarray(0, unended.length - 8), [2])).toBeUndefined(); // no Sequence Delimitation Item
    // Files that end right after the table, or inside the last frame's span: never a read from their end.
    // An item whose length runs beyond the object: nothing is allocated for it.
    const bogus = Buffer.from(encapsulated([[bytesOf(1, 4)], [bytesOf(2, 4)]], { offsets: 'none' }));
    bogus.writeUInt32LE(0x7ffffff0, bogus.length - 8 - 12 + 4); // the second fragment's length
    expect(await scanned(bogus, [2])).toBeUndefined();
    // A Sequence Delimitation Item of a length other than 0: dcmjs refuses the file, and so do the walks.
    const delimited = Buffer.from(encapsulated([[bytesOf(1, 4)], [bytesOf(2, 4)]], { offsets: 'none' }));
    delimited.writeUInt32LE(4, delimited.length - 4);
    expect(await scanned(delimited, [2])).toBeUndefined();
    expect(() => readPart10(delimited)).toThrow(Part10Error);
    expect(() => readPart10(delimited, { bulkDataAbove: 0 })).toThrow(Part10Error);
    const tableOnly = encapsulated([], { offsets: 'none', numberOfFrames: 1 });
    expect(await scanned(tableOnly.subarray(0, tableOnly.length - 8), [1])).toBeUndefined();
    const bot = encapsulated(frames);
    const lastFrame = bot.length - 8 - 2 * (8 + 4); // where frame 2's items start
    expect(await scanned(bot.subarray(0, lastFrame), [2])).toBeUndefined();
  });
});
