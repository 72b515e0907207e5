import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openUploadJournal } from '../../../../lib/cli/upload-journal';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'upload-journal-'));
  file = path.join(dir, 'uploads.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = { baseUrl: 'http://a', path: '/data/big.dcm', size: 10, mtimeMs: 5, uploadUrl: 'http://a/uploads/u1' };

describe('the upload journal', () => {
  it('finds an upload again in the next run for the same archive, path, size and time only', async () => {
    await (await openUploadJournal(file)).record(entry);
    const next = await openUploadJournal(file);
    expect(next.find(entry)).toEqual(entry);
    expect(next.find({ ...entry, size: 11 })).toBeUndefined();
    expect(next.find({ ...entry, mtimeMs: 6 })).toBeUndefined();
    expect(next.find({ ...entry, baseUrl: 'http://b' })).toBeUndefined();
  });

  it('removes the file when the last upload is forgotten, keeping the others until then', async () => {
    const journal = await openUploadJournal(file);
    const other = { ...entry, path: '/data/other.dcm', uploadUrl: 'http://a/uploads/u2' };
    await Promise.all([journal.record(entry), journal.record(other)]);
    await journal.forget(entry);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual([other]);
    await journal.forget(other);
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
  });

  it('starts empty from a file that is not a journal', async () => {
    await writeFile(file, 'not json');
    expect((await openUploadJournal(file)).find(entry)).toBeUndefined();
  });
});
