/**
 * JPEG 2000 frames decoded at a lower resolution level when the image is scaled down anyway
 * (RenderOptions.fitInside): the size each level gives, and an image close to the full one scaled.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderFrame, type RenderedFrame } from '../../../../lambdas/dicom/render/index';
import { decompositionLevels } from '../../../../lambdas/dicom/render/codecs/jpeg2000';
import { reducedSize, reductionToFit } from '../../../../lambdas/dicom/render/image';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../../../fixtures/render', name));

/** The full frame averaged over blocks of `factor` x `factor` pixels (edges: what is there). */
function blockAverage(full: RenderedFrame, factor: number): number[] {
  const { rows, columns } = reducedSize({ rows: full.height, columns: full.width }, Math.log2(factor));
  const out: number[] = [];
  for (let y = 0; y < rows; y++)
    for (let x = 0; x < columns; x++)
      for (let c = 0; c < full.channels; c++) {
        let sum = 0;
        let n = 0;
        for (let dy = 0; dy < factor && y * factor + dy < full.height; dy++)
          for (let dx = 0; dx < factor && x * factor + dx < full.width; dx++, n++)
            sum += full.data[((y * factor + dy) * full.width + x * factor + dx) * full.channels + c]!;
        out.push(sum / n);
      }
  return out;
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const mean = (v: ArrayLike<number>) => Array.from(v).reduce((sum, x) => sum + x, 0) / n;
  const [ma, mb] = [mean(a), mean(b)];
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const [da, db] = [a[i]! - ma, b[i]! - mb];
    ab += da * db;
    aa += da * da;
    bb += db * db;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('reductionToFit', () => {
  it.each([
    [512, 512, 128, 2],
    [512, 512, 129, 1],
    [512, 512, 512, 0],
    [512, 512, 1024, 0],
    [480, 640, 128, 2], // 640 x 480 into 128: 160 x 120 still covers 128 x 96
    [480, 640, 64, 3],
  ])('%i rows x %i columns into %i: %i levels', (rows, columns, side, levels) => {
    expect(reductionToFit({ rows, columns }, { width: side, height: side })).toBe(levels);
    const { rows: r, columns: c } = reducedSize({ rows, columns }, levels);
    expect(Math.max(r / rows, c / columns) * Math.max(rows, columns)).toBeGreaterThanOrEqual(Math.min(side, Math.max(rows, columns)));
  });

  it('drops nothing without a box', () => {
    expect(reductionToFit({ rows: 512, columns: 512 }, undefined)).toBe(0);
  });
});

describe('renderFrame with fitInside', () => {
  it.each(['ct-j2k-lossless.dcm', 'mr-j2k.dcm', 'rgb-j2k-lossless.dcm', 'ct-htj2k-lossless.dcm', 'mr-htj2k.dcm', 'rgb-htj2k-lossless.dcm'])(
    '%s: a lower resolution level, close to the full image averaged',
    async (name) => {
      const part10 = fixture(name);
      const full = await renderFrame(part10, 1);
      const reduced = await renderFrame(part10, 1, { fitInside: { width: 64, height: 64 } });
      const levels = reductionToFit({ rows: full.height, columns: full.width }, { width: 64, height: 64 });
      expect(levels).toBeGreaterThan(0);
      const size = reducedSize({ rows: full.height, columns: full.width }, levels);
      expect([reduced.width, reduced.height, reduced.channels]).toEqual([size.columns, size.rows, full.channels]);
      // The wavelet's low-pass band is no box average (the sharp edges of these phantoms, windowed,
      // differ most): 0.94-0.99 here; a frame laid out wrong or a sample wrapped past Bits Stored
      // falls to 0.6-0.8.
      expect(correlation(reduced.data, blockAverage(full, 2 ** levels))).toBeGreaterThan(0.92);
    },
  );

  it('holds samples within Bits Stored: an overshoot of the low-pass band does not wrap around', async () => {
    // OpenJPH leaves a 12-bit CT's level-2 coefficients below -2048; read as 12 bits they wrapped to
    // bright pixels in the black background (correlation 0.62).
    const part10 = fixture('ct-htj2k-lossless.dcm');
    const full = await renderFrame(part10, 1);
    const reduced = await renderFrame(part10, 1, { fitInside: { width: 32, height: 32 } });
    expect([reduced.width, reduced.height]).toEqual([32, 32]);
    expect(correlation(reduced.data, blockAverage(full, 4))).toBeGreaterThan(0.8);
  });

  it('reads the decomposition levels from the COD marker segment', () => {
    const siz = [0xff, 0x51, 0x00, 0x04, 0x00, 0x00];
    const cod = [0xff, 0x52, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x04, 0x04, 0x00, 0x01];
    expect(decompositionLevels(Uint8Array.from([0xff, 0x4f, ...siz, ...cod]))).toBe(5);
    expect(decompositionLevels(Uint8Array.from([0xff, 0x4f, ...siz, 0xff, 0x90, 0, 10]))).toBe(0);
    expect(decompositionLevels(Uint8Array.from([0xff, 0x4f, 0x12, 0x34]))).toBe(0);
  });

  it('decodes other transfer syntaxes in full whatever the box', async () => {
    const full = await renderFrame(fixture('ct-jpeg-ls.dcm'), 1);
    const boxed = await renderFrame(fixture('ct-jpeg-ls.dcm'), 1, { fitInside: { width: 16, height: 16 } });
    expect(boxed).toEqual(full);
  });
});
