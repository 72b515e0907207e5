/**
 * The behaviours every BlobStore promises (lambdas/storage/ports.ts): bytes back as stored, whole,
 * streamed from an offset or by range; undefined for a missing key; deletes only what it is given; copies without the caller.
 * Run against every adapter: the in-memory one of test/support, S3 on s3rver, and the local engine's
 * (its files alone, and with the instances' DICOM JSON in its index database).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ObjectNotFoundError } from '../../lambdas/storage/errors';
import type { BlobStore } from '../../lambdas/storage/ports';

/** Deterministic bytes that are not all alike, so a shifted or truncated copy is noticed. */
export function bytes(length: number, seed = 7): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<{ body: Buffer; chunks: number }> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return { body: Buffer.concat(chunks), chunks: chunks.length };
}

export function describeBlobStoreContract(name: string, make: () => BlobStore): void {
  describe(`${name} (BlobStore contract)`, () => {
    let store: BlobStore;
    beforeAll(() => {
      store = make();
    });

    it('stores the bytes of a fresh put (a key of its own) like any put', async () => {
      const body = bytes(50_000);
      await store.put('studies/1.2/series/1.2.3/instances/1.2.3.9.0123456789abcdef-01234567.dcm', body, 'application/dicom', {
        fresh: true,
      });
      const got = await store.get('studies/1.2/series/1.2.3/instances/1.2.3.9.0123456789abcdef-01234567.dcm');
      expect(Buffer.from(got!)).toEqual(Buffer.from(body));
    });

    it("keeps an instance's DICOM JSON as any object: whole, by range, streamed, deleted", async () => {
      const key = 'studies/1.2/series/1.2.3/instances/1.2.3.8.0123456789abcdef-01234567.json';
      const body = Buffer.from(JSON.stringify({ '00080018': { vr: 'UI', Value: ['1.2.3.8'] } }));
      await store.put(key, body, 'application/dicom+json', { fresh: true });
      expect(Buffer.from((await store.get(key))!)).toEqual(body);
      expect(Buffer.from((await store.getRange(key, 2, 10))!)).toEqual(body.subarray(2, 10));
      expect((await collect((await store.getStream(key, 3))!)).body).toEqual(body.subarray(3));
      await store.delete([key]);
      expect(await store.get(key)).toBeUndefined();
      expect(await store.getStream(key)).toBeUndefined();
    });

    it('returns the bytes it stored', async () => {
      const body = bytes(70_000);
      await store.put('studies/1.2/series/1.2.3/instances/1.2.3.4.dcm', body, 'application/dicom');
      expect(Buffer.from((await store.get('studies/1.2/series/1.2.3/instances/1.2.3.4.dcm'))!)).toEqual(Buffer.from(body));
    });

    it('overwrites an object put twice under the same key', async () => {
      await store.put('k/overwrite', bytes(10, 1), 'application/octet-stream');
      await store.put('k/overwrite', bytes(20, 2), 'application/octet-stream');
      expect(Buffer.from((await store.get('k/overwrite'))!)).toEqual(Buffer.from(bytes(20, 2)));
    });

    it('streams a large object as chunks that add up to the stored bytes', async () => {
      const body = bytes(3 * 1024 * 1024 + 5, 3);
      await store.put('k/large', body, 'application/dicom');
      const stream = await store.getStream('k/large');
      expect(stream).toBeDefined();
      const { body: read, chunks } = await collect(stream!);
      expect(read.equals(Buffer.from(body))).toBe(true);
      expect(chunks).toBeGreaterThan(1);
    });

    it('streams an object from an offset to its end, and lets a stream go before its end', async () => {
      const body = bytes(1024 * 1024 + 7, 4);
      await store.put('k/offset', body, 'application/dicom');
      const { body: read } = await collect((await store.getStream('k/offset', 300_001))!);
      expect(read.equals(Buffer.from(body.subarray(300_001)))).toBe(true);
      // Abandoned after its first chunk (as a frame walk does at the delimiter): the next read still works.
      const iterator = (await store.getStream('k/offset', 5))![Symbol.asyncIterator]();
      expect(Buffer.from((await iterator.next()).value as Uint8Array)[0]).toBe(body[5]);
      await iterator.return?.();
      expect(Buffer.from((await store.getRange('k/offset', 10, 20))!)).toEqual(Buffer.from(body.subarray(10, 20)));
    });

    it('answers undefined for a missing key, whole, streamed or by range', async () => {
      expect(await store.get('k/missing')).toBeUndefined();
      expect(await store.getStream('k/missing')).toBeUndefined();
      expect(await store.getRange('k/missing', 0, 10)).toBeUndefined();
    });

    it('reads byte ranges [start, end), shorter when the object ends first', async () => {
      const body = bytes(100_000, 5);
      await store.put('k/ranges', body, 'application/dicom');
      expect(Buffer.from((await store.getRange('k/ranges', 0, 10))!)).toEqual(Buffer.from(body.subarray(0, 10)));
      expect(Buffer.from((await store.getRange('k/ranges', 70_001, 90_003))!)).toEqual(Buffer.from(body.subarray(70_001, 90_003)));
      expect(Buffer.from((await store.getRange('k/ranges', 99_990, 200_000))!)).toEqual(Buffer.from(body.subarray(99_990)));
    });

    it('copies an object to another key, which outlives the source, and refuses a missing source', async () => {
      const body = bytes(2 * 1024 * 1024 + 3, 9);
      await store.put('uploads/copy-source-0123456789.dcm', body, 'application/dicom');
      await store.put('studies/1.2/series/1.2.3/instances/1.2.3.5.dcm', bytes(10, 1), 'application/dicom');
      // Over an existing object too: the copy replaces it, as a put would.
      await store.copy('uploads/copy-source-0123456789.dcm', 'studies/1.2/series/1.2.3/instances/1.2.3.5.dcm', 'application/dicom');
      await store.delete(['uploads/copy-source-0123456789.dcm']);
      const copied = await store.get('studies/1.2/series/1.2.3/instances/1.2.3.5.dcm');
      expect(Buffer.from(copied!).equals(Buffer.from(body))).toBe(true);
      await expect(store.copy('uploads/never-written.dcm', 'k/copy-of-nothing', 'application/dicom')).rejects.toBeInstanceOf(
        ObjectNotFoundError,
      );
      expect(await store.get('k/copy-of-nothing')).toBeUndefined();
    });

    it('reads under a lease of its own (ReadLease) as without one, the bytes right until it is released', async () => {
      if (!store.readLease) return; // an adapter that lends no memory reads as every other test shows
      const sizes = [10, 70_000, 300_000, 1_100_000];
      for (const [i, size] of sizes.entries()) await store.put(`lease/${i}`, bytes(size, i), 'application/dicom');
      for (let round = 0; round < 3; round++) {
        const lease = store.readLease();
        const whole = await Promise.all(sizes.map((size, i) => store.get(`lease/${i}`, { lease, size })));
        const ranges = await Promise.all(sizes.map((size, i) => store.getRange(`lease/${i}`, 1, size + 5, { lease })));
        const streams = await Promise.all(sizes.map((size, i) => store.getStream(`lease/${i}`, 2, { lease, size })));
        // A size hint smaller than the object (a stale one) still answers the whole object.
        const hinted = await store.get('lease/3', { lease, size: 100 });
        expect(await store.get('lease/missing', { lease, size: 100 })).toBeUndefined();
        for (const [i, size] of sizes.entries()) {
          const body = Buffer.from(bytes(size, i));
          expect(Buffer.from(whole[i]!).equals(body)).toBe(true);
          expect(Buffer.from(ranges[i]!).equals(body.subarray(1))).toBe(true);
          expect((await collect(streams[i]!)).body.equals(body.subarray(2))).toBe(true);
        }
        expect(Buffer.from(hinted!).equals(Buffer.from(bytes(sizes[3]!, 3)))).toBe(true);
        lease.release();
        lease.release(); // twice is harmless
      }
    });

    it('deletes nothing else', async () => {
      await store.put('keep/a', bytes(3), 'text/plain');
      await store.put('keep/b', bytes(3), 'text/plain');
      await store.delete(['keep/a']);
      expect(await store.get('keep/a')).toBeUndefined();
      expect(await store.get('keep/b')).toBeDefined();
      await store.delete([]);
      expect(await store.get('keep/b')).toBeDefined();
    });
  });
}
