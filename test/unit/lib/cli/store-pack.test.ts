import { describe, expect, it } from 'vitest';
import { parseMultipartRelated } from '../../../../lambdas/dicom/multipart';
import { multipartOverhead, packRequests, storeBody } from '../../../../lib/cli/store-pack';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const BOUNDARY = 'b0undary';
const { perPart, closing } = multipartOverhead(BOUNDARY);
const item = (name: string, size: number) => ({ name, size });

describe('packRequests', () => {
  it('fills each request up to the limit exactly, in order', () => {
    const limit = closing + 2 * (100 + perPart);
    const { batches, tooLarge } = packRequests([item('a', 100), item('b', 100), item('c', 100), item('d', 1)], limit, BOUNDARY);
    expect(batches.map((b) => b.map((i) => i.name))).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(tooLarge).toEqual([]);
  });

  it('sets apart an item that does not fit an empty request, one byte over', () => {
    const limit = closing + 100 + perPart;
    const { batches, tooLarge } = packRequests([item('fits', 100), item('over', 101), item('small', 10)], limit, BOUNDARY);
    expect(batches.map((b) => b.map((i) => i.name))).toEqual([['fits'], ['small']]);
    expect(tooLarge.map((i) => i.name)).toEqual(['over']);
  });

  it('caps the parts of a request', () => {
    const { batches } = packRequests([item('a', 1), item('b', 1), item('c', 1)], 1_000_000, BOUNDARY, 1);
    expect(batches).toHaveLength(3);
  });

  it('makes a body exactly as long as the packing counted, and well formed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'store-pack-'));
    try {
      const files = [
        { path: path.join(dir, 'a'), size: 5 },
        { path: path.join(dir, 'b'), size: 3 },
      ];
      await writeFile(files[0]!.path, 'aaaaa');
      await writeFile(files[1]!.path, 'bbb');
      const body = await storeBody(files, BOUNDARY);
      expect(body.length).toBe(closing + 2 * perPart + 8);
      const parts = parseMultipartRelated(body, BOUNDARY);
      expect(parts.map((p) => Buffer.from(p.body).toString())).toEqual(['aaaaa', 'bbb']);
      expect(parts[0]!.headers['content-type']).toBe('application/dicom');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
