/** The codec modules' life: loaded once, forgotten after a WebAssembly trap, a codec failure always a RenderError. */
import { describe, expect, it, vi } from 'vitest';
import { decodeWith, once } from '../../../../../lambdas/dicom/render/codecs/wasm';

/** A stand-in for an Emscripten decoder whose decode() throws `failure`, if any. */
function fakeDecoder(failure?: Error) {
  const buffer = new Uint8Array(4);
  return {
    getEncodedBuffer: () => buffer,
    getDecodedBuffer: () => Uint8Array.of(1, 2, 3, 4),
    decode: () => {
      if (failure) throw failure;
    },
    getFrameInfo: () => ({ width: 2, height: 2, bitsPerSample: 8, componentCount: 1 }),
    delete: vi.fn(),
  };
}

describe('once', () => {
  it('loads on the first call only, and again after a failed load', async () => {
    const load = vi.fn().mockRejectedValueOnce(new Error('out of memory')).mockResolvedValue('module');
    const module = once(load);
    expect(load).not.toHaveBeenCalled(); // nothing is loaded before a frame needs it
    await expect(module()).rejects.toThrow('out of memory');
    expect(await module()).toBe('module');
    expect(await module()).toBe('module');
    expect(load).toHaveBeenCalledTimes(2);
  });
});

describe('decodeWith', () => {
  it('copies the samples out and frees the decoder', async () => {
    const decoder = fakeDecoder();
    const decoded = await decodeWith(
      once(async () => 'module'),
      () => decoder,
      Uint8Array.of(9),
    );
    expect(decoded).toEqual({ samples: Uint8Array.of(1, 2, 3, 4), width: 2, height: 2, components: 1, reduction: 0 });
    expect(decoder.delete).toHaveBeenCalled();
  });
  it('answers corrupt for a codec error and keeps the module', async () => {
    const load = vi.fn(async () => 'module');
    const codec = once(load);
    await expect(decodeWith(codec, () => fakeDecoder(new Error('bad marker')), Uint8Array.of(9))).rejects.toMatchObject({
      reason: 'corrupt',
    });
    await decodeWith(codec, () => fakeDecoder(), Uint8Array.of(9));
    expect(load).toHaveBeenCalledTimes(1);
  });
  it('answers corrupt for a WebAssembly trap and loads a new module for the next frame', async () => {
    const load = vi.fn(async () => 'module');
    const codec = once(load);
    const { RuntimeError } = (globalThis as unknown as { WebAssembly: { RuntimeError: new (m: string) => Error } }).WebAssembly;
    const trap = new RuntimeError('Aborted()');
    await expect(decodeWith(codec, () => fakeDecoder(trap), Uint8Array.of(9))).rejects.toMatchObject({ reason: 'corrupt' });
    await decodeWith(codec, () => fakeDecoder(), Uint8Array.of(9));
    expect(load).toHaveBeenCalledTimes(2);
  });
});
