import { describe, expect, it } from 'vitest';
import { dataSetOf } from '../../../lambdas/dimse/part10-file';
import { dataSetBytes, StreamedDataSetError } from '../../../lambdas/dimse/streamed-data-set';
import { makeInstance } from '../../support/dicom-factory';

async function* chunksOf(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return Buffer.concat(out);
}

describe('dataSetBytes (PS3.10 7.1: the data set after the File Meta Information, from a stream)', () => {
  const file = makeInstance({ approximateBytes: 50_000 });

  it('skips the File Meta Information whatever the chunks, as dataSetOf does for a file held whole', async () => {
    for (const size of [1, 7, 143, 144, 1000, 65_536, file.length]) {
      expect((await collect(dataSetBytes(chunksOf(file, size)))).equals(Buffer.from(dataSetOf(file))), `chunks of ${size}`).toBe(true);
    }
  });

  it('refuses a stream that is no Part 10 file or ends in its File Meta Information', async () => {
    await expect(collect(dataSetBytes(chunksOf(new Uint8Array(500), 100)))).rejects.toThrow(StreamedDataSetError);
    await expect(collect(dataSetBytes(chunksOf(file.subarray(0, 150), 10)))).rejects.toThrow(StreamedDataSetError);
  });
});
