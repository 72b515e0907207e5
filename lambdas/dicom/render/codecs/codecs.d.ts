/**
 * The parts of the WebAssembly codec builds (@cornerstonejs/codec-*) and of jpeg-lossless-decoder-js
 * the decoders use; the packages ship no type declarations.
 */
interface EmscriptenDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned?: boolean };
  delete(): void;
}

/** A JPEG 2000 decoder's resolution levels (ISO/IEC 15444-1 B.5): each level halves the width and height. */
interface Jpeg2000Decoder extends EmscriptenDecoder {
  readHeader(): void;
  getNumDecompositions(): number;
  decodeSubResolution(level: number, layer: number): void;
  calculateSizeAtDecompositionLevel(level: number): { width: number; height: number };
}

interface JpegLsDecoder extends EmscriptenDecoder {
  /** CharLS interleave mode: 0 none (planes one after the other), 1 line, 2 sample. */
  getInterleaveMode(): number;
}

type CodecModuleFactory<M> = (options?: object) => Promise<M>;

declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  const factory: CodecModuleFactory<{ JPEGDecoder: new () => EmscriptenDecoder }>;
  export default factory;
}
declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  const factory: CodecModuleFactory<{ JpegLSDecoder: new () => JpegLsDecoder }>;
  export default factory;
}
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: CodecModuleFactory<{ J2KDecoder: new () => Jpeg2000Decoder }>;
  export default factory;
}
declare module '@cornerstonejs/codec-openjph' {
  const factory: CodecModuleFactory<{ HTJ2KDecoder: new () => Jpeg2000Decoder }>;
  export default factory;
}
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    decode(buffer: ArrayBuffer, offset: number, length: number, numBytes: number): Uint8Array | Uint16Array;
  }
}
