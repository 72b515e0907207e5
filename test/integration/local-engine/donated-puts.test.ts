/**
 * Integration: puts of a donated body (ports.ts PutOptions.donated) on the local engine's
 * FileBlobStore. On file threads the body's buffer goes to the thread without a copy and, once back,
 * to the store's buffers; a failed first attempt still has the bytes for its retry; a body that does
 * not start its buffer is copied as any other.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../../lambdas/storage/local/file-blobs';
import { bytes } from '../../contract/blob-store.contract';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'donated-puts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `size` bytes of bytes(size) at the start of a buffer of their own of `capacity` bytes (a pooled copy). */
function donatable(size: number, capacity: number): Uint8Array {
  const body = new Uint8Array(new ArrayBuffer(capacity), 0, size);
  body.set(bytes(size));
  return body;
}

const read = async (store: FileBlobStore, key: string) => Buffer.from((await store.get(key))!);

describe('a donated put on file threads', () => {
  const stores: FileBlobStore[] = [];
  const open = (name: string) => {
    const store = new FileBlobStore(join(dir, name), { ioThreads: 1 });
    stores.push(store);
    return store;
  };
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
  });

  it('hands its buffer to the thread without a copy, then keeps it among its buffers', async () => {
    const store = open('given');
    const body = donatable(300_000, 512 * 1024);
    const before = store.buffers.pooledBytes;
    await store.put('s/a.dcm', body, 'application/dicom', { fresh: true, donated: true });
    expect(body.byteLength).toBe(0); // its buffer went to the thread
    expect(store.buffers.pooledBytes).toBe(before + 512 * 1024);
    expect((await read(store, 's/a.dcm')).equals(bytes(300_000))).toBe(true);
    // Not fresh: a temporary file renamed, from the donated buffer too.
    await store.put('s/b.dcm', donatable(70_000, 128 * 1024), 'application/dicom', { donated: true });
    expect((await read(store, 's/b.dcm')).equals(bytes(70_000))).toBe(true);
  });

  it('writes the same bytes again when its directory was removed behind its back (the buffer came back with the failure)', async () => {
    const store = open('removed');
    await store.put('a/b/c', bytes(3), 'text/plain');
    await rm(join(store.root, 'a'), { recursive: true });
    const before = store.buffers.pooledBytes;
    await store.put('a/b/d.dcm', donatable(100_000, 128 * 1024), 'application/dicom', { fresh: true, donated: true });
    expect((await read(store, 'a/b/d.dcm')).equals(bytes(100_000))).toBe(true);
    expect(store.buffers.pooledBytes).toBe(before + 128 * 1024);
  });

  it('takes the buffer of a put refused (a fresh key that exists) and leaves the file there', async () => {
    const store = open('refused');
    await store.put('s/a.dcm', bytes(9), 'application/dicom', { fresh: true });
    const body = donatable(80_000, 128 * 1024);
    const before = store.buffers.pooledBytes;
    await expect(store.put('s/a.dcm', body, 'application/dicom', { fresh: true, donated: true })).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(store.buffers.pooledBytes).toBe(before + 128 * 1024);
    expect((await read(store, 's/a.dcm')).equals(bytes(9))).toBe(true);
  });

  it('copies a body that does not start its buffer, which stays the caller’s', async () => {
    const store = open('view');
    const larger = new Uint8Array(200_000);
    larger.set(bytes(100_000), 50_000);
    const body = larger.subarray(50_000, 150_000);
    await store.put('s/a.dcm', body, 'application/dicom', { fresh: true, donated: true });
    expect(body.byteLength).toBe(100_000);
    expect((await read(store, 's/a.dcm')).equals(bytes(100_000))).toBe(true);
  });
});

describe('a donated put on its own calls', () => {
  it('writes the body and keeps its buffer among its buffers', async () => {
    const store = new FileBlobStore(join(dir, 'own-calls'));
    await store.put('s/a.dcm', donatable(100_000, 128 * 1024), 'application/dicom', { fresh: true, donated: true });
    expect((await read(store, 's/a.dcm')).equals(bytes(100_000))).toBe(true);
    expect(store.buffers.pooledBytes).toBe(128 * 1024);
  });
});
