/**
 * The Emscripten codec builds, each instantiated on first use and kept for the life of the process
 * (a Lambda execution environment), and the one way a frame goes through any of them: copy the
 * codestream in, decode, copy the samples out, free the decoder.
 */
import type { Samples } from '../grayscale';
import { RenderError } from '../render-error';

/** What a WebAssembly trap throws, an Emscripten abort included (WebAssembly.RuntimeError). */
const WasmRuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: new () => Error } }).WebAssembly.RuntimeError;

/**
 * Emscripten module options sending the codecs' messages (OpenJPEG logs every header it reads)
 * nowhere; a new object per module, since Emscripten builds the module on the object it is given.
 */
export function quiet(): object {
  return { print: () => undefined, printErr: () => undefined };
}

import type { Lazy } from '../../lazy';

export { once, type Lazy } from '../../lazy';

export interface WasmDecoded {
  readonly samples: Samples;
  readonly width: number;
  readonly height: number;
  readonly components: number;
  /** Resolution levels dropped (JPEG 2000): the width and height halved this many times. */
  readonly reduction: number;
}

/** The size of a frame decoded at a lower resolution level, and the levels dropped. */
export interface Reduced {
  readonly width: number;
  readonly height: number;
  readonly reduction: number;
}

/** A decoder's decode call: in full by default; a JPEG 2000 decoder may decode a lower resolution level (./jpeg2000.ts). */
const decodeInFull = (decoder: EmscriptenDecoder): Reduced | undefined => {
  decoder.decode();
  return undefined;
};

/**
 * Decodes `codestream` with a fresh decoder of `codec`'s module; any failure of the codec is the
 * frame's: RenderError('corrupt'). A WebAssembly trap (an Emscripten abort) may leave the module's
 * memory inconsistent, so the module is then forgotten and the next frame loads a new one. Samples of
 * more than 8 bits come out as 16-bit words (two's complement when signed, which the pipeline reads
 * through Bits Stored and Pixel Representation).
 */
export async function decodeWith<M, D extends EmscriptenDecoder>(
  codec: Lazy<M>,
  newDecoder: (module: M) => D,
  codestream: Uint8Array,
  after?: (decoder: D) => void,
  decode: (decoder: D) => Reduced | undefined = decodeInFull,
): Promise<WasmDecoded> {
  const decoder = newDecoder(await codec());
  try {
    decoder.getEncodedBuffer(codestream.length).set(codestream);
    const reduced = decode(decoder);
    const info = decoder.getFrameInfo();
    after?.(decoder);
    const bytes = decoder.getDecodedBuffer().slice(); // a copy: the view dies with the decoder
    const samples = info.bitsPerSample > 8 ? new Uint16Array(bytes.buffer, 0, bytes.byteLength >> 1) : bytes;
    return {
      samples,
      width: reduced?.width ?? info.width,
      height: reduced?.height ?? info.height,
      components: info.componentCount,
      reduction: reduced?.reduction ?? 0,
    };
  } catch (error) {
    if (error instanceof WasmRuntimeError) codec.forget();
    throw new RenderError('corrupt', `the frame cannot be decoded: ${error instanceof Error ? error.message : 'codec failure'}`);
  } finally {
    try {
      decoder.delete();
    } catch {
      // a decoder of a trapped module may not free; the module is gone anyway
    }
  }
}
