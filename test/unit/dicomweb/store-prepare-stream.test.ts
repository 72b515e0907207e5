import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { readFileMeta, ElementWalker } from '../../../lambdas/dicom/part10-scan';
import { Tag } from '../../../lambdas/dicom/tags';
import { TransferSyntax } from '../../../lambdas/dicom/uid';
import { prepareInstance, type Preparation } from '../../../lambdas/dicomweb/store-prepare';
import { MAX_DEFLATED_BYTES, MAX_TABLE_BYTES, prepareStreamedInstance } from '../../../lambdas/dicomweb/store-prepare-stream';
import { inImplicitVR, makeInstance, makeJapaneseInstance } from '../../support/dicom-factory';
import { encapsulatedFile, item, largeEncapsulatedInstance, largeNativeInstance, MiB } from '../../support/large-instance';

const THRESHOLD = 1024;
const CHUNK_SIZES = [1, 7, 64 * 1024, Infinity];

/** The bytes in chunks of `size` (Infinity: whole), each a copy, as a stream yields fresh buffers. */
async function* chunked(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield Uint8Array.from(bytes.subarray(at, Math.min(bytes.length, at + size)));
}

/** A preparation as JSON, the random part of objectVersion masked. */
function masked(preparation: Preparation): unknown {
  return JSON.parse(JSON.stringify(preparation).replace(/([0-9a-f]{16})-[0-9a-f]{8}/g, '$1-xxxxxxxx'));
}

async function expectSameAsWhole(bytes: Uint8Array, sizes = CHUNK_SIZES, threshold = THRESHOLD): Promise<Preparation> {
  const whole = masked(prepareInstance(bytes, threshold));
  for (const size of sizes) {
    expect(masked(await prepareStreamedInstance(chunked(bytes, size), threshold)), `chunks of ${size}`).toEqual(whole);
  }
  return prepareInstance(bytes, threshold);
}

const fixtureDirs = ['test/fixtures', 'test/fixtures/render'];
const fixtures = fixtureDirs.flatMap((dir) =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.dcm'))
    .map((name) => join(dir, name)),
);

/** A file with Data Set Trailing Padding (PS3.10 7.2) after its Pixel Data. */
function withTrailingPadding(file: Uint8Array, length: number): Uint8Array {
  const element = Buffer.alloc(12 + length);
  element.writeUInt32LE(0xfffcfffc >>> 0, 0);
  element.write('OB', 4, 'latin1');
  element.writeUInt32LE(length, 8);
  return Buffer.concat([file, element]);
}

/** The file with its data set deflated (PS3.5 A.5). */
function deflated(file: Uint8Array): Uint8Array {
  const { metaEnd, transferSyntaxUID } = readFileMeta(file, new ElementWalker(file));
  expect(transferSyntaxUID).toBe(TransferSyntax.ExplicitVRLittleEndian);
  const meta = Buffer.from(file.subarray(0, metaEnd));
  // (0002,0010) UI: the old UID (20 bytes with its padding) becomes the deflated one (22 bytes).
  const at = meta.indexOf(Buffer.from([0x02, 0x00, 0x10, 0x00, 0x55, 0x49]));
  const uid = Buffer.from(TransferSyntax.DeflatedExplicitVRLittleEndian, 'latin1');
  const element = Buffer.alloc(8);
  meta.copy(element, 0, at, at + 6);
  element.writeUInt16LE(uid.length, 6);
  const length = meta.readUInt16LE(at + 6);
  const out = Buffer.concat([meta.subarray(0, at), element, uid, meta.subarray(at + 8 + length)]);
  out.writeUInt32LE(out.readUInt32LE(140) + uid.length - length, 140);
  return Buffer.concat([out, deflateRawSync(file.subarray(metaEnd))]);
}

