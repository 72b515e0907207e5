/**
 * Preparing an instance from a stream of its Part 10 bytes (an upload's object, docs/uploads.md):
 * the same Preparation as prepareInstance (store-prepare.ts).
 */
import { prepareInstance, type Preparation } from './store-prepare';

// replaced by the streamed preparation
export async function prepareStreamedInstance(stream: AsyncIterable<Uint8Array>, bulkDataThreshold: number): Promise<Preparation> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return prepareInstance(Buffer.concat(chunks), bulkDataThreshold);
}
