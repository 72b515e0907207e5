import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MultipartError, parseMultipartRelated } from '../../../../lambdas/dicom/multipart';
import { writeMultipartFiles } from '../../../../lib/cli/multipart-files';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'multipart-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function* chunked(body: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
}

async function written(body: Buffer, size: number, keep = 4) {
  const parts = [];
  for await (const part of writeMultipartFiles(chunked(body, size), 'XyZ', (i) => path.join(dir, `p${i}`), keep)) {
    parts.push({ headers: part.headers, body: await readFile(part.path), head: part.head, size: part.size });
  }
  return parts;
}

const BODIES: Record<string, string> = {
  plain:
    '--XyZ\r\nContent-Type: application/dicom\r\n\r\nfirst part\r\n--XyZ\r\nContent-Type: application/dicom\r\n\r\nsecond\r\n--XyZ--\r\n',
  'preamble, padding, epilogue': 'preamble\r\n--XyZ  \r\nA: 1\r\n\r\nbody\r\n--XyZ--\r\nepilogue',
  'no headers, empty body': '--XyZ\r\n\r\n\r\n--XyZ\r\nB: 2\r\n\r\n\r\n--XyZ--',
  'boundary-like content': '--XyZ\r\nC: 3\r\n\r\nx\r\n--XyZabc\r\n--XyZ\ry\r\n--XyZ--\r\n',
  'folded header': '--XyZ\r\nD: one\r\n two\r\n\r\nz\r\n--XyZ--\r\n',
};

describe('writeMultipartFiles', () => {
  for (const [name, text] of Object.entries(BODIES)) {
    it.each([1, 2, 5, 1000])(`writes the parts parseMultipartRelated finds: ${name}, %i-byte chunks`, async (size) => {
      const body = Buffer.from(text, 'latin1');
      const expected = parseMultipartRelated(body, 'XyZ');
      const parts = await written(body, size);
      expect(parts.map((p) => [p.headers, p.body.toString('latin1')])).toEqual(
        expected.map((p) => [p.headers, Buffer.from(p.body).toString('latin1')]),
      );
      for (const p of parts) {
        expect(p.size).toBe(p.body.length);
        expect(p.head.toString('latin1')).toBe(p.body.subarray(0, 4).toString('latin1'));
      }
    });
  }

  it('streams a large part to its file byte for byte', async () => {
    const payload = Buffer.alloc(3 * 2 ** 20);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const body = Buffer.concat([Buffer.from('--XyZ\r\nE: 5\r\n\r\n'), payload, Buffer.from('\r\n--XyZ--\r\n')]);
    const [part] = await written(body, 65_536, 1000);
    expect(Buffer.compare(part!.body, payload)).toBe(0);
    expect(part!.head).toEqual(payload.subarray(0, 1000));
  });

  it.each([
    ['no opening boundary', 'nothing here', /missing opening boundary/],
    ['a body cut short', '--XyZ\r\nF: 6\r\n\r\nhalf a part', /missing closing delimiter/],
  ])('refuses %s, leaving no file behind', async (_name, text, message) => {
    await expect(written(Buffer.from(text), 3)).rejects.toThrow(MultipartError);
    await expect(written(Buffer.from(text), 3)).rejects.toThrow(message);
    expect(await readdir(dir)).toEqual([]);
  });
});
