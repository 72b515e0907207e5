/**
 * Unit: a Store request's parts assembled in lent memory (lambdas/dicomweb/store-request.ts
 * PartBuffers): each part is stored from the memory lent for it, which
 * goes back once the part's outcome is known (stored, refused or left unstored), and not when the
 * store failed; the stored bytes are the instance's, whatever the lent memory held before.
 */
import { describe, expect, it } from 'vitest';
import { bodyOf } from '../../../lambdas/dicomweb/messages';
import { StoreService } from '../../../lambdas/dicomweb/store';
import type { PartBuffers } from '../../../lambdas/dicomweb/store-request';
import { makeInstance } from '../../support/dicom-factory';
import { stowBody } from '../../support/http';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';

/** Lends memory full of 0xEE, larger than asked, and records what is lent and given back. */
function recorder(): PartBuffers & { readonly lent: Uint8Array[]; readonly given: Uint8Array[] } {
  const lent: Uint8Array[] = [];
  const given: Uint8Array[] = [];
  return {
    take: (size) => {
      const memory = new Uint8Array(size + 100).fill(0xee).subarray(0, size);
      lent.push(memory);
      return memory;
    },
    give: (part) => void given.push(part),
    lent,
    given,
  };
}

function setup(buffers: PartBuffers, blobs = new MemoryBlobStore()) {
  const index = new MemoryMetadataIndex();
  const store = new StoreService(index, blobs, { bulkDataThreshold: 1024, maxRequestBytes: 50_000_000 }, undefined, buffers);
  const post = (parts: Uint8Array[]) => {
    const { body, contentType } = stowBody(parts);
    return store.storeInstances({ contentType, body: bodyOf(body), baseUrl: 'http://archive' });
  };
  return { index, blobs, post };
}

describe('StoreService with PartBuffers', () => {
  it('stores each part from the memory lent for it and gives it back, also for a refused part', async () => {
    const buffers = recorder();
    const { blobs, index, post } = setup(buffers);
    const files = [makeInstance({ approximateBytes: 3000 }), makeInstance({ approximateBytes: 5000 })];
    const result = await post([...files, new Uint8Array([1, 2, 3])]);
    expect(result.stored).toBe(2);
    expect(result.failed).toBe(1);
    expect(buffers.lent).toHaveLength(3);
    // Each given back once, the very memory lent (a view of it).
    expect(buffers.given.map((g) => buffers.lent.findIndex((l) => l.buffer === g.buffer)).sort()).toEqual([0, 1, 2]);
    for (const file of files) {
      const entry = index.all().find((e) => e.level === 'INSTANCE' && file.length === e.instance?.size)!;
      expect(Buffer.from((await blobs.get(entry.instance!.objectKey))!).equals(Buffer.from(file))).toBe(true);
    }
  });

  it('keeps the memory of a part whose store failed: a call may still hold it', async () => {
    const buffers = recorder();
    const blobs = new MemoryBlobStore();
    blobs.put = () => Promise.reject(new Error('storage unavailable'));
    const { post } = setup(buffers, blobs);
    await expect(post([makeInstance({ approximateBytes: 3000 })])).rejects.toThrow('storage unavailable');
    expect(buffers.lent).toHaveLength(1);
    expect(buffers.given).toEqual([]);
  });
});
