/**
 * JPEG Extended with 12-bit samples (PS3.5 A.4.1, ITU-T T.81 process 4): the IJG libjpeg 12-bit
 * decoder of the dcmjs-codecs WebAssembly build (the one DCMTK links), since libjpeg-turbo's 8-bit
 * build, which decodes 8-bit Baseline and Extended (./jpeg.ts), cannot. The build is 4 MB, loaded on
 * the first 12-bit frame only and kept for the life of the process.
 */
import type { Context as ContextType, NativeCodecs as NativeCodecsType } from 'dcmjs-codecs';
import type { ImagePixel } from '../image';
import type { JpegFrameHeader } from './jpeg';
import { RenderError } from '../render-error';
import { once } from './wasm';
import type { WasmDecoded } from './wasm';

type Codecs = typeof NativeCodecsType;

const nativeCodecs = once(async (): Promise<{ codecs: Codecs; Context: typeof ContextType }> => {
  const module = await import('dcmjs-codecs');
  const { NativeCodecs, Context } = module.default ?? module; // a CommonJS module: its exports as default
  // Without a path the build finds its .wasm beside its own script, where npm (or the render layer) put it.
  if (!NativeCodecs.isInitialized()) await NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false });
  return { codecs: NativeCodecs, Context };
});

/**
 * Decodes a 12-bit JPEG frame to 16-bit words, one per sample, component-interleaved. The codec sizes
 * its output from the data set's attributes, so a frame header (`header`, read by the caller) of
 * another size is refused before decoding.
 */
export async function decodeJpeg12(frame: Uint8Array, image: ImagePixel, header: JpegFrameHeader): Promise<WasmDecoded> {
  if (header.samplesPerLine !== image.columns || header.lines !== image.rows || header.components !== image.samplesPerPixel)
    throw new RenderError(
      'corrupt',
      `the frame header gives ${header.samplesPerLine}x${header.lines}x${header.components}, not Columns x Rows x Samples per Pixel`,
    );
  const { codecs, Context } = await nativeCodecs();
  let decoded: Uint8Array | undefined;
  try {
    const context = new Context({
      width: image.columns,
      height: image.rows,
      bitsAllocated: 16,
      bitsStored: image.bitsStored,
      samplesPerPixel: image.samplesPerPixel,
      pixelRepresentation: image.signed ? 1 : 0,
      planarConfiguration: 0,
      photometricInterpretation: image.photometricInterpretation,
      encodedBuffer: frame,
    });
    const out = codecs.decodeJpeg(context, { convertColorspaceToRgb: image.samplesPerPixel === 3 });
    decoded = out.getDecodedBuffer();
  } catch (error) {
    throw new RenderError('corrupt', `the frame cannot be decoded: ${error instanceof Error ? error.message : 'codec failure'}`);
  }
  const [width, height, components] = [image.columns, image.rows, image.samplesPerPixel];
  const length = width * height * components * 2;
  if (!decoded || decoded.byteLength < length) throw new RenderError('corrupt', 'the frame decodes to fewer samples than its size');
  const bytes = decoded.slice(0, length); // an aligned copy of the codec's output
  return { samples: new Uint16Array(bytes.buffer, 0, length >> 1), width, height, components, reduction: 0 };
}
