/**
 * Frame numbers of Pixel Data (1-based, PS3.5 8.2, PS3.3 C.7.6.6): the frame count an instance
 * declares, the numbers asked split into those it has and those missing, and what every frame reader
 * of this folder shares (its error, its size limit). The readers: instance.ts (an instance dcmjs
 * parsed), native.ts and encapsulated.ts (a stored object read by range or streamed, no dcmjs).
 */

/** The frames cannot be told apart or the request names an impossible frame. */
export class FrameError extends Error {}

/**
 * The frame count of Pixel Data whose NumberOfFrames (0028,0008) reads `numberOfFrames`: that many,
 * or 1 without it or when it is no integer of at least 1 (PS3.3 C.7.6.6: a single-frame image has
 * none). The one rule the store (what the index keeps) and every frame reader follow.
 */
export function frameCountOf(numberOfFrames: unknown): number {
  const n = Number(numberOfFrames);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** The frames asked (1-based) in request order, and the numbers beyond the frame count. */
export interface FramesFound {
  frames: Uint8Array[];
  missing: number[];
}

/** The numbers asked that the Pixel Data has (`wanted`) and those beyond its `frameCount` (`missing`), in request order. */
export function framesAsked(frameNumbers: readonly number[], frameCount: number): { wanted: number[]; missing: number[] } {
  return { wanted: frameNumbers.filter((n) => n <= frameCount), missing: frameNumbers.filter((n) => n > frameCount) };
}

/**
 * Called with what the frames asked hold at least, in bytes, before they are read (and while a walk
 * keeps them); throws to refuse the request.
 */
export type FrameBytesLimit = (bytes: number) => void;
