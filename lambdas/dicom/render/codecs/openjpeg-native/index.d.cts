/** decoder.c's answer: the samples pixel-interleaved, bytes up to 8 bits of precision, else 16-bit words. */
export interface NativeDecoded {
  readonly pixels: ArrayBuffer;
  readonly width: number;
  readonly height: number;
  readonly components: number;
  readonly precision: number;
  readonly signed: boolean;
}
export interface OpenJpegNative {
  /** Throws an Error when the codestream is not a JPEG 2000 image of that size and component count. */
  decode(codestream: Uint8Array, reduce: number, width: number, height: number, components: number): NativeDecoded;
  readonly openjpegVersion: string;
}
declare const addon: OpenJpegNative | null;
export = addon;
