/**
 * e2e: the rendered and thumbnail resources (PS3.18 10.4.1.1.3-4) over HTTP against an embedded
 * archive: every resource in image/jpeg, image/png and image/gif decoded again with sharp, the query
 * parameters of PS3.18 8.3.5, ETag / If-None-Match, the cached thumbnail and its removal by Delete,
 * and every status row of the conformance statement's rendered and thumbnail tables.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SopClass, newUid } from '../../lambdas/dicom/uid';
import { thumbnailKey } from '../../lambdas/dicomweb/derived-images';
import { makeInstance } from '../support/dicom-factory';
import { FIXTURES, FIXTURES_DIR, FIXTURE_STUDY_UID } from '../support/fixtures';
import { multipartParts, stow, tempArchive } from '../support/http';

let archive: Awaited<ReturnType<typeof tempArchive>>;
let base: string;

const ORIGIN = 'https://viewer.example';
const study = newUid();
const series = newUid();
/** 64 x 48, 8-bit MONOCHROME2, 3 frames: byte i of frame f is (i * 7 + f) & 0xff (pixelFrame). */
const multi = { sop: newUid(), rows: 48, columns: 64, frames: 3 };
/** 256 x 256 single frame: its thumbnail is scaled down to 128 x 128. */
const large = { sop: newUid(), series: newUid() };
const report = { sop: newUid() };

const at = (frame: number, x: number, y: number, columns = multi.columns) => ((y * columns + x) * 7 + frame) & 0xff;

function instancePath(s: string, sop: string, st = study) {
  return `${base}/studies/${st}/series/${s}/instances/${sop}`;
}
const multiPath = () => instancePath(series, multi.sop);

beforeAll(async () => {
  archive = await tempArchive({ env: { CORS_ALLOWED_ORIGINS: ORIGIN, MAX_RESPONSE_BYTES: String(8 * 1024 * 1024) } });
  base = archive.url;
  const common = { studyInstanceUID: study, bitsAllocated: 8 as const, patientName: 'Render^Test' };
  const files = [
    makeInstance({
      ...common,
      seriesInstanceUID: series,
      sopInstanceUID: multi.sop,
      rows: multi.rows,
      columns: multi.columns,
      numberOfFrames: multi.frames,
      extra: { FrameTime: '40' },
      seriesNumber: 1,
      instanceNumber: 1,
    }),
    makeInstance({
      ...common,
      seriesInstanceUID: large.series,
      sopInstanceUID: large.sop,
      rows: 256,
      columns: 256,
      seriesNumber: 2,
      instanceNumber: 1,
    }),
    // No Pixel Data: nothing to render.
    makeInstance({
      ...common,
      seriesInstanceUID: series,
      sopInstanceUID: report.sop,
      sopClassUID: SopClass.CTImageStorage,
      instanceNumber: 2,
      omit: [
        'PixelData',
        'Rows',
        'Columns',
        'BitsAllocated',
        'BitsStored',
        'HighBit',
        'PixelRepresentation',
        'SamplesPerPixel',
        'PhotometricInterpretation',
        'NumberOfFrames',
      ],
    }),
  ];
  expect((await stow(base, files)).status).toBe(200);
  const fixtures = Object.keys(FIXTURES).map((name) => new Uint8Array(readFileSync(path.join(FIXTURES_DIR, name))));
  expect((await stow(base, fixtures)).status).toBe(200);
});
afterAll(async () => archive?.close());

async function image(response: Response) {
  const bytes = Buffer.from(await response.arrayBuffer());
  const meta = await sharp(bytes, { animated: true }).metadata();
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { bytes, meta, info, pixel: (x: number, y: number) => data[(y * info.width + x) * info.channels]! };
}

async function statusReport(response: Response) {
  expect(response.headers.get('content-type')).toContain('application/json');
  return (await response.json()) as { status: number; detail: string; errors?: { target?: string; message: string }[] };
}

