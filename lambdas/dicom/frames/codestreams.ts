/**
 * Frames of encapsulated Pixel Data without an offset table, delimited by their fragments (PS3.5 A.4
 * and Annex A's Notes on frame boundaries): a fragment per frame, all of them for a single frame, or a
 * frame per codestream, told by the bytes a codestream starts with. The store keeps the offsets these
 * rules find (frame-offsets.ts); the readers apply them to the fragments they read or stream.
 */
import { TransferSyntax } from '../uid';

/**
 * The bytes each frame of these transfer syntaxes starts with, the start of its codestream: JPEG and
 * JPEG-LS SOI then a marker (ISO/IEC 10918-1, 14495-1), JPEG 2000 and HTJ2K SOC then SIZ (ISO/IEC
 * 15444-1, -15).
 */
export const CODESTREAM_START: Readonly<Record<string, Uint8Array>> = (() => {
  const jpeg = Uint8Array.of(0xff, 0xd8, 0xff);
  const j2k = Uint8Array.of(0xff, 0x4f, 0xff, 0x51);
  return {
    [TransferSyntax.JPEGBaseline8Bit]: jpeg,
    [TransferSyntax.JPEGExtended12Bit]: jpeg,
    [TransferSyntax.JPEGLossless]: jpeg,
    [TransferSyntax.JPEGLosslessSV1]: jpeg,
    [TransferSyntax.JPEGLSLossless]: jpeg,
    [TransferSyntax.JPEGLSNearLossless]: jpeg,
    [TransferSyntax.JPEG2000Lossless]: j2k,
    [TransferSyntax.JPEG2000]: j2k,
    [TransferSyntax.HTJ2KLossless]: j2k,
    [TransferSyntax.HTJ2KLosslessRPCL]: j2k,
    [TransferSyntax.HTJ2K]: j2k,
  };
})();

/** The longest CODESTREAM_START: the bytes of a fragment that tell whether it starts a codestream. */
export const MARKER_BYTES = 4;

/** Whether `value` starts with `marker` (false without a marker: the transfer syntax has none). */
export function startsWithMarker(value: Uint8Array, marker: Uint8Array | undefined): boolean {
  return marker !== undefined && value.length >= marker.length && marker.every((b, i) => value[i] === b);
}

/**
 * Frames of encapsulated Pixel Data without an offset table, from its fragments: one fragment per
 * frame when their numbers match, all of them for a single frame, else one frame per fragment that
 * starts a codestream (CODESTREAM_START) with the following ones, when the first fragment starts one
 * and there are as many as frames. Undefined when none of these holds.
 */
export function framesOfFragments(
  fragments: readonly Uint8Array[],
  frameCount: number,
  transferSyntaxUID: string,
): Uint8Array[][] | undefined {
  if (fragments.length === frameCount) return fragments.map((f) => [f]);
  if (frameCount === 1) return [[...fragments]];
  const marker = CODESTREAM_START[transferSyntaxUID];
  if (!startsWithMarker(fragments[0] ?? new Uint8Array(0), marker)) return undefined;
  const frames: Uint8Array[][] = [];
  for (const f of fragments) {
    if (startsWithMarker(f, marker)) frames.push([f]);
    else frames.at(-1)!.push(f);
  }
  return frames.length === frameCount ? frames : undefined;
}
