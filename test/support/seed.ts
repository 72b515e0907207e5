/**
 * Seeds the in-memory fakes through the real Store service, so unit tests of retrieve and delete see
 * exactly the storage layout STOW-RS writes (object keys, metadata JSON, relative BulkDataURIs, counters).
 */
import { newBoundary, writeMultipartRelated } from '../../lambdas/dicom/multipart';
import { StoreService } from '../../lambdas/dicomweb/store';
import { bodyOf } from '../../lambdas/dicomweb/messages';
import type { BlobStore, MetadataIndex } from '../../lambdas/storage/ports';

export async function storeInstances(
  index: MetadataIndex,
  blobs: BlobStore,
  files: readonly Uint8Array[],
  opts: { baseUrl: string; bulkDataThreshold?: number },
): Promise<void> {
  const boundary = newBoundary();
  const chunks: Uint8Array[] = [];
  const parts = files.map((body) => ({ contentType: 'application/dicom', body }));
  for await (const chunk of writeMultipartRelated(parts, boundary)) chunks.push(chunk);
  const store = new StoreService(index, blobs, {
    bulkDataThreshold: opts.bulkDataThreshold ?? 64,
    maxRequestBytes: Number.MAX_SAFE_INTEGER,
  });
  const result = await store.storeInstances({
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
    body: bodyOf(Buffer.concat(chunks)),
    baseUrl: opts.baseUrl,
  });
  if (result.stored !== files.length) {
    throw new Error(`seeding stored ${result.stored} of ${files.length} instances: ${JSON.stringify(result.response)}`);
  }
}
