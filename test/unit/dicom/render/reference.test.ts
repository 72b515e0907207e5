/**
 * Renderings of every transfer syntax compared with an independent renderer: dcmtk's dcmj2pnm /
 * dcml2pnm (PGM/PPM) under the same window. Lossless syntaxes: identical 8-bit pixels, but for native
 * YBR_FULL, where dcmtk's 8-bit path truncates each chroma term of C.7.6.3.1.2 separately (|diff| <= 2).
 * Lossy syntaxes: correlation > 0.99. JPEG 2000 and HTJ2K, which dcmtk 3.6.7 lacks, against the
 * rendering of the native source they were encoded from.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderFrame, RenderError, type RenderedFrame, type RenderOptions } from '../../../../lambdas/dicom/render/index';

const FIXTURES = join(import.meta.dirname, '../../../fixtures/render');
const DCMTK = existsSync('/usr/bin/dcmj2pnm');
if (!DCMTK) console.warn('reference.test.ts: /usr/bin/dcmj2pnm missing (apt-get install dcmtk): dcmtk comparisons skipped');

const fixture = (name: string) => readFileSync(join(FIXTURES, `${name}.dcm`));

/** A PGM (P5) or PPM (P6) of 8-bit samples as dcmtk writes it: header, then samples. */
function readPnm(bytes: Buffer): RenderedFrame {
  const fields: string[] = [];
  let at = 0;
  while (fields.length < 4) {
    while (/\s/.test(String.fromCharCode(bytes[at]!))) at++;
    let field = '';
    while (!/\s/.test(String.fromCharCode(bytes[at]!))) field += String.fromCharCode(bytes[at++]!);
    fields.push(field);
  }
  const [magic, width, height, max] = fields;
  expect(max).toBe('255');
  return { width: Number(width), height: Number(height), channels: magic === 'P6' ? 3 : 1, data: bytes.subarray(at + 1) };
}

function dcmtkRendering(name: string, frame: number, args: readonly string[]): RenderedFrame {
  const tool = name.includes('jpeg-ls') ? 'dcml2pnm' : 'dcmj2pnm';
  return readPnm(execFileSync(tool, ['+F', String(frame), ...args, join(FIXTURES, `${name}.dcm`)], { maxBuffer: 1 << 24 }));
}

function maxDifference(a: RenderedFrame, b: RenderedFrame): number {
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!));
  return max;
}

function correlation(a: Uint8Array, b: Uint8Array): number {
  const n = a.length;
  let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0; // prettier-ignore
  for (let i = 0; i < n; i++) {
    sa += a[i]!;
    sb += b[i]!;
    saa += a[i]! * a[i]!;
    sbb += b[i]! * b[i]!;
    sab += a[i]! * b[i]!;
  }
  return (n * sab - sa * sb) / Math.sqrt((n * saa - sa * sa) * (n * sbb - sb * sb));
}

function expectSameSize(ours: RenderedFrame, reference: RenderedFrame) {
  expect([ours.width, ours.height, ours.channels]).toEqual([reference.width, reference.height, reference.channels]);
  expect(ours.data.length).toBe(reference.data.length);
}

const window = (center: number, width: number): RenderOptions => ({ window: { center, width, function: 'LINEAR' } });

/** [fixture, frame, our options, dcmtk's arguments for the same window, largest difference allowed]. */
const LOSSLESS: readonly [string, number, RenderOptions, readonly string[], number][] = [
  ...['ct', 'ct-implicit', 'ct-big-endian', 'ct-deflated', 'ct-rle', 'ct-jpeg-lossless', 'ct-jpeg-lossless-sv1', 'ct-jpeg-ls'].flatMap(
    (name): [string, number, RenderOptions, readonly string[], number][] => [
      [name, 1, {}, ['+Wi', '1'], 0], // the instance's first window
      [name, 1, window(300, 1500), ['+Wi', '2'], 0],
      [name, 1, window(-500, 1), ['+Ww', '-500', '1'], 0],
    ],
  ),
  ...['mr', 'mr-jpeg-ls'].map((name): [string, number, RenderOptions, readonly string[], number] => [name, 1, {}, ['+Wm'], 0]), // min-max
  ['mr', 1, window(2000, 3000), ['+Ww', '2000', '3000'], 0],
  ['mono8', 1, {}, ['+Wm'], 0],
  ['mono1', 1, {}, ['+Wi', '1'], 0],
  ['mono1', 1, window(300, 200), ['+Ww', '300', '200'], 0],
  ['modality-lut', 1, {}, ['+Wm'], 0],
  ['modality-lut', 1, window(2000, 1000), ['+Ww', '2000', '1000'], 0],
  ['voi-lut', 1, {}, ['+Wl', '1'], 0],
  ...(['ct', 'ct-rle', 'mono1'] as const).map((name): [string, number, RenderOptions, readonly string[], number] => [
    name,
    1,
    { window: { center: 300, width: 700, function: 'SIGMOID' } },
    ['+Ww', '300', '700', '+Wfs'],
    0,
  ]),
  ['palette', 1, {}, [], 0],
  ...['rgb', 'rgb-big-endian', 'rgb-rle', 'rgb-jpeg-lossless-sv1', 'rgb-jpeg-ls', 'ybr-full-422'].map(
    (name): [string, number, RenderOptions, readonly string[], number] => [name, 1, {}, [], 0],
  ),
  ['ybr-full', 1, {}, [], 2],
];