describe('Rendered resources (PS3.18 10.4.1.1.3)', () => {
  it('[studies.rendered.200] an instance in image/jpeg (the default), image/png and image/gif, pixels through the pipeline', async () => {
    const jpeg = await fetch(`${multiPath()}/rendered`);
    expect(jpeg.status).toBe(200);
    expect(jpeg.headers.get('content-type')).toBe('image/jpeg');
    const j = await image(jpeg);
    expect([j.meta.format, j.info.width, j.info.height]).toEqual(['jpeg', 64, 48]);

    const png = await image(await fetch(`${multiPath()}/rendered`, { headers: { Accept: 'image/png' } }));
    expect([png.meta.format, png.info.width, png.info.height, png.meta.channels]).toEqual(['png', 64, 48, 1]);
    // 8-bit values covering 0..255, no window in the instance: min-max, so each value is kept (PS3.3 C.11.2).
    for (const [x, y] of [
      [1, 0],
      [30, 0],
      [10, 20],
    ] as const)
      expect(Math.abs(png.pixel(x, y) - at(1, x, y))).toBeLessThanOrEqual(1);

    const gif = await fetch(`${multiPath()}/rendered?accept=image/gif`);
    expect(gif.headers.get('content-type')).toBe('image/gif');
    const g = await image(gif);
    // A multi-frame instance asked as image/gif: every frame, animated.
    expect([g.meta.format, g.meta.pages, g.meta.width, g.meta.pageHeight]).toEqual(['gif', multi.frames, 64, 48]);
    // At the instance's Frame Time (PS3.3 C.7.6.5).
    expect(g.meta.delay).toEqual([40, 40, 40]);
  });

  it('[studies.rendered.200] frames: one image for one frame, multipart/related for several', async () => {
    const one = await image(await fetch(`${multiPath()}/frames/2/rendered`, { headers: { Accept: 'image/png' } }));
    expect(Math.abs(one.pixel(30, 0) - at(2, 30, 0))).toBeLessThanOrEqual(1);

    const several = await fetch(`${multiPath()}/frames/3,1/rendered`, { headers: { Accept: 'multipart/related; type="image/png"' } });
    expect(several.status).toBe(200);
    expect(several.headers.get('content-type')).toMatch(/^multipart\/related; type="image\/png"; boundary=/);
    const parts = await multipartParts(several);
    expect(parts.map((p) => p.headers['content-location'])).toEqual([
      `${multiPath()}/frames/3/rendered`,
      `${multiPath()}/frames/1/rendered`,
    ]);
    const first = await sharp(parts[0]!.body).extractChannel(0).raw().toBuffer();
    expect(Math.abs(first[30]! - at(3, 30, 0))).toBeLessThanOrEqual(1);
  });

  it('[studies.rendered.200] the window parameter changes the pixels; the viewport scales and cuts', async () => {
    const windowed = await image(
      await fetch(`${multiPath()}/frames/1/rendered?window=128,64,linear`, { headers: { Accept: 'image/png' } }),
    );
    // PS3.3 C.11.2.1.2.1: at or below 96 black, above 159 white.
    expect(at(1, 1, 0)).toBe(8);
    expect(windowed.pixel(1, 0)).toBe(0);
    expect(at(1, 30, 0)).toBe(211);
    expect(windowed.pixel(30, 0)).toBe(255);

    const fitted = await image(await fetch(`${multiPath()}/rendered?viewport=32,32`, { headers: { Accept: 'image/png' } }));
    expect([fitted.info.width, fitted.info.height]).toEqual([32, 24]);
    const cut = await image(await fetch(`${multiPath()}/rendered?viewport=10,10,30,0,10,10`, { headers: { Accept: 'image/png' } }));
    expect([cut.info.width, cut.info.height]).toEqual([10, 10]);
    expect(Math.abs(cut.pixel(0, 0) - at(1, 30, 0))).toBeLessThanOrEqual(1);
  });

  it('[studies.rendered.200] quality and iccprofile=srgb reach the JPEG', async () => {
    const low = await fetch(`${multiPath()}/rendered?quality=5`);
    const high = await fetch(`${multiPath()}/rendered?quality=100&iccprofile=srgb`);
    const [l, h] = [await image(low), await image(high)];
    expect(l.bytes.byteLength).toBeLessThan(h.bytes.byteLength);
    expect(h.meta.icc).toBeDefined();
    expect(l.meta.icc).toBeUndefined();
  });

  it('[studies.rendered.206] a study of images and instances that cannot be rendered: the images, and a Warning', async () => {
    const r = await fetch(`${base}/studies/${study}/rendered`);
    expect(r.status).toBe(206);
    expect(r.headers.get('warning')).toMatch(/^299 .* "1 of 3 instance\(s\) have no image that can be rendered"$/);
    const parts = await multipartParts(r);
    expect(parts.map((p) => p.headers['content-type'])).toEqual(['image/jpeg', 'image/jpeg']);
    const sizes = await Promise.all(parts.map(async (p) => (await sharp(p.body).metadata()).width));
    expect(sizes.sort()).toEqual([256, 64]);
  });

  it('[studies.rendered.200] a series of images, each part an image of the negotiated type', async () => {
    const r = await fetch(`${base}/studies/${study}/series/${large.series}/rendered`, { headers: { Accept: 'image/png' } });
    expect(r.status).toBe(200);
    const parts = await multipartParts(r);
    expect(parts).toHaveLength(1);
    expect(parts[0]!.headers['content-location']).toBe(`${instancePath(large.series, large.sop)}/rendered`);
    expect((await sharp(parts[0]!.body).metadata()).format).toBe('png');
  });

  it('[studies.rendered.304] ETag and Cache-Control; If-None-Match answers 304, another rendering another ETag', async () => {
    const r = await fetch(`${multiPath()}/rendered?window=40,400,linear`);
    const etag = r.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(r.headers.get('cache-control')).toBe('private, max-age=86400');
    const again = await fetch(`${multiPath()}/rendered?window=+40,400,LINEAR`, { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    const other = await fetch(`${multiPath()}/rendered?window=41,400,linear`, { headers: { 'If-None-Match': etag } });
    expect(other.status).toBe(200);
    expect(other.headers.get('etag')).not.toBe(etag);
  });

  it.each([
    ['window', 'window=40'],
    ['window', 'window=40,0,linear'],
    ['window', 'window=40,400,cubic'],
    ['viewport', 'viewport=0,10'],
    ['viewport', 'viewport=10,10,1'],
    ['viewport', 'viewport=10,10,60,0,10,10'],
    ['quality', 'quality=101'],
    ['annotation', 'annotation=weather'],
    ['iccprofile', 'iccprofile=adobergb'],
  ])('[studies.rendered.400] 400 with a Status Report naming %s for %s', async (target, query) => {
    const r = await fetch(`${multiPath()}/rendered?${query}`);
    expect(r.status).toBe(400);
    expect((await statusReport(r)).errors?.[0]?.target).toBe(target);
  });

  it('[studies.rendered.400] 400 for a malformed UID or frame list', async () => {
    expect((await fetch(`${base}/studies/1.2.x/rendered`)).status).toBe(400);
    expect((await fetch(`${multiPath()}/frames/0/rendered`)).status).toBe(400);
  });

  it('[studies.rendered.404] 404 for an unknown study, series or instance, and for frames beyond Number of Frames', async () => {
    expect((await fetch(`${base}/studies/${newUid()}/rendered`)).status).toBe(404);
    expect((await fetch(`${base}/studies/${study}/series/${newUid()}/rendered`)).status).toBe(404);
    expect((await fetch(`${instancePath(series, newUid())}/rendered`)).status).toBe(404);
    const beyond = await fetch(`${multiPath()}/frames/2,4/rendered`);
    expect(beyond.status).toBe(404);
    expect((await statusReport(beyond)).detail).toContain('4');
  });

  it('[studies.rendered.406] 406 for a media type other than the rendered ones, an instance without Pixel Data, or pixels that cannot be decoded', async () => {
    for (const accept of ['application/dicom', 'image/jp2', 'video/mp4']) {
      const r = await fetch(`${multiPath()}/rendered`, { headers: { Accept: accept } });
      expect(r.status, accept).toBe(406);
      expect((await statusReport(r)).errors?.[0]?.message).toContain('image/jpeg');
    }
    const noPixels = await fetch(`${instancePath(series, report.sop)}/rendered`);
    expect(noPixels.status).toBe(406);
    expect((await statusReport(noPixels)).detail).toContain('Pixel Data');
    // The fixture's "JPEG" fragments are not JPEG (test/fixtures/README.md).
    const us = FIXTURES['us-multiframe-jpeg.dcm']!;
    const undecodable = await fetch(`${instancePath(us.seriesInstanceUID, us.sopInstanceUID, FIXTURE_STUDY_UID)}/frames/1/rendered`);
    expect(undecodable.status).toBe(406);
    await statusReport(undecodable);
  });

  it('[studies.rendered.410] 410 once the instance was deleted', async () => {
    const s = newUid();
    const sop = newUid();
    expect(
      (await stow(base, [makeInstance({ studyInstanceUID: s, sopInstanceUID: sop, seriesInstanceUID: series, bitsAllocated: 8 })])).status,
    ).toBe(200);
    expect((await fetch(`${instancePath(series, sop, s)}/rendered`)).status).toBe(200);
    expect((await fetch(`${base}/studies/${s}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${instancePath(series, sop, s)}/rendered`)).status).toBe(410);
    expect((await fetch(`${base}/studies/${s}/thumbnail`)).status).toBe(410);
  });

  it('the fixtures of every stored transfer syntax the archive decodes render at their size', async () => {
    for (const name of ['ct-explicit-le.dcm', 'mr-implicit-le.dcm']) {
      const f = FIXTURES[name]!;
      const r = await fetch(`${instancePath(f.seriesInstanceUID, f.sopInstanceUID, FIXTURE_STUDY_UID)}/rendered`, {
        headers: { Accept: 'image/png' },
      });
      expect(r.status, name).toBe(200);
      const { info } = await image(r);
      expect([info.width, info.height], name).toEqual([32, 32]);
    }
  });
});

describe('Thumbnail resources (PS3.18 10.4.1.1.4)', () => {
  it('[studies.thumbnail.200] of an instance and its frames: small, in the negotiated type', async () => {
    const t = await fetch(`${instancePath(large.series, large.sop)}/thumbnail`);
    expect(t.status).toBe(200);
    expect(t.headers.get('content-type')).toBe('image/jpeg');
    expect((await image(t)).info.width).toBe(128);
    const png = await image(await fetch(`${multiPath()}/frames/2/thumbnail`, { headers: { Accept: 'image/png' } }));
    // Smaller than the thumbnail's square: not enlarged.
    expect([png.meta.format, png.info.width, png.info.height]).toEqual(['png', 64, 48]);
    expect(Math.abs(png.pixel(30, 0) - at(2, 30, 0))).toBeLessThanOrEqual(1);
    const viewport = await image(await fetch(`${instancePath(large.series, large.sop)}/thumbnail?viewport=50,50`));
    expect([viewport.info.width, viewport.info.height]).toEqual([50, 50]);
  });

  it('[studies.thumbnail.200] of a study and a series: the representative instance (first series by Series Number, its middle image)', async () => {
    const s = await fetch(`${base}/studies/${study}/thumbnail`, { headers: { Accept: 'image/gif' } });
    expect(s.status).toBe(200);
    const g = await image(s);
    // Series 1 holds the 64 x 48 image (and an instance without Pixel Data, never chosen); a thumbnail is one frame.
    expect([g.meta.format, g.info.width, g.info.height, g.meta.pages ?? 1]).toEqual(['gif', 64, 48, 1]);
    const se = await image(await fetch(`${base}/studies/${study}/series/${large.series}/thumbnail`));
    expect(se.info.width).toBe(128);
  });

  it('[studies.thumbnail.200] the default thumbnail is cached beside the instance, and removed with it by Delete', async () => {
    const s = newUid();
    const sop = newUid();
    const se = newUid();
    expect(
      (
        await stow(base, [
          makeInstance({ studyInstanceUID: s, seriesInstanceUID: se, sopInstanceUID: sop, bitsAllocated: 8, rows: 40, columns: 40 }),
        ])
      ).status,
    ).toBe(200);
    const entry = await archive.services.index.getInstance(s, se, sop);
    const key = thumbnailKey(entry!.instance!, 'image/png');
    expect(await archive.services.blobs.get(key)).toBeUndefined();
    const first = await fetch(`${instancePath(se, sop, s)}/thumbnail`, { headers: { Accept: 'image/png' } });
    const firstBytes = Buffer.from(await first.arrayBuffer());
    const cached = await archive.services.blobs.get(key);
    expect(cached && Buffer.from(cached).equals(firstBytes)).toBe(true);
    // Served from the cache: the stored image, byte for byte.
    await archive.services.blobs.put(
      key,
      new Uint8Array(
        await sharp({ create: { width: 3, height: 3, channels: 3, background: '#f00' } })
          .png()
          .toBuffer(),
      ),
      'image/png',
    );
    const second = await image(await fetch(`${instancePath(se, sop, s)}/thumbnail`, { headers: { Accept: 'image/png' } }));
    expect(second.info.width).toBe(3);
    expect((await fetch(`${instancePath(se, sop, s)}`, { method: 'DELETE' })).status).toBe(204);
    expect(await archive.services.blobs.get(key)).toBeUndefined();
  });

  it('[studies.thumbnail.304] ETag and Cache-Control; If-None-Match answers 304', async () => {
    const r = await fetch(`${base}/studies/${study}/thumbnail`);
    expect(r.headers.get('cache-control')).toBe('private, max-age=86400');
    const again = await fetch(`${base}/studies/${study}/thumbnail`, { headers: { 'If-None-Match': `W/"x", ${r.headers.get('etag')}` } });
    expect(again.status).toBe(304);
  });

  it('[studies.thumbnail.400] 400 for a malformed viewport, UID or frame list; other rendering parameters are ignored', async () => {
    const bad = await fetch(`${base}/studies/${study}/thumbnail?viewport=10`);
    expect(bad.status).toBe(400);
    expect((await statusReport(bad)).errors?.[0]?.target).toBe('viewport');
    expect((await fetch(`${base}/studies/x/thumbnail`)).status).toBe(400);
    expect((await fetch(`${multiPath()}/frames/a/thumbnail`)).status).toBe(400);
    expect((await fetch(`${multiPath()}/thumbnail?window=oops`)).status).toBe(200);
  });

  it('[studies.thumbnail.404] 404 for an unknown resource or a frame beyond Number of Frames', async () => {
    expect((await fetch(`${base}/studies/${newUid()}/thumbnail`)).status).toBe(404);
    expect((await fetch(`${multiPath()}/frames/9/thumbnail`)).status).toBe(404);
    expect((await fetch(`${multiPath()}/frames/1,9/thumbnail`)).status).toBe(404);
  });

  it('[studies.thumbnail.406] 406 for a media type other than the rendered ones, or a resource without an image', async () => {
    const r = await fetch(`${base}/studies/${study}/thumbnail`, { headers: { Accept: 'application/dicom+json' } });
    expect(r.status).toBe(406);
    await statusReport(r);
    expect((await fetch(`${instancePath(series, report.sop)}/thumbnail`)).status).toBe(406);
  });
});

describe('Rendered resources in the embedded runtime', () => {
  it('OPTIONS is Retrieve Capabilities; a CORS preflight from an allowed origin is answered as for retrieve', async () => {
    const options = await fetch(`${multiPath()}/rendered`, { method: 'OPTIONS' });
    expect(options.status).toBe(200);
    expect(await options.text()).toContain('RetrieveRenderedInstance');
    const preflight = await fetch(`${multiPath()}/thumbnail`, {
      method: 'OPTIONS',
      headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'if-none-match' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const get = await fetch(`${multiPath()}/thumbnail`, { headers: { Origin: ORIGIN } });
    expect(get.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(get.headers.get('vary')).toMatch(/Accept.*Origin/);
  });
});
