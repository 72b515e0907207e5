/**
 * Integration: the file threads' writes (lambdas/storage/local/file-io-threads.ts) from buffers lent
 * by the store: the file holds exactly the object's bytes however large the lent buffer and whatever
 * it held before, the buffer comes back after a write and after a failed one, and the caller's bytes
 * are never transferred away. A write given its directory fsyncs it in the same call, and fails as a
 * whole when it cannot.
 */
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileIoThreads, type ThreadBuffers } from '../../../lambdas/storage/local/file-io-threads';
import { bytes } from '../../contract/blob-store.contract';

let dir: string;
let threads: FileIoThreads;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-io-threads-'));
  threads = new FileIoThreads(1);
});
afterAll(async () => {
  await threads.close();
  await rm(dir, { recursive: true, force: true });
});

/** Lends 64 KiB buffers full of 0xAA, and records what comes back. */
function lender(): ThreadBuffers & { readonly lent: number; readonly given: ArrayBuffer[] } {
  const given: ArrayBuffer[] = [];
  let lent = 0;
  return {
    take: (size) => {
      if (size > 65_536) return undefined;
      lent++;
      return new Uint8Array(65_536).fill(0xaa).buffer;
    },
    give: (buffer) => void given.push(buffer),
    get lent() {
      return lent;
    },
    given,
  };
}

describe('FileIoThreads writes', () => {
  it('writes exactly the bytes from a larger lent buffer, gives it back, and leaves the caller a view it still holds', async () => {
    const buffers = lender();
    // A view into a larger buffer, as a multipart part is.
    const whole = bytes(50_000, 3);
    const view = whole.subarray(1_000, 41_000);
    await threads.write({ path: join(dir, 'a'), bytes: view, fsync: true }, buffers);
    expect(Buffer.from(await readFile(join(dir, 'a'))).equals(Buffer.from(view))).toBe(true);
    expect(buffers.lent).toBe(1);
    expect(buffers.given.map((b) => b.byteLength)).toEqual([65_536]);
    expect(whole.byteLength).toBe(50_000); // not detached
    expect(Buffer.from(view).equals(Buffer.from(bytes(50_000, 3).subarray(1_000, 41_000)))).toBe(true);
  });

  it('copies into a buffer of its own when none is lent', async () => {
    const buffers = lender();
    const large = bytes(100_000, 4);
    await threads.write({ path: join(dir, 'b'), bytes: large, fsync: false }, buffers);
    await threads.write({ path: join(dir, 'c'), bytes: bytes(10, 5), fsync: false });
    expect(Buffer.from(await readFile(join(dir, 'b'))).equals(Buffer.from(large))).toBe(true);
    expect(Buffer.from(await readFile(join(dir, 'c'))).equals(Buffer.from(bytes(10, 5)))).toBe(true);
    expect(buffers.lent).toBe(0);
    expect(large.byteLength).toBe(100_000);
  });

  it('gives the lent buffer back when the write fails, and leaves the existing file alone', async () => {
    const buffers = lender();
    await writeFile(join(dir, 'taken'), 'kept');
    await expect(threads.write({ path: join(dir, 'taken'), bytes: bytes(100, 6), fsync: true }, buffers)).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(buffers.given.map((b) => b.byteLength)).toEqual([65_536]);
    expect(await readFile(join(dir, 'taken'), 'utf8')).toBe('kept');
  });

  it('fsyncs the directory in the same call, and a directory it cannot sync fails the write and removes the file', async () => {
    await threads.write({ path: join(dir, 'd'), bytes: bytes(1_000, 7), fsync: true, directory: dir });
    expect(Buffer.from(await readFile(join(dir, 'd'))).equals(Buffer.from(bytes(1_000, 7)))).toBe(true);
    // The directory named is missing: the file was written, then its directory's sync failed.
    const write = threads.write({ path: join(dir, 'e'), bytes: bytes(1_000, 8), fsync: true, directory: join(dir, 'missing') });
    await expect(write).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(access(join(dir, 'e'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
