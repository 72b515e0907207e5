/**
 * The Emscripten codec builds, each instantiated on first use and kept for the life of the process
 * (a Lambda execution environment), and the one way a frame goes through any of them: copy the
 * codestream in, decode, copy the samples out, free the decoder.
 */
import type { Samples } from '../grayscale';
import { RenderError } from '../render-error';

/**
 * Emscripten module options sending the codecs' messages (OpenJPEG logs every header it reads)
 * nowhere; a new object per module, since Emscripten builds the module on the object it is given.
 */
export function quiet(): object {
  return { print: () => undefined, printErr: () => undefined };
}

/** A function answering the same promise every call, started on the first. */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined; // a failed load (e.g. out of memory) is tried again next time
      throw error;
    });
    return loaded;
  };
}

export interface WasmDecoded {
  readonly samples: Samples;
  readonly width: number;
  readonly height: number;
  readonly components: number;
}

/**
 * Decodes `codestream` with a fresh decoder of the module; any failure of the codec is the frame's:
 * RenderError('corrupt'). Samples of more than 8 bits come out as 16-bit words (two's complement
 * when signed, which the pipeline reads through Bits Stored and Pixel Representation).
 */
export function decodeWith<D extends EmscriptenDecoder>(decoder: D, codestream: Uint8Array, after?: (decoder: D) => void): WasmDecoded {
  try {
    decoder.getEncodedBuffer(codestream.length).set(codestream);
    decoder.decode();
    const info = decoder.getFrameInfo();
    after?.(decoder);
    const bytes = decoder.getDecodedBuffer().slice(); // a copy: the view dies with the decoder
    const samples = info.bitsPerSample > 8 ? new Uint16Array(bytes.buffer, 0, bytes.byteLength >> 1) : bytes;
    return { samples, width: info.width, height: info.height, components: info.componentCount };
  } catch (error) {
    if (error instanceof RenderError) throw error;
    throw new RenderError('corrupt', `the frame cannot be decoded: ${error instanceof Error ? error.message : 'codec failure'}`);
  } finally {
    decoder.delete();
  }
}
