/**
 * Integration: the local engine's FileBlobStore on a temporary directory passes the BlobStore
 * contract, keeps its objects across a reopening, never shows a put cut short (a crash between the
 * write and the rename) and refuses keys that would leave its directory.
 */
import { mkdir, mkdtemp, open, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidKeySegmentError } from '../../../lambdas/storage/errors';
import { FileIoThreads } from '../../../lambdas/storage/local/file-io-threads';
import { FileBlobStore } from '../../../lambdas/storage/local/file-blobs';
import { temporaryPath } from '../../../lambdas/storage/local/file-temporaries';
import { newEntryDurableWithFile } from '../../../lambdas/storage/local/file-systems';
import { bytes, describeBlobStoreContract } from '../../contract/blob-store.contract';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-blobs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describeBlobStoreContract('FileBlobStore', () => new FileBlobStore(join(dir, 'contract')));
describeBlobStoreContract('FileBlobStore without fsync', () => new FileBlobStore(join(dir, 'contract-nosync'), { fsync: false }));
const threaded: FileBlobStore[] = [];
afterAll(async () => {
  await Promise.all(threaded.map((store) => store.close()));
});
describeBlobStoreContract('FileBlobStore on file threads', () => {
  const store = new FileBlobStore(join(dir, 'contract-threads'), { ioThreads: 2 });
  threaded.push(store);
  return store;
});
// Objects above wholeReadMaxBytes stream from the file instead of coming whole from a thread.
describeBlobStoreContract('FileBlobStore on file threads, small chunks', () => {
  const store = new FileBlobStore(join(dir, 'contract-threads-chunks'), { ioThreads: 1, chunkSize: 1024, wholeReadMaxBytes: 2048 });
  threaded.push(store);
  return store;
});

const KEY = 'studies/1.2/series/1.2.3/instances/1.2.3.4.abcdef0123456789-01234567.dcm';

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length + 1));
}