/** Starts heap measurements: a garbage collection, then the memory in use. */
function gc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function inUse(): number {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/**
 * The peak growth of the memory in use over what it was at the call, each `sample()` after a full
 * collection: what a streamed preparation holds at once, not the garbage it leaves.
 */
function heapGrowth(): { sample: () => void; peak: () => number } {
  const collect = gc();
  collect();
  const before = inUse();
  let peak = 0;
  return {
    sample: () => {
      collect();
      peak = Math.max(peak, inUse() - before);
    },
    peak: () => peak,
  };
}

async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('prepareStreamedInstance', () => {
  it.each(fixtures)('prepares %s as prepareInstance does, in chunks of 1, 7, 64 KiB bytes and whole', async (path) => {
    const bytes = new Uint8Array(readFileSync(path));
    const result = await expectSameAsWhole(bytes);
    expect('prepared' in result).toBe(true);
  });

  it('prepares the fixtures with a threshold that keeps their Pixel Data too', async () => {
    for (const path of fixtures) await expectSameAsWhole(new Uint8Array(readFileSync(path)), [7, Infinity], 10_000_000);
  });

  const factoryFiles: [string, () => Uint8Array][] = [
    ['native, Explicit VR LE, multi-frame', () => makeInstance({ numberOfFrames: 3, rows: 32, columns: 32 })],
    ['native, Implicit VR LE', () => inImplicitVR(makeInstance({ rows: 40, columns: 40 }))],
    ['native Pixel Data below the threshold', () => makeInstance({ rows: 8, columns: 8 })],
    [
      'encapsulated, Basic Offset Table',
      () => makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, numberOfFrames: 5, rows: 16, columns: 16 }),
    ],
    [
      'encapsulated, empty Basic Offset Table (frame offsets)',
      () =>
        makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, numberOfFrames: 5, rows: 16, columns: 16, offsetTable: 'none' }),
    ],
    [
      'encapsulated, Extended Offset Table',
      () =>
        makeInstance({
          transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit,
          numberOfFrames: 5,
          rows: 16,
          columns: 16,
          offsetTable: 'extended',
        }),
    ],
    ['Data Set Trailing Padding after native Pixel Data', () => withTrailingPadding(makeInstance({ rows: 32, columns: 32 }), 2000)],
    [
      'Data Set Trailing Padding after encapsulated Pixel Data',
      () =>
        withTrailingPadding(
          makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, numberOfFrames: 3, offsetTable: 'none' }),
          10,
        ),
    ],
    ['no Pixel Data', () => makeInstance({ omit: ['PixelData'] })],
    [
      'a long binary value that is not Pixel Data',
      () => makeInstance({ extra: { EncapsulatedDocument: new Uint8Array(5000).fill(7).buffer } }),
    ],
    ['deflated', () => deflated(makeInstance({ rows: 32, columns: 32 }))],
    ['text in ISO 2022 IR 87 (Japanese), decoded from the header kept', () => makeJapaneseInstance({ rows: 32, columns: 32 })],
    [
      'a long sequence before the Pixel Data, in Implicit VR (walked again as the chunks come)',
      () =>
        inImplicitVR(
          makeInstance({
            rows: 32,
            columns: 32,
            extra: { ReferencedImageSequence: Array.from({ length: 400 }, (_, k) => ({ ReferencedSOPInstanceUID: `1.2.3.${k}` })) },
          }),
        ),
    ],
    ['no SOP Instance UID (a Failure Reason with UIDs)', () => makeInstance({ omit: ['SOPInstanceUID'] })],
  ];

  it.each(factoryFiles)('prepares %s as prepareInstance does', async (name, make) => {
    const result = await expectSameAsWhole(make());
    expect('prepared' in result).toBe(!name.startsWith('no SOP'));
  });

  it('finds the frame offsets of encapsulated Pixel Data without an offset table as its fragments stream by', async () => {
    const bytes = makeInstance({
      transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit,
      numberOfFrames: 4,
      rows: 16,
      columns: 16,
      offsetTable: 'none',
    });
    const result = await prepareStreamedInstance(chunked(bytes, 7), THRESHOLD);
    if (!('prepared' in result)) throw new Error('not prepared');
    const object = JSON.stringify(result.prepared.entries).match(/"frameOffsets":\[0,/);
    expect(object).toBeDefined();
  });

  it('answers what prepareInstance answers for a file cut short anywhere', async () => {
    const files = [
      withTrailingPadding(makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, numberOfFrames: 3, rows: 8, columns: 8 }), 4),
      inImplicitVR(makeInstance({ rows: 8, columns: 40, extra: { ReferencedImageSequence: [{ ReferencedSOPInstanceUID: '1.2.3' }] } })),
    ];
    for (const file of files) {
      for (let cut = 0; cut < file.length; cut += 1) {
        const bytes = file.subarray(0, cut);
        const whole = masked(prepareInstance(bytes, 64));
        for (const size of [7, Infinity])
          expect(masked(await prepareStreamedInstance(chunked(bytes, size), 64)), `cut at ${cut}`).toEqual(whole);
      }
    }
  });

  it('answers what prepareInstance answers for corrupted files', async () => {
    const files = [
      makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, numberOfFrames: 3, rows: 8, columns: 8 }),
      makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, numberOfFrames: 3, rows: 8, columns: 8, offsetTable: 'none' }),
      inImplicitVR(makeInstance({ rows: 8, columns: 8, extra: { ReferencedImageSequence: [{ ReferencedSOPInstanceUID: '1.2.3' }] } })),
    ];
    let seed = 1;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const file of files) {
      for (let trial = 0; trial < 300; trial += 1) {
        const bytes = Uint8Array.from(file);
        // A byte of the data set, often one of a length or a tag, replaced.
        for (let k = 0; k < 1 + Math.floor(random() * 3); k += 1)
          bytes[300 + Math.floor(random() * (bytes.length - 300))] = Math.floor(random() * 256);
        const whole = masked(prepareInstance(bytes, 16));
        expect(masked(await prepareStreamedInstance(chunked(bytes, 5), 16)), `trial ${trial}`).toEqual(whole);
      }
    }
  });

  it('refuses what is not DICOM with CannotUnderstand, as prepareInstance does', async () => {
    for (const bytes of [new Uint8Array(0), new TextEncoder().encode('not a DICOM file at all'), new Uint8Array(10_000).fill(0x41)]) {
      const result = await expectSameAsWhole(bytes, [1, 7, Infinity]);
      expect(result).toEqual({ failed: { sopClassUID: '', sopInstanceUID: '', failureReason: 0xc000 } });
    }
  });

  it('refuses a deflated data set that inflates beyond MAX_DEFLATED_BYTES, which prepareInstance reads', async () => {
    const file = makeInstance({ rows: 8, columns: 8 });
    const { metaEnd } = readFileMeta(file, new ElementWalker(file));
    const padding = Buffer.alloc(12);
    padding.writeUInt32LE(0xfffcfffc >>> 0, 0);
    padding.write('OB', 4, 'latin1');
    padding.writeUInt32LE(MAX_DEFLATED_BYTES, 8);
    const dataSet = Buffer.concat([file.subarray(metaEnd), padding, Buffer.alloc(MAX_DEFLATED_BYTES)]);
    const bytes = deflated(Buffer.concat([file.subarray(0, metaEnd), dataSet]));
    const deflatedStart = readFileMeta(bytes, new ElementWalker(bytes)).metaEnd;
    expect(inflateRawSync(bytes.subarray(deflatedStart)).length).toBeGreaterThan(MAX_DEFLATED_BYTES);
    expect('prepared' in prepareInstance(bytes, THRESHOLD)).toBe(true);
    expect(await prepareStreamedInstance(chunked(bytes, 64 * 1024), THRESHOLD)).toEqual({
      failed: { sopClassUID: '', sopInstanceUID: '', failureReason: 0xc000 },
    });
  });

  it('refuses a Basic Offset Table above MAX_TABLE_BYTES, which prepareInstance reads', async () => {
    const table = Array.from({ length: MAX_TABLE_BYTES / 4 + 1 }, () => 0);
    const bytes = encapsulatedFile(table, [Uint8Array.of(0xff, 0xd8, 0xff, 0xe0)]);
    expect('prepared' in prepareInstance(bytes, THRESHOLD)).toBe(true);
    expect(await prepareStreamedInstance(chunked(bytes, 64 * 1024), THRESHOLD)).toEqual({
      failed: { sopClassUID: '', sopInstanceUID: '', failureReason: 0xc000 },
    });
  });

  it('rejects with the error of a stream that fails', async () => {
    async function* failing(): AsyncIterable<Uint8Array> {
      yield makeInstance().subarray(0, 200);
      throw new Error('connection reset');
    }
    await expect(prepareStreamedInstance(failing(), THRESHOLD)).rejects.toThrow('connection reset');
  });

  it('keeps the Modality and the NumberOfFrames the index needs', async () => {
    const bytes = makeInstance({ numberOfFrames: 3, rows: 32, columns: 32, modality: 'MR' });
    const result = await prepareStreamedInstance(chunked(bytes, 64 * 1024), THRESHOLD);
    if (!('prepared' in result)) throw new Error('not prepared');
    expect(result.prepared.modality).toBe('MR');
    expect(JSON.parse(result.prepared.metadataJson)[Tag.PixelData].BulkDataURI).toMatch(/bulkdata/);
    expect(result.prepared.digests.digest).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('checks a Basic Offset Table as prepareInstance does, offsets where no item starts included', async () => {
    const fragment = (length: number) => new Uint8Array(length).fill(0x11);
    // A fragment whose value reads as an item that ends where the fragment does: a window may start there.
    const nested = Buffer.concat([item(fragment(8)), Buffer.alloc(0)]);
    const fragments = [fragment(16), nested, fragment(24)];
    const tables = [
      [],
      [0],
      [0, 24],
      [0, 24, 48],
      [0, 32, 48],
      [0, 8],
      [24, 0],
      [0, 1_000_000],
      [1_000_000, 0],
      [0, 24, 72],
      [0, 24, 80],
      [4, 24],
    ];
    const padding = withTrailingPadding(new Uint8Array(0), 6);
    for (const table of tables) {
      for (const after of [new Uint8Array(0), padding]) {
        const bytes = encapsulatedFile(table, fragments, after);
        const whole = masked(prepareInstance(bytes, THRESHOLD));
        for (const size of [1, 7, Infinity]) {
          expect(masked(await prepareStreamedInstance(chunked(bytes, size), THRESHOLD)), `table ${table} in chunks of ${size}`).toEqual(
            whole,
          );
        }
      }
    }
    expect('prepared' in prepareInstance(encapsulatedFile([0, 32, 48], fragments), THRESHOLD)).toBe(true);
    expect('prepared' in prepareInstance(encapsulatedFile([0, 8], fragments), THRESHOLD)).toBe(false);
  });

  it('prepares the streamed large instances of the tests below as prepareInstance does, at a smaller size', async () => {
    await expectSameAsWhole(await bytesOf(largeNativeInstance(4)), [64 * 1024, Infinity]);
    const result = await expectSameAsWhole(await bytesOf(largeEncapsulatedInstance(100, 1000)), [64 * 1024, Infinity]);
    expect(JSON.stringify(result)).toMatch(/"frameOffsets":\[0,1008,/);
  });

  it('prepares a 1 GiB instance streamed with little memory, and says how fast', { timeout: 300_000 }, async () => {
    const { sample, peak } = heapGrowth();
    const frames = 2048; // 512 x 512 x 2 bytes each: 1 GiB
    const started = process.hrtime.bigint();
    const result = await prepareStreamedInstance(largeNativeInstance(frames, sample), THRESHOLD);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (!('prepared' in result)) throw new Error('not prepared');
    expect(JSON.stringify(result.prepared.entries)).toMatch(/"numberOfFrames":2048/);
    expect(peak()).toBeLessThan(100 * MiB);
    console.info(
      `streamed preparation: 1 GiB native in ${seconds.toFixed(1)} s, ${(1024 / seconds).toFixed(0)} MiB/s, heap growth ${(peak() / MiB).toFixed(1)} MiB`,
    );
  });

  it(
    'prepares a 256 MiB encapsulated instance of 8,192 fragments with its frame offsets and little memory',
    { timeout: 300_000 },
    async () => {
      const { sample, peak } = heapGrowth();
      const started = process.hrtime.bigint();
      const result = await prepareStreamedInstance(largeEncapsulatedInstance(8192, 32 * 1024, sample), THRESHOLD);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (!('prepared' in result)) throw new Error('not prepared');
      const offsets = JSON.stringify(result.prepared.entries)
        .match(/"frameOffsets":\[([0-9,]+)\]/)![1]!
        .split(',');
      expect(offsets).toHaveLength(8193);
      expect(peak()).toBeLessThan(100 * MiB);
      console.info(
        `streamed preparation: 256 MiB encapsulated in ${seconds.toFixed(1)} s, ${(256 / seconds).toFixed(0)} MiB/s, heap growth ${(peak() / MiB).toFixed(1)} MiB`,
      );
    },
  );
});
