/**
 * What the frame readers of lambdas/dicom/frames are held to: the frames extractFrames cuts from the
 * same file parsed by dcmjs.
 */
import { expect } from 'vitest';
import { extractFrames, numberOfFrames } from '../../lambdas/dicom/frames/instance';
import { readPart10 } from '../../lambdas/dicom/part10';

/** A copy of `bytes` as the ArrayBuffer dcmjs holds a binary value in. */
export const ab = (bytes: Uint8Array) => Uint8Array.from(bytes).buffer;

/** What a header walk found is what extractFrames cuts from the file read by dcmjs, and the same frame count. */
export function expectFramesOfExtractFrames(
  got: { frames: Uint8Array[]; missing: number[]; frameCount: number } | undefined,
  bytes: Uint8Array,
  frameNumbers: number[],
): void {
  const expected = extractFrames(readPart10(bytes), frameNumbers);
  expect(got).toBeDefined();
  expect({ frames: got!.frames.map((f) => Buffer.from(f)), missing: got!.missing }).toEqual({
    frames: expected.frames.map((f) => Buffer.from(f)),
    missing: expected.missing,
  });
  expect(got!.frameCount).toBe(numberOfFrames(readPart10(bytes)));
}
