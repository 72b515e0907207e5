/** image-shrink: the box shrink's samples, and fitInsideSize against sharp's own `fit: 'inside'`. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fitInsideSize, shrinkBy } from '../../../lambdas/dicomweb/image-shrink';

describe('shrinkBy', () => {
  it('averages each k x k block, rounded, leaving out the partial blocks at the right and bottom', () => {
    // 5 x 4 gray, k = 2: blocks of the first four columns and rows; column 4 left out.
    const data = Uint8Array.from([0, 2, 10, 11, 99, 4, 6, 20, 21, 99, 1, 1, 255, 255, 99, 1, 2, 255, 254, 99]);
    const out = shrinkBy({ width: 5, height: 4, channels: 1, data }, 2);
    expect([out.width, out.height, out.channels]).toEqual([2, 2, 1]);
    expect([...out.data]).toEqual([3, 16, 1, 255]); // (0+2+4+6)/4=3, (10+11+20+21)/4=15.5->16, 5/4=1.25->1, 1019/4=254.75->255
  });
  it('averages each channel of interleaved RGB on its own', () => {
    const px = (r: number, g: number, b: number) => [r, g, b];
    const data = Uint8Array.from([...px(10, 0, 255), ...px(20, 0, 255), ...px(30, 100, 0), ...px(40, 100, 0)]);
    const out = shrinkBy({ width: 2, height: 2, channels: 3, data }, 2);
    expect([...out.data]).toEqual([25, 50, 128]); // 127.5 rounds up
  });
});

describe('fitInsideSize', () => {
  it("gives the size sharp's fit: 'inside' gives", async () => {
    const cases: [number, number, number, number][] = [];
    for (const [w, h] of [
      [512, 512],
      [640, 480],
      [480, 640],
      [1000, 333],
      [333, 1000],
      [513, 257],
      [257, 513],
      [3000, 2999],
      [7, 1000],
    ])
      for (const [bw, bh] of [
        [128, 128],
        [100, 50],
        [50, 100],
        [64, 64],
        [37, 91],
      ])
        cases.push([w!, h!, bw!, bh!]);
    for (const [w, h, bw, bh] of cases) {
      const { info } = await sharp(Buffer.alloc(w * h), { raw: { width: w, height: h, channels: 1 } })
        .resize(bw, bh, { fit: 'inside' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect(fitInsideSize({ width: w, height: h }, { width: bw, height: bh }), `${w}x${h} in ${bw}x${bh}`).toEqual({
        width: info.width,
        height: info.height,
      });
    }
  });
});
