import { describe, expect, it } from 'vitest';
import { FrameError } from '../../../../lambdas/dicom/frames/frame-numbers';
import { extractFrames, numberOfFrames } from '../../../../lambdas/dicom/frames/instance';
import { readPart10, type ParsedInstance } from '../../../../lambdas/dicom/part10';
import { newPart10 } from '../../../../lambdas/dicom/part10-write';
import { Tag } from '../../../../lambdas/dicom/tags';
import { SopClass, TransferSyntax } from '../../../../lambdas/dicom/uid';
import { fakeJpegFrame, makeInstance, pixelFrame } from '../../../support/dicom-factory';
import { ab } from '../../../support/frames';

function instanceWith(dict: ParsedInstance['dict'], transferSyntaxUID: string = TransferSyntax.ExplicitVRLittleEndian): ParsedInstance {
  return readPart10(
    newPart10(
      {
        [Tag.SOPClassUID]: { vr: 'UI', Value: [SopClass.SecondaryCaptureImageStorage] },
        [Tag.SOPInstanceUID]: { vr: 'UI', Value: ['1.2.3'] },
        ...dict,
      },
      transferSyntaxUID,
    ),
  );
}

describe('numberOfFrames', () => {
  it('is NumberOfFrames, 1 without it, 0 without pixel data', () => {
    expect(numberOfFrames(readPart10(makeInstance({ numberOfFrames: 5 })))).toBe(5);
    expect(numberOfFrames(readPart10(makeInstance()))).toBe(1);
    expect(numberOfFrames(readPart10(makeInstance({ omit: ['PixelData'] })))).toBe(0);
  });
});

describe('extractFrames, native pixel data (PS3.5 8.2)', () => {
  it.each([8, 16] as const)('returns %i-bit frames in the order asked', (bitsAllocated) => {
    const instance = readPart10(makeInstance({ rows: 3, columns: 5, bitsAllocated, numberOfFrames: 4 }));
    const frameLength = 3 * 5 * (bitsAllocated / 8);
    const { frames, missing } = extractFrames(instance, [3, 1, 4]);
    expect(missing).toEqual([]);
    expect(frames).toEqual([pixelFrame(3, frameLength), pixelFrame(1, frameLength), pixelFrame(4, frameLength)]);
  });

  it('reads frames of an Implicit VR file the same way', () => {
    const instance = readPart10(
      makeInstance({ rows: 2, columns: 2, numberOfFrames: 2, transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian }),
    );
    expect(extractFrames(instance, [2]).frames).toEqual([pixelFrame(2, 8)]);
  });

  it('returns frame numbers beyond NumberOfFrames in missing', () => {
    const instance = readPart10(makeInstance({ rows: 2, columns: 2, bitsAllocated: 8, numberOfFrames: 2 }));
    expect(extractFrames(instance, [2, 3, 9])).toEqual({ frames: [pixelFrame(2, 4)], missing: [3, 9] });
  });

  it('takes SamplesPerPixel into account', () => {
    const rgb = Uint8Array.from({ length: 2 * 2 * 3 * 2 }, (_, i) => i);
    const instance = instanceWith({
      [Tag.SamplesPerPixel]: { vr: 'US', Value: [3] },
      [Tag.Rows]: { vr: 'US', Value: [2] },
      [Tag.Columns]: { vr: 'US', Value: [2] },
      [Tag.BitsAllocated]: { vr: 'US', Value: [8] },
      [Tag.NumberOfFrames]: { vr: 'IS', Value: [2] },
      [Tag.PixelData]: { vr: 'OB', Value: [ab(rgb)] },
    });
    expect(extractFrames(instance, [2]).frames).toEqual([rgb.subarray(12)]);
  });

  it('unpacks BitsAllocated 1 frames that start inside a byte (PS3.5 8.1.1)', () => {
    // 3 frames of 2x2 bits: 12 bits packed from the least significant bit: frame 1 = 1011, 2 = 0110, 3 = 1111
    const bits = [1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1];
    const packed = new Uint8Array(2);
    bits.forEach((bit, i) => (packed[i >> 3]! |= bit << (i & 7)));
    const instance = instanceWith({
      [Tag.Rows]: { vr: 'US', Value: [2] },
      [Tag.Columns]: { vr: 'US', Value: [2] },
      [Tag.BitsAllocated]: { vr: 'US', Value: [1] },
      [Tag.NumberOfFrames]: { vr: 'IS', Value: [3] },
      [Tag.PixelData]: { vr: 'OB', Value: [ab(packed)] },
    });
    const { frames } = extractFrames(instance, [1, 2, 3]);
    expect(frames).toEqual([Uint8Array.of(0b1101), Uint8Array.of(0b0110), Uint8Array.of(0b1111)]);
  });

  it('refuses pixel data shorter than its frames, and frame numbers below 1', () => {
    const short = instanceWith({
      [Tag.Rows]: { vr: 'US', Value: [4] },
      [Tag.Columns]: { vr: 'US', Value: [4] },
      [Tag.BitsAllocated]: { vr: 'US', Value: [8] },
      [Tag.NumberOfFrames]: { vr: 'IS', Value: [2] },
      [Tag.PixelData]: { vr: 'OB', Value: [ab(new Uint8Array(20))] },
    });
    expect(extractFrames(short, [1]).frames[0]).toHaveLength(16);
    expect(() => extractFrames(short, [2])).toThrow(FrameError);
    expect(() => extractFrames(short, [0])).toThrow(FrameError);
    expect(() => extractFrames(short, [1.5])).toThrow(FrameError);
    expect(() => extractFrames(readPart10(makeInstance({ omit: ['PixelData'] })), [1])).toThrow(FrameError);
  });
});