describe('FileBlobStore on a directory', () => {
  it('lays objects out like the S3 keys, one file per key, and reads them after reopening', async () => {
    const root = join(dir, 'layout');
    await new FileBlobStore(root).put(KEY, bytes(1000), 'application/dicom');
    expect(await filesUnder(root)).toEqual([KEY]);
    const reopened = await FileBlobStore.open(root);
    expect(Buffer.from((await reopened.get(KEY))!)).toEqual(Buffer.from(bytes(1000)));
  });

  it('never shows a put cut between its write and its rename, and sweeps its temporary file at open', async () => {
    const root = join(dir, 'crash');
    const store = new FileBlobStore(root);
    await store.put('k/kept', bytes(10), 'text/plain');
    // What a crash after the write and before the rename leaves: a temporary file beside the object.
    const path = join(root, 'k', 'cut');
    const leftover = temporaryPath(path);
    await writeFile(leftover, bytes(50));
    expect(await store.get('k/cut')).toBeUndefined();
    expect(await store.getStream('k/cut')).toBeUndefined();
    expect(await store.getRange('k/cut', 0, 5)).toBeUndefined();
    // No key names a temporary file.
    const name = leftover.slice(dirname(leftover).length + 1);
    await expect(store.get(`k/${name}`)).rejects.toBeInstanceOf(InvalidKeySegmentError);

    const reopened = await FileBlobStore.open(root);
    expect(await filesUnder(root)).toEqual(['k/kept']);
    expect(Buffer.from((await reopened.get('k/kept'))!)).toEqual(Buffer.from(bytes(10)));
    expect(await reopened.removeTemporaryFiles()).toBe(0);
  });

  it('a sweep leaves the temporary files of puts under way alone', async () => {
    const root = join(dir, 'sweep-during-put');
    await mkdir(root, { recursive: true });
    const store = new FileBlobStore(root);
    const body = bytes(8 * 1024 * 1024, 9);
    const puts = Array.from({ length: 4 }, (_, i) => store.put(`p/${i}`, body, 'application/dicom'));
    const sweeps = [store.removeTemporaryFiles(), store.removeTemporaryFiles()];
    await Promise.all([...puts, ...sweeps]);
    for (let i = 0; i < 4; i++) expect((await store.get(`p/${i}`))?.byteLength).toBe(body.byteLength);
    expect((await filesUnder(root)).sort()).toEqual(['p/0', 'p/1', 'p/2', 'p/3']);
  });

  it('a reader sees the old bytes or the new ones while an object is overwritten, never a mix', async () => {
    const store = new FileBlobStore(join(dir, 'overwrite'));
    const a = Buffer.from(bytes(2 * 1024 * 1024, 1));
    const b = Buffer.from(bytes(2 * 1024 * 1024, 2));
    await store.put('k/o', a, 'application/dicom');
    const writes = Array.from({ length: 6 }, (_, i) => store.put('k/o', i % 2 ? a : b, 'application/dicom'));
    const reads = Array.from({ length: 12 }, () => store.get('k/o'));
    await Promise.all(writes);
    for (const read of await Promise.all(reads)) {
      const got = Buffer.from(read!);
      expect(got.equals(a) || got.equals(b)).toBe(true);
    }
  });

  it('fdatasyncs the file, fsyncs its directory and the parent of each directory a put created; nothing without fsync or for a reproducible object', async () => {
    const root = join(dir, 'fsync');
    await mkdir(root, { recursive: true });
    const probe = await open(join(root, 'probe'), 'w');
    const FileHandle = Object.getPrototypeOf(probe) as { sync(): Promise<void>; datasync(): Promise<void> };
    await probe.close();
    const sync = vi.spyOn(FileHandle, 'sync');
    const datasync = vi.spyOn(FileHandle, 'datasync');
    try {
      // studies/, 1.2/ and series/ are new: root, studies and 1.2 gain an entry, series its file.
      await new FileBlobStore(root).put('studies/1.2/series/x.dcm', bytes(10), 'application/dicom');
      expect(datasync).toHaveBeenCalledTimes(1);
      expect(sync).toHaveBeenCalledTimes(4);
      sync.mockClear();
      datasync.mockClear();
      await new FileBlobStore(root).put('studies/1.2/series/y.dcm', bytes(10), 'application/dicom');
      expect(datasync).toHaveBeenCalledTimes(1);
      expect(sync).toHaveBeenCalledTimes(1);
      sync.mockClear();
      datasync.mockClear();
      await new FileBlobStore(root, { fsync: false }).put('studies/1.3/series/z.dcm', bytes(10), 'application/dicom');
      expect(sync).not.toHaveBeenCalled();
      expect(datasync).not.toHaveBeenCalled();
      // A reproducible object (a derived image) in a known directory: neither its file nor the directory.
      await new FileBlobStore(root).put('studies/1.2/series/y.derived.thumbnail.jpg', bytes(10), 'image/jpeg', { reproducible: true });
      expect(sync).not.toHaveBeenCalled();
      expect(datasync).not.toHaveBeenCalled();
    } finally {
      sync.mockRestore();
      datasync.mockRestore();
    }
  });

  it('shares directory fsyncs among concurrent puts, none settling before a directory fsync has ended', async () => {
    const root = join(dir, 'group');
    await mkdir(root, { recursive: true });
    const probe = await open(join(root, 'probe'), 'w');
    const FileHandle = Object.getPrototypeOf(probe) as { sync(): Promise<void> };
    await probe.close();
    const store = new FileBlobStore(root);
    await store.put('s/first', bytes(1), 'text/plain'); // the directory exists and is known
    const events: string[] = [];
    const original = FileHandle.sync;
    const sync = vi.spyOn(FileHandle, 'sync').mockImplementation(async function (this: unknown) {
      events.push('sync-start');
      await new Promise((resolve) => setTimeout(resolve, 5));
      await original.call(this);
      events.push('sync-end');
    });
    try {
      const puts = Array.from({ length: 16 }, (_, i) => store.put(`s/o${i}`, bytes(100), 'text/plain').then(() => events.push(`put-${i}`)));
      await Promise.all(puts);
      // Fewer directory fsyncs than puts: concurrent ones joined a sync.
      expect(sync.mock.calls.length).toBeLessThan(16);
      expect(sync.mock.calls.length).toBeGreaterThan(0);
      // No put settles before some directory fsync has ended.
      expect(events.findIndex((e) => e.startsWith('put-'))).toBeGreaterThan(events.indexOf('sync-end'));
      for (let i = 0; i < 16; i++) expect(Buffer.from((await store.get(`s/o${i}`))!).equals(bytes(100))).toBe(true);
    } finally {
      sync.mockRestore();
    }
  });

  it('makes a directory removed behind its back again', async () => {
    const root = join(dir, 'removed');
    const store = await FileBlobStore.open(root);
    await store.put('a/b/c', bytes(3), 'text/plain');
    await rm(join(root, 'a'), { recursive: true });
    await store.put('a/b/d', bytes(4), 'text/plain');
    expect(Buffer.from((await store.get('a/b/d'))!).equals(bytes(4))).toBe(true);
  });

  it('deletes many keys, ignoring missing ones', async () => {
    const store = new FileBlobStore(join(dir, 'delete'));
    await Promise.all(['d/1', 'd/2', 'd/3'].map((k) => store.put(k, bytes(3), 'text/plain')));
    await store.delete(['d/1', 'd/2', 'd/never-written', 'nowhere/at/all']);
    expect(await store.get('d/1')).toBeUndefined();
    expect(await store.get('d/2')).toBeUndefined();
    expect(await store.get('d/3')).toBeDefined();
  });

  it('answers undefined for a key naming a directory of other objects, or below an object', async () => {
    const store = new FileBlobStore(join(dir, 'shapes'));
    await store.put('a/b/c', bytes(3), 'text/plain');
    expect(await store.get('a/b')).toBeUndefined();
    expect(await store.getStream('a/b')).toBeUndefined();
    expect(await store.get('a/b/c/d')).toBeUndefined();
  });

  it.each([['../outside'], ['a/../../outside'], ['/etc/passwd'], ['a//b'], ['a/./b'], ['a/\0b'], ['a\\..\\b'], [''], ['a/.hidden']])(
    'refuses the key %j',
    async (key) => {
      const store = new FileBlobStore(join(dir, 'refuse'));
      await expect(store.put(key, bytes(3), 'text/plain')).rejects.toBeInstanceOf(InvalidKeySegmentError);
      await expect(store.get(key)).rejects.toBeInstanceOf(InvalidKeySegmentError);
      await expect(store.getRange(key, 0, 1)).rejects.toBeInstanceOf(InvalidKeySegmentError);
      await expect(store.getStream(key)).rejects.toBeInstanceOf(InvalidKeySegmentError);
      await expect(store.delete([key])).rejects.toBeInstanceOf(InvalidKeySegmentError);
    },
  );
});

