/**
 * e2e: every transfer syntax of test/fixtures/render (README there) stored in the embedded archive and
 * fetched back rendered over HTTP: the PNG answer holds exactly the codec's rendering (lambdas/dicom/render,
 * compared with dcmtk in test/unit/dicom/render), so the service adds no change of its own to the pixels,
 * and the JPEG answer has the image's size. Every fixture's syntax is one the codec decodes (the
 * refusals, 406, are in ./rendered.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPart10 } from '../../lambdas/dicom/part10';
import { renderFrame } from '../../lambdas/dicom/render';
import { FIXTURES_DIR } from '../support/fixtures';
import { stow, tempArchive } from '../support/http';

const DIR = path.join(FIXTURES_DIR, 'render');
const FILES = readdirSync(DIR)
  .filter((name) => name.endsWith('.dcm'))
  .sort();

let archive: Awaited<ReturnType<typeof tempArchive>>;

beforeAll(async () => {
  archive = await tempArchive();
});
afterAll(async () => archive?.close());

describe('rendered answers of every transfer syntax', () => {
  it('has the fixtures', () => {
    expect(FILES.length).toBeGreaterThan(20);
  });

  // Several fixtures share their UIDs (the same image in several transfer syntaxes): one at a time,
  // each deleted after its checks.
  it.each(FILES)('[studies.rendered.200] %s: PNG equal to the codec rendering, JPEG of its size', async (name) => {
    const file = new Uint8Array(readFileSync(path.join(DIR, name)));
    const { dict } = readPart10(file);
    const uid = (tag: string) => dict[tag]!.Value![0] as string;
    const url = `${archive.url}/studies/${uid('0020000D')}/series/${uid('0020000E')}/instances/${uid('00080018')}`;
    expect((await stow(archive.url, [file])).status, name).toBe(200);
    try {
      const expected = await renderFrame(file, 1);
      const png = await fetch(`${url}/frames/1/rendered`, { headers: { Accept: 'image/png' } });
      expect(png.status, name).toBe(200);
      const bytes = Buffer.from(await png.arrayBuffer());
      const meta = await sharp(bytes).metadata();
      expect([meta.width, meta.height, meta.channels], name).toEqual([expected.width, expected.height, expected.channels]);
      const samples =
        expected.channels === 1 ? await sharp(bytes).extractChannel(0).raw().toBuffer() : await sharp(bytes).removeAlpha().raw().toBuffer();
      expect(Buffer.compare(samples, Buffer.from(expected.data)), name).toBe(0);

      const jpeg = await fetch(`${url}/rendered`);
      expect(jpeg.headers.get('content-type')).toBe('image/jpeg');
      const jpegMeta = await sharp(Buffer.from(await jpeg.arrayBuffer())).metadata();
      expect([jpegMeta.width, jpegMeta.height], name).toEqual([expected.width, expected.height]);
    } finally {
      expect((await fetch(url, { method: 'DELETE' })).status, name).toBe(204);
    }
  });
});