describe('extractFrames, encapsulated pixel data (PS3.5 A.4)', () => {
  it('returns one frame per fragment set, as stored', () => {
    const instance = readPart10(
      makeInstance({ transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit, rows: 4, columns: 4, numberOfFrames: 3 }),
    );
    const { frames, missing } = extractFrames(instance, [2, 3, 1, 4]);
    expect(missing).toEqual([4]);
    expect(frames).toEqual([fakeJpegFrame(2, 16), fakeJpegFrame(3, 16), fakeJpegFrame(1, 16)]);
  });

  /** Encapsulated Pixel Data written by hand: an empty Basic Offset Table then the given fragments. */
  function withoutOffsetTable(fragments: Uint8Array[], frames: number): ParsedInstance {
    const file = newPart10(
      {
        [Tag.SOPClassUID]: { vr: 'UI', Value: [SopClass.SecondaryCaptureImageStorage] },
        [Tag.NumberOfFrames]: { vr: 'IS', Value: [frames] },
      },
      TransferSyntax.JPEGBaseline8Bit,
    );
    const items = fragments.map((f) => {
      const header = Buffer.alloc(8);
      header.writeUInt16LE(0xfffe, 0);
      header.writeUInt16LE(0xe000, 2);
      header.writeUInt32LE(f.length, 4);
      return Buffer.concat([header, f]);
    });
    const pixelData = Buffer.concat([
      Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]), // (7FE0,0010) OB, undefined length
      Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0]), // empty Basic Offset Table
      ...items,
      Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]), // Sequence Delimitation Item
    ]);
    return readPart10(Buffer.concat([file, pixelData]));
  }

  it('joins all fragments of a single frame when there is no offset table', () => {
    const instance = withoutOffsetTable([Uint8Array.of(0xff, 0xd8, 1, 2), Uint8Array.of(3, 4, 0xff, 0xd9)], 1);
    expect(extractFrames(instance, [1]).frames).toEqual([Uint8Array.of(0xff, 0xd8, 1, 2, 3, 4, 0xff, 0xd9)]);
  });

  it('takes one fragment per frame when their numbers match and there is no offset table', () => {
    const instance = withoutOffsetTable([Uint8Array.of(1, 1), Uint8Array.of(2, 2)], 2);
    expect(extractFrames(instance, [2, 1]).frames).toEqual([Uint8Array.of(2, 2), Uint8Array.of(1, 1)]);
  });

  it('refuses to guess frame boundaries of several frames in more fragments without an offset table', () => {
    const instance = withoutOffsetTable([Uint8Array.of(1, 1), Uint8Array.of(2, 2), Uint8Array.of(3, 3)], 2);
    expect(() => extractFrames(instance, [1])).toThrow(FrameError);
  });
});