describe('FileBlobStore on file threads', () => {
  it('answers a write the file system refuses with its error, and leaves no temporary file', async () => {
    const root = join(dir, 'threads-refused');
    const store = new FileBlobStore(root, { ioThreads: 1 });
    try {
      await store.put('x/y/z', bytes(5), 'text/plain');
      // x/y is a directory: renaming the temporary file over it fails (EISDIR) on the thread.
      await expect(store.put('x/y', bytes(5), 'text/plain')).rejects.toMatchObject({
        code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/),
      });
      expect((await filesUnder(root)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(Buffer.from((await store.get('x/y/z'))!).equals(bytes(5))).toBe(true);
      expect(await store.get('x/y')).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it("skips a fresh put's directory fsync where the file's fsync makes its entry durable, never a renamed put's", async () => {
    const write = vi.spyOn(FileIoThreads.prototype, 'write');
    const store = new FileBlobStore(join(dir, 'entry-durable'), { ioThreads: 1, newEntryDurableWithFile: true });
    try {
      await store.put('s/1.2/x.dcm', bytes(9), 'application/dicom', { fresh: true });
      write.mockClear();
      await store.put('s/1.2/y.dcm', bytes(9), 'application/dicom', { fresh: true });
      await store.put('s/1.2/z.dcm', bytes(9), 'application/dicom');
      expect(write.mock.calls.map(([request]) => [request.fsync, request.temporary === undefined, request.directory])).toEqual([
        [true, true, undefined],
        [true, false, join(dir, 'entry-durable', 's', '1.2')],
      ]);
      expect(new Uint8Array((await store.get('s/1.2/y.dcm'))!)).toEqual(new Uint8Array(bytes(9)));
    } finally {
      write.mockRestore();
      await store.close();
    }
  });

  it('asks the file system whether a new entry is durable with its file (ext4, XFS), and answers no for a path it cannot ask', async () => {
    const root = join(dir, 'asked');
    await mkdir(root, { recursive: true });
    const type = (await statfs(root)).type;
    expect(await newEntryDurableWithFile(root)).toBe(process.platform === 'linux' && (type === 0xef53 || type === 0x58465342));
    expect(await newEntryDurableWithFile(join(dir, 'no such directory'))).toBe(false);
  });

  it("syncs a put's directory in the write's own call, not in a call of its own; nothing without fsync", async () => {
    const write = vi.spyOn(FileIoThreads.prototype, 'write');
    const syncDirectory = vi.spyOn(FileIoThreads.prototype, 'syncDirectory');
    const store = new FileBlobStore(join(dir, 'threads-sync'), { ioThreads: 1 });
    const unsynced = new FileBlobStore(join(dir, 'threads-nosync'), { ioThreads: 1, fsync: false });
    try {
      await store.put('s/1.2/x.dcm', bytes(9), 'application/dicom', { fresh: true });
      syncDirectory.mockClear(); // the directories the put created were synced in their parents
      await store.put('s/1.2/y.dcm', bytes(9), 'application/dicom', { fresh: true });
      await store.put('s/1.2/z.dcm', bytes(9), 'application/dicom');
      expect(write.mock.calls.slice(1).map(([request]) => request.directory)).toEqual([
        join(dir, 'threads-sync', 's', '1.2'),
        join(dir, 'threads-sync', 's', '1.2'),
      ]);
      expect(syncDirectory).not.toHaveBeenCalled();
      write.mockClear();
      await unsynced.put('s/1.2/x.dcm', bytes(9), 'application/dicom');
      expect(write.mock.calls.map(([request]) => request.directory)).toEqual([undefined]);
      expect(syncDirectory).not.toHaveBeenCalled();
    } finally {
      write.mockRestore();
      syncDirectory.mockRestore();
      await store.close();
      await unsynced.close();
    }
  });

  it('falls back to its own calls once its threads are closed', async () => {
    const store = new FileBlobStore(join(dir, 'threads-closed'), { ioThreads: 1 });
    await store.put('a/b', bytes(7), 'text/plain');
    await store.close();
    await store.put('a/c', bytes(8), 'text/plain');
    expect(Buffer.from((await store.get('a/b'))!).equals(bytes(7))).toBe(true);
    expect(Buffer.from((await store.get('a/c'))!).equals(bytes(8))).toBe(true);
  });
});

describe.each([
  ['its own calls', {}],
  ['file threads', { ioThreads: 1 }],
])('a fresh put on %s', (_name, options) => {
  it('writes the object in place, refuses a key that exists and leaves that file', async () => {
    const root = join(dir, `fresh-${Object.keys(options).length}`);
    const store = new FileBlobStore(root, options);
    try {
      await store.put('s/a.dcm', bytes(9), 'application/dicom', { fresh: true });
      expect(await filesUnder(root)).toEqual(['s/a.dcm']);
      await expect(store.put('s/a.dcm', bytes(4), 'application/dicom', { fresh: true })).rejects.toMatchObject({ code: 'EEXIST' });
      expect(Buffer.from((await store.get('s/a.dcm'))!).equals(bytes(9))).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('FileBlobStore copy', () => {
  it('links the source file (one inode, no second write) and puts streamed chunks as one object', async () => {
    const store = new FileBlobStore(join(dir, 'copy'));
    await store.putStream(
      'uploads/linked-0123456789abcdef.dcm',
      (async function* () {
        yield bytes(1000, 1);
        yield bytes(500, 2);
      })(),
    );
    await store.copy('uploads/linked-0123456789abcdef.dcm', KEY, 'application/dicom');
    const { stat } = await import('node:fs/promises');
    const source = await stat(join(dir, 'copy', 'uploads', 'linked-0123456789abcdef.dcm'));
    const copied = await stat(join(dir, 'copy', ...KEY.split('/')));
    expect(copied.ino).toBe(source.ino);
    expect(Buffer.from((await store.get(KEY))!)).toEqual(Buffer.concat([bytes(1000, 1), bytes(500, 2)]));
    expect((await readdir(join(dir, 'copy', 'uploads'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('FileBlobStore leases (read-buffer-pool.ts)', () => {
  it('reads into memory a released lease gave back: bytes read before belong to the next read', async () => {
    const store = new FileBlobStore(join(dir, 'leases'), { ioThreads: 1 });
    try {
      await store.put('k/a', bytes(100_000, 1), 'application/dicom');
      await store.put('k/b', bytes(100_000, 2), 'application/dicom');
      const first = store.readLease();
      const a = (await store.get('k/a', { lease: first, size: 100_000 }))!;
      expect(Buffer.from(a).equals(Buffer.from(bytes(100_000, 1)))).toBe(true);
      // Held by the first lease: the second reads into other memory, and `a` is left alone.
      const second = store.readLease();
      const b = (await store.get('k/b', { lease: second, size: 100_000 }))!;
      expect(Buffer.from(a).equals(Buffer.from(bytes(100_000, 1)))).toBe(true);
      first.release();
      // Given back: the next read takes the same memory (sent to the file thread, so `a` is emptied).
      const again = (await store.get('k/b', { lease: second, size: 100_000 }))!;
      expect(a.byteLength).toBe(0);
      expect(Buffer.from(again).equals(Buffer.from(b))).toBe(true);
      second.release();
    } finally {
      await store.close();
    }
  });

  it('reads without a lease into memory of their own', async () => {
    const store = new FileBlobStore(join(dir, 'no-lease'), { ioThreads: 1 });
    try {
      await store.put('k/a', bytes(100_000, 1), 'application/dicom');
      const lease = store.readLease();
      const a = (await store.get('k/a'))!;
      lease.release();
      await store.get('k/a', { lease: store.readLease(), size: 100_000 });
      expect(Buffer.from(a).equals(Buffer.from(bytes(100_000, 1)))).toBe(true);
    } finally {
      await store.close();
    }
  });
});
