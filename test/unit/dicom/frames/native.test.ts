import { describe, expect, it } from 'vitest';
import { FrameError } from '../../../../lambdas/dicom/frames/frame-numbers';
import { PIXEL_DATA_SCAN_STOP } from '../../../../lambdas/dicom/frames/header-scan';
import { nativePixelDataOf, readNativeFrames } from '../../../../lambdas/dicom/frames/native';
import { scanPart10Header } from '../../../../lambdas/dicom/part10';
import { newPart10 } from '../../../../lambdas/dicom/part10-write';
import { Tag } from '../../../../lambdas/dicom/tags';
import { SopClass, TransferSyntax } from '../../../../lambdas/dicom/uid';
import { makeInstance, pixelFrame } from '../../../support/dicom-factory';
import { ab, expectFramesOfExtractFrames } from '../../../support/frames';

describe('nativePixelDataOf and readNativeFrames: the frames extractFrames cuts, from a header walk and a byte range', () => {
  /** The frames as the header walk finds them, or undefined when it declines; counts the bytes read. */
  async function scanned(bytes: Uint8Array, frameNumbers: number[], prefix = bytes.length) {
    const head = bytes.subarray(0, prefix);
    const header = scanPart10Header(head, PIXEL_DATA_SCAN_STOP);
    const pixelData = header && nativePixelDataOf(header, head);
    if (!pixelData) return undefined;
    let read = 0;
    const result = await readNativeFrames(pixelData, frameNumbers, async (start, end) => ((read += end - start), bytes.slice(start, end)));
    return { ...result, frameCount: pixelData.frameCount, read };
  }

  const packed = (() => {
    const bits = [1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1];
    const out = new Uint8Array(2);
    bits.forEach((bit, i) => (out[i >> 3]! |= bit << (i & 7)));
    return out;
  })();
  const geometry = (rows: number, columns: number, bitsAllocated: number, frames: number, samples = 1) => ({
    [Tag.SOPClassUID]: { vr: 'UI', Value: [SopClass.SecondaryCaptureImageStorage] },
    [Tag.SamplesPerPixel]: { vr: 'US', Value: [samples] },
    [Tag.NumberOfFrames]: { vr: 'IS', Value: [frames] },
    [Tag.Rows]: { vr: 'US', Value: [rows] },
    [Tag.Columns]: { vr: 'US', Value: [columns] },
    [Tag.BitsAllocated]: { vr: 'US', Value: [bitsAllocated] },
  });
  const cases: [string, Uint8Array, number[]][] = [
    ['8-bit frames', makeInstance({ rows: 3, columns: 5, bitsAllocated: 8, numberOfFrames: 4 }), [3, 1, 4]],
    ['16-bit frames', makeInstance({ rows: 3, columns: 5, bitsAllocated: 16, numberOfFrames: 4 }), [4, 2]],
    [
      'Implicit VR Little Endian',
      makeInstance({ rows: 2, columns: 2, numberOfFrames: 2, transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian }),
      [2],
    ],
    ['without NumberOfFrames', makeInstance({ rows: 2, columns: 2 }), [1, 2]],
    ['frames beyond NumberOfFrames', makeInstance({ rows: 2, columns: 2, bitsAllocated: 8, numberOfFrames: 2 }), [2, 3, 9]],
    [
      'SamplesPerPixel 3',
      newPart10({ ...geometry(2, 2, 8, 2, 3), [Tag.PixelData]: { vr: 'OB', Value: [ab(Uint8Array.from({ length: 24 }, (_, i) => i))] } }),
      [2, 1],
    ],
    [
      'BitsAllocated 1 frames inside bytes',
      newPart10({ ...geometry(2, 2, 1, 3), [Tag.PixelData]: { vr: 'OB', Value: [ab(packed)] } }),
      [1, 2, 3],
    ],
  ];

  it.each(cases)('%s', async (_, bytes, frameNumbers) => {
    expectFramesOfExtractFrames(await scanned(bytes, frameNumbers), bytes, frameNumbers);
  });

  it('reads only the span of the frames asked, the header from a prefix of the file', async () => {
    const bytes = makeInstance({ rows: 16, columns: 16, bitsAllocated: 8, numberOfFrames: 10 });
    const got = await scanned(bytes, [4, 3], bytes.length - 9 * 256);
    expect(got!.frames.map((f) => Buffer.from(f))).toEqual([Buffer.from(pixelFrame(4, 256)), Buffer.from(pixelFrame(3, 256))]);
    expect(got!.read).toBe(2 * 256);
  });

  it('refuses pixel data shorter than its frames, as extractFrames does', async () => {
    const short = newPart10({ ...geometry(4, 4, 8, 2), [Tag.PixelData]: { vr: 'OB', Value: [ab(new Uint8Array(20))] } });
    await expect(scanned(short, [2])).rejects.toThrow(FrameError);
    expect((await scanned(short, [1]))!.frames[0]).toHaveLength(16);
  });

  it('declines what extractFrames must decide: encapsulated, no pixel data, float pixel data, unusual geometry, a header cut short', async () => {
    const jpeg = makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, rows: 4, columns: 4, numberOfFrames: 3 });
    const bigEndian = newPart10(
      { ...geometry(2, 2, 8, 1), [Tag.PixelData]: { vr: 'OB', Value: [ab(new Uint8Array(4))] } },
      TransferSyntax.ExplicitVRBigEndian,
    );
    const float = newPart10({ ...geometry(2, 2, 32, 1), [Tag.FloatPixelData]: { vr: 'OF', Value: [ab(new Uint8Array(16))] } });
    const oddFrames = newPart10({
      ...geometry(2, 2, 8, 1),
      [Tag.NumberOfFrames]: { vr: 'IS', Value: [2, 3] },
      [Tag.PixelData]: { vr: 'OB', Value: [ab(new Uint8Array(8))] },
    });
    const noRows = newPart10({
      ...geometry(2, 2, 8, 1),
      [Tag.Rows]: { vr: 'US', Value: [] },
      [Tag.PixelData]: { vr: 'OB', Value: [ab(new Uint8Array(8))] },
    });
    const plain = makeInstance({ rows: 2, columns: 2 });
    for (const bytes of [jpeg, bigEndian, float, oddFrames, noRows, makeInstance({ omit: ['PixelData'] })]) {
      expect(await scanned(bytes, [1])).toBeUndefined();
    }
    expect(await scanned(plain, [1], 200)).toBeUndefined();
  });
});