describe.skipIf(!DCMTK)('renderFrame against dcmtk, lossless transfer syntaxes: the same pixels', () => {
  it.each(LOSSLESS)('%s frame %i %j = dcmtk %j', async (name, frame, options, args, tolerance) => {
    const ours = await renderFrame(fixture(name), frame, options);
    const reference = dcmtkRendering(name, frame, args);
    expectSameSize(ours, reference);
    expect(maxDifference(ours, reference)).toBeLessThanOrEqual(tolerance);
  });

  // dcmtk 3.6.7 reads no per-frame Pixel Value Transformation: it windows stored values, so each
  // frame's window is given to it shifted by that frame's Rescale Intercept.
  it.each(
    [
      [1, 40 + 1024, 400],
      [2, -600 + 1024, 1200],
      [3, 40 + 924, 400],
    ].flatMap(([frame, center, width]) =>
      ['enhanced-ct', 'enhanced-ct-rle', 'enhanced-ct-jpeg-ls'].map((name) => [name, frame!, center!, width!] as const),
    ),
  )('%s frame %i: its own rescale and window (Per-Frame Functional Groups)', async (name, frame, center, width) => {
    const ours = await renderFrame(fixture(name), frame);
    const reference = dcmtkRendering(name, frame, ['+Ww', String(center), String(width)]);
    expectSameSize(ours, reference);
    expect(maxDifference(ours, reference)).toBe(0);
  });
});

describe.skipIf(!DCMTK)('renderFrame against dcmtk, lossy transfer syntaxes: correlation > 0.99', () => {
  it.each([
    ['mono8-jpeg-baseline', ['+Wm']],
    ['mono8-jpeg-extended', ['+Wm']],
    ['rgb-jpeg-baseline', []],
    ['mr-jpeg-ls-near', ['+Wm']],
  ] as const)('%s', async (name, args) => {
    const ours = await renderFrame(fixture(name), 1);
    const reference = dcmtkRendering(name, 1, args);
    expectSameSize(ours, reference);
    expect(correlation(ours.data, reference.data)).toBeGreaterThan(0.99);
  });
});

describe('renderFrame of JPEG 2000 and HTJ2K against the native source they encode', () => {
  it.each([
    ['mr-j2k-lossless', 'mr', true],
    ['ct-j2k-lossless', 'ct', true],
    ['ct-htj2k-lossless', 'ct', true],
    ['mr-htj2k-lossless', 'mr', true],
    ['rgb-j2k-lossless', 'rgb', true],
    ['rgb-htj2k-lossless', 'rgb', true],
    ['mr-j2k', 'mr', false],
    ['mr-htj2k', 'mr', false],
  ] as const)('%s renders as %s (reversible: %s)', async (name, source, reversible) => {
    // A fixed window over each image's values: min-max of a lossy frame would move with its error.
    const options = source === 'ct' ? window(-200, 2000) : window(1600, 3000);
    const ours = await renderFrame(fixture(name), 1, options);
    const native = await renderFrame(fixture(source), 1, options);
    expectSameSize(ours, native);
    if (reversible) expect(maxDifference(ours, native)).toBe(0);
    else {
      expect(maxDifference(ours, native)).toBeGreaterThan(0); // irreversible indeed
      expect(correlation(ours.data, native.data)).toBeGreaterThan(0.99);
    }
  });
});

describe.skipIf(!DCMTK)('JPEG Extended with 12-bit samples (process 4), decoded by IJG libjpeg as dcmtk decodes it', () => {
  // dcmtk's dcmj2pnm decodes with the same 12-bit IJG library: the lossy frames come out identical.
  it.each([
    ['mr-jpeg-extended', {}, ['+Wm']],
    ['ct-jpeg-extended', {}, ['+Wi', '1']],
    ['ct-jpeg-extended', window(300, 1500), ['+Wi', '2']],
  ] as const)('%s %j = dcmtk %j', async (name, options, args) => {
    const ours = await renderFrame(fixture(name), 1, options);
    const reference = dcmtkRendering(name, 1, args);
    expectSameSize(ours, reference);
    expect(maxDifference(ours, reference)).toBe(0);
    expect(correlation(ours.data, dcmtkRendering(name.replace('-jpeg-extended', ''), 1, args).data)).toBeGreaterThan(0.99);
  });
});

describe('JPEG Extended with 12-bit samples, damaged', () => {
  const damaged = (change: (part10: Buffer, at: (marker: number) => number) => void) => {
    const part10 = Buffer.from(fixture('ct-jpeg-extended'));
    change(part10, (marker) => part10.indexOf(Buffer.from([0xff, marker])));
    return part10;
  };
  const reason = (part10: Buffer) =>
    renderFrame(part10, 1).then(
      () => 'rendered',
      (e: unknown) => (e instanceof RenderError ? e.reason : String(e)),
    );

  it('answers corrupt when the codec refuses the codestream (no Start of Scan)', async () => {
    expect(await reason(damaged((p, at) => (p[at(0xda) + 1] = 0x00)))).toBe('corrupt');
  });
  it('answers corrupt when the frame header gives another size than Rows and Columns', async () => {
    // SOF1's Y (number of lines) from 128 to 512: the codec would size its output from Rows alone.
    expect(await reason(damaged((p, at) => p.writeUInt16BE(512, at(0xc1) + 5)))).toBe('corrupt');
    expect(await reason(damaged((p, at) => p.writeUInt16BE(64, at(0xc1) + 7)))).toBe('corrupt');
  });
  it('still decodes the intact frame after a refusal', async () => {
    await reason(damaged((p, at) => (p[at(0xda) + 1] = 0x00)));
    expect(await reason(fixture('ct-jpeg-extended'))).toBe('rendered');
  });
});
