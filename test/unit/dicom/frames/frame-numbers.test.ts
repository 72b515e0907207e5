import { describe, expect, it } from 'vitest';
import { frameCountOf, framesAsked } from '../../../../lambdas/dicom/frames/frame-numbers';

describe('frameCountOf: the frame count of Pixel Data (PS3.3 C.7.6.6), one rule for the store and every reader', () => {
  it.each([
    [3, 3],
    ['12', 12],
    [1, 1],
    [undefined, 1],
    [null, 1],
    ['', 1],
    [0, 1],
    ['0', 1],
    [-2, 1],
    [2.5, 1],
    ['two', 1],
  ] as const)('NumberOfFrames %j counts %i frame(s)', (numberOfFrames, count) => {
    expect(frameCountOf(numberOfFrames)).toBe(count);
  });
});

describe('framesAsked', () => {
  it('splits the numbers asked into those within the frame count and those beyond it, in request order', () => {
    expect(framesAsked([3, 9, 1, 4, 3], 3)).toEqual({ wanted: [3, 1, 3], missing: [9, 4] });
    expect(framesAsked([2], 1)).toEqual({ wanted: [], missing: [2] });
  });
});
