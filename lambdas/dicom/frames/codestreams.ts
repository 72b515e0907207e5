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
  const marker = CODESTREAM_START[transferSyntaxUID];
  const codestreams = fragments.flatMap((f, k) => (startsWithMarker(f, marker) ? [k] : []));
  const starts = firstFragmentsOfFrames(fragments.length, codestreams, frameCount);
  return starts?.map((start, k) => fragments.slice(start, starts[k + 1] ?? fragments.length));
}

/**
 * framesOfFragments's rules on what they read of the fragments, their number and which of them start
 * a codestream (ascending indices; the first frameCount + 1 suffice): the index of each frame's first
 * fragment, or undefined.
 */
export function firstFragmentsOfFrames(fragmentCount: number, codestreams: readonly number[], frameCount: number): number[] | undefined {
  if (fragmentCount === frameCount) return Array.from({ length: frameCount }, (_, k) => k);
  if (frameCount === 1) return [0];
  return codestreams[0] === 0 && codestreams.length === frameCount ? [...codestreams] : undefined;
}
